/**
 * One `tools/call` forwarded by a relay: the stdio client's cancellation aborts the upstream
 * request (the SDK then sends `notifications/cancelled` upstream), the upstream's progress goes
 * back under the client's own progress token, and the agent session key is added when the
 * request has none. The upstream proxy keeps the deadlines; the relay's own timeout only catches
 * an upstream that hangs without dying.
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type CallToolRequest,
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  McpError,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { describeUnknown, type Logger } from '../../src/index.js';
import { placementOf, SESSION_KEY_META } from './call-placement.js';
import type { RelayUpstream } from './relay-upstream.js';

export type RelayExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface RelayCallLimits {
  /** No answer and no progress for this long: the relay gives up. */
  idleMs: number;
  /** The relay gives up after this long whatever the progress. */
  totalMs: number;
}

/**
 * Longer than any deadline `toolproxy serve` gives a call (120 s per tool at most, restarted by
 * progress, 600 s in all), so the upstream proxy always settles a call before the relay would.
 */
export const RELAY_CALL_LIMITS: RelayCallLimits = { idleMs: 125_000, totalMs: 605_000 };

export interface ForwardContext {
  readonly upstream: RelayUpstream;
  readonly sessionKey: string | undefined;
  readonly limits: RelayCallLimits;
  readonly logger: Logger;
}

/**
 * A JSON-RPC error to answer with, as given: the SDK answers a thrown error with its `code`,
 * `message` and `data` (an McpError's message would carry an `MCP error <code>:` prefix, which the
 * client's SDK adds once more).
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export async function forwardCall(
  context: ForwardContext,
  request: CallToolRequest,
  extra: RelayExtra,
): Promise<CallToolResult> {
  const { upstream, limits, logger } = context;
  const { _meta: meta, ...params } = request.params;
  const { progressToken, ...ownMeta } = meta ?? {};
  // The process's own session only when the request names none, as the stdio server does.
  const named = placementOf(ownMeta, {}, undefined, {}).sessionKey;
  if (named === undefined && context.sessionKey !== undefined) {
    ownMeta[SESSION_KEY_META] = context.sessionKey;
  }
  const abort = linkedAbort(extra.signal, upstream.lost);
  try {
    return await upstream.client.request(
      {
        method: 'tools/call',
        params: { ...params, ...(Object.keys(ownMeta).length === 0 ? {} : { _meta: ownMeta }) },
      },
      CallToolResultSchema,
      {
        signal: abort.signal,
        // Always asked for: progress is what restarts the relay's idle timeout.
        onprogress: (progress) => {
          if (progressToken === undefined) return;
          extra
            .sendNotification({
              method: 'notifications/progress',
              params: { ...progress, progressToken },
            })
            .catch((error: unknown) => {
              logger.debug({ error: describeUnknown(error) }, 'relay: progress not delivered');
            });
        },
        timeout: limits.idleMs,
        resetTimeoutOnProgress: true,
        maxTotalTimeout: limits.totalMs,
      },
    );
  } catch (error) {
    return failure(context, error, extra.signal);
  } finally {
    abort.release();
  }
}

function failure(
  context: ForwardContext,
  error: unknown,
  callerSignal: AbortSignal,
): CallToolResult {
  const { upstream, limits } = context;
  // The client cancelled: the SDK sends it no answer, so none is made up.
  if (callerSignal.aborted) return errorResult('The call was cancelled.');
  if (upstream.lost.aborted) return errorResult(lostText(upstream.name, upstream.lost.reason));
  if (error instanceof McpError && error.code === (ErrorCode.RequestTimeout as number)) {
    return errorResult(
      `${capitalize(upstream.name)} gave no answer and no progress for ${Math.round(limits.idleMs / 1_000)} s, ` +
        'so this relay stopped waiting and cancelled the call there. If the tool acts on the ' +
        'physical world or changes state, check the current state before retrying.',
    );
  }
  if (error instanceof McpError && error.code !== (ErrorCode.ConnectionClosed as number)) {
    throw new RpcError(error.code, unprefixed(error), error.data);
  }
  context.logger.warn({ error: describeUnknown(error) }, 'relay: call failed upstream');
  return errorResult(
    `The call could not be completed through ${upstream.name}: ${describeUnknown(error)}. ` +
      'It may or may not have reached the tool; check the current state before retrying.',
  );
}

/** For calls that were running when the upstream went away. */
export function lostText(name: string, reason: unknown): string {
  return (
    `${capitalize(name)} went away while this call was running (${describeUnknown(reason)}). ` +
    'The call was abandoned: the tool may or may not have done its work. This MCP server is ' +
    'reconnecting, or taking over as the proxy; list the tools again, check the current state, ' +
    'and retry only if repeating the action is safe.'
  );
}

export function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** McpError's message is `MCP error <code>: <message>`; the client's SDK adds that prefix again. */
function unprefixed(error: McpError): string {
  const prefix = `MCP error ${error.code}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/**
 * One signal for one call that aborts with either source. Its listeners go when the call settles
 * (the SDK never removes the one it adds to the call's signal, so that signal must not outlive it).
 */
function linkedAbort(...sources: AbortSignal[]): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const detach: Array<() => void> = [];
  const release = (): void => {
    for (const remove of detach.splice(0)) remove();
  };
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => {
      release();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', onAbort, { once: true });
    detach.push(() => {
      source.removeEventListener('abort', onAbort);
    });
  }
  if (controller.signal.aborted) release();
  return { signal: controller.signal, release };
}
