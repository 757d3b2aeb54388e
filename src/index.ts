/** toolproxy: the agent-side core. Transport-agnostic; bridges live in `toolproxy/*` subpaths. */

export type { ProgressUpdate } from './tool-proxy/calls/pending-call.js';
// `proxy.call()` resolves with a ToolResultContent when the provider sent content blocks, and with
// the plain `result` otherwise: a class, because parsed JSON can never pass for one (rich-result.ts).
export {
  isToolResultContent,
  toolContent,
  ToolResultContent,
  type ToolResultContentJson,
} from './protocol/rich-result.js';
export type { ChannelHandlers, PeerInfo, ToolChannel } from './shared/channel.js';
export { FrameTooLargeError } from './shared/channel.js';
export {
  CANCEL_REASONS,
  CancelReason,
  describeUnknown,
  ErrorCode,
  isToolProxyError,
  ToolProxyError,
  type ToolProxyErrorOptions,
} from './shared/errors.js';
export { type Handler, HookBus, type Unsubscribe } from './shared/bus.js';
export {
  type AgentLoopStopped,
  type NotificationEvent,
  type StopEvent,
  type CallInfo,
  type CallOutcome,
  type HookEventName,
  type HookEvents,
  type LifecycleEventName,
  type LifecycleEvents,
  type ProxyEvents,
  parseLifecycleEvent,
  type SessionEvent,
  type ToolSummary,
} from './tool-proxy/hooks/events.js';
export { type Logger, silentLogger } from './shared/logger.js';
export {
  type DecodeResult,
  decodeFrame,
  encodeFrame,
  type FrameProblem,
} from './protocol/codec.js';
export {
  DEFAULT_MAX_JSON_DEPTH,
  type JsonScan,
  scanJson,
  tooDeepMessage,
} from './protocol/json-depth.js';
// The wire's types and limits; its zod schemas stay internal (their shape is not an API).
export {
  type AudioBlock,
  CONTENT_LIMITS,
  type ContentAnnotations,
  type ContentBlock,
  type ContentBlockInput,
  type ImageBlock,
  type ResourceBlock,
  type ResourceContents,
  type ResourceLinkBlock,
  type TextBlock,
} from './protocol/content-blocks.js';
export {
  type OutboundProviderFrame,
  type OutboundProxyFrame,
  PROTOCOL_VERSION,
  type ProviderFrame,
  type ProviderFrameType,
  type ProxyFrame,
  type ProxyFrameType,
  TOOL_LOG_LEVELS,
  type ToolAnnotations,
  type ToolLogEntry,
  type ToolLogLevel,
  type ToolMetadata,
  type ToolRegistration,
  WIRE_LIMITS,
} from './protocol/frames.js';
export { defineTool, type ToolContext, type ToolDefinition } from './provider/define-tool.js';
export { type ProviderEvents, ToolProvider, type ToolProviderOptions } from './provider/runtime.js';
export {
  allowAllProviders,
  type RegistrationFailure,
  type RegistrationPolicy,
  type RegistrationRequest,
} from './tool-proxy/registry/registry.js';
export { inputCorrelation, toolUseCorrelation } from './tool-proxy/sessions/correlation.js';
export {
  type LifecycleOptions,
  type LifecycleOutcome,
  sessionOf,
} from './tool-proxy/sessions/lifecycle.js';
export type {
  BindingResult,
  CancelRule,
  SessionEvidence,
} from './tool-proxy/sessions/session-router.js';
export type { ProxyStats } from './tool-proxy/stats.js';
export { systemTimers, type Timers } from './shared/timers.js';
export {
  type CallOptions,
  type ExposedTool,
  ToolProxy,
  type ToolProxyOptions,
} from './tool-proxy/tool-proxy.js';
