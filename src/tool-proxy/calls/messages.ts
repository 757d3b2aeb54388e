/**
 * The errors a call rejects with, worded for the LLM that will read them: what happened, whether
 * the action may still have happened, and what to do next.
 */
import { type CancelReason, ErrorCode, eventError, ToolProxyError } from '../../shared/errors.js';

const MAY_HAVE_HAPPENED =
  'If this tool acts on the physical world or changes state, the action may already have started or ' +
  'completed; check the current state before retrying.';

const CANCEL_TEXT: Record<CancelReason, string> = {
  'agent-loop-stopped': 'the agent loop was stopped',
  'session-ended': 'the session ended',
  'session-reset': 'the session was reset',
  'caller-aborted': 'the caller aborted it',
  'tool-unregistered': 'the provider unregistered the tool',
  'proxy-shutting-down': 'the tool proxy is shutting down',
  'connection-interrupted':
    "the tool proxy's connection to the room was interrupted, so the tool's answer may have been lost",
  'caller-gone': 'the caller went away before the result (its connection or session closed)',
  'provider-unresponsive': 'the provider stopped answering the tool proxy',
};

/** One error per cancellation event, shared by every call it cancels (no stack trace per call). */
export function cancelledError(
  reason: CancelReason,
  detail?: string,
  cause?: unknown,
): ToolProxyError {
  const why = detail === undefined ? '' : ` (${detail})`;
  return eventError(
    ErrorCode.Cancelled,
    `The tool call was cancelled because ${CANCEL_TEXT[reason]}${why}. The provider was told to stop. ${MAY_HAVE_HAPPENED}`,
    { reason, ...(detail === undefined ? {} : { detail }), cause },
  );
}

/**
 * `error` (a CANCELLED one) for calls whose provider is not connected, so no stop notice can go
 * to it: the caller must not be told it was. Other errors are returned as they are.
 */
export function notToldToStop(error: ToolProxyError): ToolProxyError {
  if (error.code !== ErrorCode.Cancelled || error.reason === undefined) return error;
  const { reason, detail } = error;
  const why = detail === undefined ? '' : ` (${detail})`;
  return eventError(
    ErrorCode.Cancelled,
    `The tool call was cancelled because ${CANCEL_TEXT[reason]}${why}. The provider could not be told to stop: it is not connected to the tool proxy. ${MAY_HAVE_HAPPENED}`,
    { reason, ...(detail === undefined ? {} : { detail }), cause: error.cause },
  );
}

export function timeoutError(
  tool: string,
  callId: string,
  waitedMs: number,
  hardCap: boolean,
): ToolProxyError {
  const what = hardCap
    ? `was still running at its maximum total time of ${waitedMs} ms`
    : `did not answer within ${waitedMs} ms`;
  return eventError(
    ErrorCode.Timeout,
    `Tool "${tool}" ${what} and was abandoned; the provider was told to stop. ${MAY_HAVE_HAPPENED}`,
    { tool, callId },
  );
}

export function providerGoneError(provider: string, connectionLost = false): ToolProxyError {
  const what = connectionLost
    ? 'The connection to the tool providers was lost'
    : `The provider "${provider}" that offers this tool disconnected`;
  return new ToolProxyError(
    ErrorCode.ProviderGone,
    `${what} before the tool answered. ${MAY_HAVE_HAPPENED} The tool is unavailable until the provider reconnects.`,
    { detail: provider },
  );
}

/** The provider answers pings but went silent: given up (it may still be there, stalled). */
export function providerUnresponsiveError(provider: string, silentMs: number): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.ProviderGone,
    `The provider "${provider}" that offers this tool stopped answering (nothing from it for ${silentMs} ms) before the tool answered. ${MAY_HAVE_HAPPENED} It was told to stop, should it still be running. The tool is unavailable until the provider answers again.`,
    { detail: provider, reason: 'provider-unresponsive' },
  );
}

export function toolUnregisteredError(tool: string): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.ToolUnregistered,
    `Tool "${tool}" was withdrawn by its provider before it answered. ${MAY_HAVE_HAPPENED}`,
    { tool, reason: 'tool-unregistered' },
  );
}

export function toolNotFoundError(tool: string, available: readonly string[]): ToolProxyError {
  const list =
    available.length === 0
      ? 'No tools are registered right now.'
      : `Available tools: ${available.slice(0, 20).join(', ')}.`;
  return new ToolProxyError(
    ErrorCode.ToolNotFound,
    `No tool named "${tool}" is registered. ${list}`,
    { tool },
  );
}

export function invalidArgumentsError(tool: string, problems: readonly string[]): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.InvalidArguments,
    `Invalid arguments for tool "${tool}": ${problems.join('; ')}. The tool was not called; fix the arguments to match its input schema and call it again.`,
    { tool },
  );
}

export function remoteError(
  tool: string,
  callId: string,
  message: string,
  code?: string,
  data?: unknown,
): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.RemoteError,
    `Tool "${tool}" failed: ${message || 'the provider reported an error'}`,
    {
      tool,
      callId,
      ...(code === undefined ? {} : { detail: code }),
      data,
    },
  );
}

/**
 * The provider got the call later than the proxy vouched for it (`stale_after_ms`) and did not run
 * it (PROTOCOL.md section 3.5). Its own wording is kept in `detail`; this message says what is known.
 */
export function callStaleError(tool: string, callId: string, providerSaid: string): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.CallStale,
    `Tool "${tool}" did not run: the call reached its provider too late (after the window in which the tool proxy could vouch for the provider), so the provider refused it rather than act on an old request. Nothing was done; call the tool again if the action is still wanted.`,
    { tool, callId, detail: providerSaid },
  );
}

export function invalidResultError(tool: string, callId: string, problem: string): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.InvalidResult,
    `Tool "${tool}" answered with a malformed result (${problem}). ${MAY_HAVE_HAPPENED}`,
    { tool, callId },
  );
}

export function sendFailedError(tool: string, callId: string, cause: unknown): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.SendFailed,
    `Tool "${tool}" could not be reached (the call could not be sent), so it did not run. Try again shortly.`,
    { tool, callId, cause },
  );
}

export function proxyClosedError(): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.ProxyClosed,
    'The tool proxy is closed; no tool can be called.',
  );
}
