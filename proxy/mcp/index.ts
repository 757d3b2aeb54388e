/** The proxy's MCP front: one MCP server per connection, over Streamable HTTP or stdio. */
export { UNEXPECTED_FAILURE_TEXT } from './call-result.js';
export {
  CLAUDE_CODE_TOOL_USE_META,
  HERMES_CONTEXT_META,
  mcpSessionChannel,
  SESSION_KEY_META,
} from './call-placement.js';
export type { CallContext } from './call-tool.js';
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
export { type McpRelayOptions, serveMcpRelay } from './relay.js';
export { RELAY_CALL_LIMITS, type RelayCallLimits } from './relay-call.js';
export { connectHttpUpstream, type HttpUpstreamOptions } from './relay-http.js';
export {
  HEALTH_SERVICE,
  isAddressInUse,
  isToolproxyAt,
  portTakenMessage,
  type ProbeOptions,
} from './relay-probe.js';
export {
  type RelayProcess,
  type RelayProcessOptions,
  type ServingProxy,
  startRelay,
} from './relay-takeover.js';
export {
  connectLocalUpstream,
  type LocalUpstreamOptions,
  type RelayUpstream,
} from './relay-upstream.js';
export {
  type McpStdioOptions,
  type McpStdioSession,
  STDIO_CHANNEL,
  serveMcpStdio,
} from './stdio.js';
