/**
 * The wire protocol, as zod schemas: the single source of truth for every frame.
 * Received frames are parsed tolerantly (unknown keys are ignored); emitted frames are built from
 * these types. Field names are snake_case on the wire. See PROTOCOL.md.
 */
import { z } from 'zod';
import { CANCEL_REASONS, type CancelReason } from '../shared/errors.js';
import { ContentBlocksSchema } from './content-blocks.js';

/** Version of the toolproxy additions; hermes-livekit v0.3 frames carry no version at all. */
export const PROTOCOL_VERSION = 1;

/** Caps that apply while parsing, before any frame reaches the registry or a call. */
export const WIRE_LIMITS = {
  callIdLength: 128,
  toolNameLength: 256,
  progressMessageLength: 1_000,
  loggerNameLength: 256,
  errorMessageLength: 8_192,
  batchSize: 256,
} as const;

const callId = z.string().min(1).max(WIRE_LIMITS.callIdLength);
/**
 * New: when the proxy sent the frame, on its own clock (epoch ms), so a provider can tell how late
 * a call reached it (PROTOCOL.md section 3.5). Read tolerantly: a value that is not a time is
 * dropped, not the frame with it; a frame without one is taken as fresh.
 */
const sentAtMs = z.number().nonnegative().optional().catch(undefined);
const jsonObject = z.record(z.string(), z.unknown());

export const ToolAnnotationsSchema = z.object({
  title: z.string().max(200).optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});
export type ToolAnnotations = z.infer<typeof ToolAnnotationsSchema>;

export const ToolMetadataSchema = z.object({
  /** Per-tool deadline in ms (hermes-livekit's design name); clamped by the proxy's maximum. */
  max_execution_time_ms: z.number().int().positive().optional(),
  /** MCP tool annotations, passed to agents as hints. */
  annotations: ToolAnnotationsSchema.optional(),
});
export type ToolMetadata = z.infer<typeof ToolMetadataSchema>;

/** One tool as a provider describes it (the body of `client:tool-register`). */
export const ToolRegistrationSchema = z.object({
  name: z.string().max(WIRE_LIMITS.toolNameLength),
  description: z.string().default(''),
  input_schema: jsonObject,
  metadata: ToolMetadataSchema.optional(),
});
export type ToolRegistration = z.infer<typeof ToolRegistrationSchema>;

// ---- provider -> proxy -------------------------------------------------------------------------

export const ToolRegisterFrame = ToolRegistrationSchema.extend({
  type: z.literal('client:tool-register'),
});

/** New: several tools in one frame; `replace: true` makes the list the provider's complete set. */
export const ToolRegisterBatchFrame = z.object({
  type: z.literal('client:tool-register-batch'),
  tools: z.array(z.unknown()).max(WIRE_LIMITS.batchSize),
  replace: z.boolean().default(false),
});

export const ToolUnregisterFrame = z.object({
  type: z.literal('client:tool-unregister'),
  name: z.string().max(WIRE_LIMITS.toolNameLength),
});

export const RemoteErrorSchema = z.union([
  z.string().max(WIRE_LIMITS.errorMessageLength),
  z.object({
    message: z.string().max(WIRE_LIMITS.errorMessageLength),
    code: z.string().max(200).optional(),
    data: z.unknown().optional(),
  }),
]);

/**
 * hermes-livekit semantics: an `error` that is present and not null wins; otherwise `result`.
 * New: `content`, MCP content blocks for the model (images, audio, resources); `result` is then
 * the structured value beside them. `content: null` counts as absent, as `error: null` does; a
 * malformed `content` fails the frame, and so the call.
 */
export const ToolResultFrame = z.object({
  type: z.literal('client:tool-result'),
  call_id: callId,
  result: z.unknown().optional(),
  content: ContentBlocksSchema.nullish(),
  error: RemoteErrorSchema.nullish(),
});

/** New: progress on a running call; `progress` must increase (MCP rule). */
export const ToolProgressFrame = z.object({
  type: z.literal('client:tool-progress'),
  call_id: callId,
  progress: z.number(),
  total: z.number().optional(),
  message: z.string().max(WIRE_LIMITS.progressMessageLength).optional(),
});

/** MCP's log levels (RFC 5424 severities), least severe first. */
export const TOOL_LOG_LEVELS = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;
export type ToolLogLevel = (typeof TOOL_LOG_LEVELS)[number];

/**
 * New: a log message from a running call, for the agent (MCP `notifications/message`). `data` is
 * any JSON value and required (`null` will do); the frame cap bounds it. Unlike progress, a log
 * does not restart the call's deadline: it says nothing about the work moving on.
 */
export const ToolLogFrame = z.object({
  type: z.literal('client:tool-log'),
  call_id: callId,
  level: z.enum(TOOL_LOG_LEVELS),
  data: z.unknown(),
  logger: z.string().max(WIRE_LIMITS.loggerNameLength).optional(),
});

/** A `client:tool-log` as the caller of the call gets it. */
export interface ToolLogEntry {
  readonly level: ToolLogLevel;
  readonly data: unknown;
  readonly logger: string | undefined;
}

/** New: the answer to `agent:ping`. */
export const PongFrame = z.object({ type: z.literal('client:pong') });

export const ProviderFrameSchemas = {
  'client:tool-register': ToolRegisterFrame,
  'client:tool-register-batch': ToolRegisterBatchFrame,
  'client:tool-unregister': ToolUnregisterFrame,
  'client:tool-result': ToolResultFrame,
  'client:tool-progress': ToolProgressFrame,
  'client:tool-log': ToolLogFrame,
  'client:pong': PongFrame,
} as const;
export type ProviderFrameType = keyof typeof ProviderFrameSchemas;
export type ProviderFrame = z.infer<(typeof ProviderFrameSchemas)[ProviderFrameType]>;

// ---- proxy -> provider -------------------------------------------------------------------------

/** New: sent when the proxy joins or rejoins, so providers (re)register. */
export const HelloFrame = z.object({
  type: z.literal('agent:hello'),
  protocol_version: z.number().int(),
  default_timeout_ms: z.number().positive(),
  max_tool_timeout_ms: z.number().positive(),
  sent_at_ms: sentAtMs,
});

export const ToolRegisteredFrame = z.object({
  type: z.literal('agent:tool-registered'),
  name: z.string(),
  success: z.boolean(),
  reason: z.string().optional(),
  detail: z.string().optional(),
  /** The name agents see, when it differs from `name` (a collision suffix). */
  exposed_name: z.string().optional(),
  /**
   * New: with reason `rate-limited`, whole ms until a registration would be admitted. Read
   * tolerantly: a value that is not a number of ms is dropped, not the answer with it.
   */
  retry_after_ms: z.number().nonnegative().optional().catch(undefined),
  sent_at_ms: sentAtMs,
});

export const ToolUnregisteredFrame = z.object({
  type: z.literal('agent:tool-unregistered'),
  name: z.string(),
  success: z.boolean(),
  reason: z.string().optional(),
});

export const ToolCallFrame = z.object({
  type: z.literal('agent:tool-call'),
  call_id: callId,
  name: z.string(),
  arguments: jsonObject,
  /**
   * New: the call's idle deadline in ms, counted from when it was sent. Progress from the provider
   * restarts it (up to the proxy's hard maximum), so the proxy may wait longer, never shorter.
   */
  timeout_ms: z.number().positive().optional(),
  sent_at_ms: sentAtMs,
  /**
   * New: how long after `sent_at_ms` the proxy may have given up on this provider (its liveness
   * window). A provider that gets the call later answers CALL_STALE without running it.
   */
  stale_after_ms: z.number().positive().optional().catch(undefined),
});

const cancelReason = z.enum(CANCEL_REASONS as [CancelReason, ...CancelReason[]]);

export const ToolCallCancelledFrame = z.object({
  type: z.literal('agent:tool-call-cancelled'),
  call_id: callId,
  name: z.string().optional(),
  // Tolerant on receipt: hermes-livekit v0.3 proxies send "session-reset"; future ones may add reasons.
  reason: z.union([cancelReason, z.string()]).optional(),
  detail: z.string().optional(),
});

export const ToolCallTimeoutFrame = z.object({
  type: z.literal('agent:tool-call-timeout'),
  call_id: callId,
  name: z.string().optional(),
});

/**
 * New: the sender is over a budget (PROTOCOL.md section 13); sent at most once a second while it
 * lasts. Advisory: a provider that ignores it, as the forward-compatibility rule lets it, loses
 * only the hint.
 */
export const RateLimitedFrame = z.object({
  type: z.literal('agent:rate-limited'),
  /** Which budget: `frames` (registrations are answered one by one, reason `rate-limited`). */
  limit: z.string(),
  per_second: z.number().positive(),
  burst: z.number().positive(),
  /** Frames dropped since the previous notice, this one's trigger included. */
  dropped: z.number().int().nonnegative(),
  retry_after_ms: z.number().nonnegative(),
  detail: z.string().optional(),
});

/**
 * New: "are you there?", sent on transports that learn of a dead peer late (LiveKit: about 20 s
 * after a crash) to each provider with calls in flight, every second or so. A provider that has
 * answered one with `client:pong` is taken to be gone once nothing has come from it for
 * `timeout_ms`; one that never answers (hermes-livekit v0.3) is left to the transport.
 */
export const PingFrame = z.object({
  type: z.literal('agent:ping'),
  /** How long the proxy waits for a frame from this provider before giving it up. */
  timeout_ms: z.number().positive(),
  sent_at_ms: sentAtMs,
});

export const ProxyFrameSchemas = {
  'agent:hello': HelloFrame,
  'agent:ping': PingFrame,
  'agent:tool-registered': ToolRegisteredFrame,
  'agent:tool-unregistered': ToolUnregisteredFrame,
  'agent:tool-call': ToolCallFrame,
  'agent:tool-call-cancelled': ToolCallCancelledFrame,
  'agent:tool-call-timeout': ToolCallTimeoutFrame,
  'agent:rate-limited': RateLimitedFrame,
} as const;
export type ProxyFrameType = keyof typeof ProxyFrameSchemas;
export type ProxyFrame = z.infer<(typeof ProxyFrameSchemas)[ProxyFrameType]>;

/** What the proxy sends, typed from the schemas (input side: defaults may be omitted). */
export type OutboundProxyFrame = z.input<(typeof ProxyFrameSchemas)[ProxyFrameType]>;
export type OutboundProviderFrame = z.input<(typeof ProviderFrameSchemas)[ProviderFrameType]>;
