/**
 * One error class for everything toolproxy rejects with. `code` is stable and meant for programs;
 * `message` is written for the LLM (or person) that reads it and says what to do next.
 */

export const ErrorCode = {
  /** The tool did not answer before its deadline. */
  Timeout: 'TIMEOUT',
  /** The call was cancelled (see `reason`): stop, reset, session end, caller abort, shutdown. */
  Cancelled: 'CANCELLED',
  /** The provider that registered the tool left (or the connection to it was lost) mid-call. */
  ProviderGone: 'PROVIDER_GONE',
  /** No tool with that name is registered. */
  ToolNotFound: 'TOOL_NOT_FOUND',
  /** The provider unregistered the tool while the call was pending. */
  ToolUnregistered: 'TOOL_UNREGISTERED',
  /** The arguments do not match the tool's input schema; nothing was sent. */
  InvalidArguments: 'INVALID_ARGUMENTS',
  /** The provider ran the tool and reported an error. */
  RemoteError: 'REMOTE_ERROR',
  /** The provider answered with a result frame that does not follow the protocol. */
  InvalidResult: 'INVALID_RESULT',
  /** The call frame could not be handed to the transport; the tool did not start. */
  SendFailed: 'SEND_FAILED',
  /**
   * The call frame can never be sent as it is (over the transport's frame limit, or nested too
   * deep to encode); the tool did not start. Smaller or simpler arguments may go through.
   */
  ArgumentsUnsendable: 'ARGUMENTS_UNSENDABLE',
  /** The proxy is closed; no call can start. */
  ProxyClosed: 'PROXY_CLOSED',
  /** A tool definition on the provider side is unusable (bad name, schema, ...). */
  InvalidTool: 'INVALID_TOOL',
  /**
   * The call reached its provider later than the proxy vouched for it (`stale_after_ms`): the
   * proxy may already have told the caller it failed, so the provider did not run it.
   */
  CallStale: 'CALL_STALE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Why a call was cancelled. A closed set: it travels in `agent:tool-call-cancelled.reason`.
 * The free-form reason of the event that caused it (e.g. hermes' "Stop requested") goes in `detail`.
 */
export const CancelReason = {
  AgentLoopStopped: 'agent-loop-stopped',
  SessionEnded: 'session-ended',
  SessionReset: 'session-reset',
  CallerAborted: 'caller-aborted',
  ToolUnregistered: 'tool-unregistered',
  ProxyShuttingDown: 'proxy-shutting-down',
  /** The proxy's connection to the room was interrupted; the call's frames may have been lost. */
  ConnectionInterrupted: 'connection-interrupted',
  /** The caller went away before the result: its connection closed, its MCP session ended. */
  CallerGone: 'caller-gone',
  /**
   * The proxy gave up on the provider: it answers `agent:ping` but sent nothing for the liveness
   * timeout. The caller gets PROVIDER_GONE; the provider, should it still be there, this notice.
   */
  ProviderUnresponsive: 'provider-unresponsive',
} as const;

export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

export const CANCEL_REASONS: readonly CancelReason[] = Object.values(CancelReason);

export interface ToolProxyErrorOptions {
  cause?: unknown;
  /** The exposed tool name, when the error concerns one tool. */
  tool?: string;
  /** The call id, when the error concerns one call (absent on errors shared by a fan-out). */
  callId?: string;
  /** For CANCELLED: why. */
  reason?: CancelReason;
  /** Free-form detail from the trigger (a hook's reason, a provider's error code, ...). */
  detail?: string;
  /** For REMOTE_ERROR: what the provider sent besides its message. */
  data?: unknown;
}

const BRAND = Symbol.for('toolproxy.error');

export class ToolProxyError extends Error {
  readonly code: ErrorCode;
  readonly tool: string | undefined;
  readonly callId: string | undefined;
  readonly reason: CancelReason | undefined;
  readonly detail: string | undefined;
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, options: ToolProxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.tool = options.tool;
    this.callId = options.callId;
    this.reason = options.reason;
    this.detail = options.detail;
    this.data = options.data;
  }

  /** Brand check, so `instanceof` holds across two bundled copies of toolproxy. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  get [BRAND](): true {
    return true;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      tool: this.tool,
      callId: this.callId,
      reason: this.reason,
      detail: this.detail,
    };
  }
}

/**
 * A ToolProxyError without a stack trace, for errors that report an event rather than a fault (a
 * stop, a cancel or timeout notice): on a stop's path, capturing a stack costs more than the rest
 * of the cancel, and no one reads it. (Engines without `Error.stackTraceLimit` ignore it.)
 */
export function eventError(
  code: ErrorCode,
  message: string,
  options?: ToolProxyErrorOptions,
): ToolProxyError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new ToolProxyError(code, message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function isToolProxyError(value: unknown, code?: ErrorCode): value is ToolProxyError {
  return value instanceof ToolProxyError && (code === undefined || value.code === code);
}

/** Text a person or an LLM can act on, from anything that was thrown. */
export function describeUnknown(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'string') return value;
  try {
    // undefined for functions and undefined itself, whatever the type says
    const json = JSON.stringify(value) as string | undefined;
    return json ?? String(value);
  } catch {
    return String(value);
  }
}
