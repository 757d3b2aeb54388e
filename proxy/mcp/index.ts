/**
 * toolproxy/mcp: the proxy's MCP front, one MCP server per connection, over Streamable HTTP
 * (`McpHttpEndpoint`, a request handler to mount) or stdio (`serveMcpStdio`). The relay that a
 * second `serve --mcp stdio` runs is the CLI's, not part of this entry.
 */
export {
  CLAUDE_CODE_TOOL_USE_META,
  HERMES_CONTEXT_META,
  SESSION_KEY_META,
} from './call-placement.js';
export {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_IDLE_MS,
  McpHttpEndpoint,
  type McpHttpEndpointOptions,
} from './http.js';
export {
  createMcpServer,
  DEFAULT_LIST_CHANGED_DEBOUNCE_MS,
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_VERSION,
  type McpServerHandle,
  type McpServerOptions,
} from './server.js';
export { type McpStdioOptions, type McpStdioSession, serveMcpStdio } from './stdio.js';
