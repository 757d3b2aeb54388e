/**
 * `toolproxy/livekit-agents`: the proxy's tools for @livekit/agents voice agents. Function tools
 * whose calls the framework can cancel, a toolset that follows the room's providers, and the
 * session's end as the proxy's `session:end`.
 */
export {
  type JsonSchemaParameters,
  type LiveKitAgentToolsOptions,
  liveKitAgentTool,
  liveKitAgentTools,
  type SessionKeyOption,
  toToolError,
} from './function-tools.js';
export { bindAgentSession, type ClosingSession } from './session.js';
export {
  DEFAULT_TOOLSET_DEBOUNCE_MS,
  DEFAULT_TOOLSET_ID,
  type LiveKitAgentToolsetOptions,
  liveKitAgentToolset,
} from './toolset.js';
