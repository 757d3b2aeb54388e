/** The proxy's MCP front: one MCP server per connection, over Streamable HTTP or stdio. */
export { UNEXPECTED_FAILURE_TEXT } from './call-result.js';
export { type CallContext, SESSION_KEY_META } from './call-tool.js';
export { McpHttpEndpoint, type McpHttpEndpointOptions } from './http.js';
export {
  createMcpServer,
  DEFAULT_LIST_CHANGED_DEBOUNCE_MS,
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_VERSION,
  type McpServerHandle,
  type McpServerOptions,
} from './server.js';
export { type McpStdioOptions, type McpStdioSession, serveMcpStdio } from './stdio.js';
