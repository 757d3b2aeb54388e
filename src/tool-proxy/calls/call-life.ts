/**
 * The life of a call, in one place. A call is pending from the moment `CallRunner.start` hands its
 * frame over until `settle` takes it out; `settle` is the only way out, every trigger calls it, and
 * it acts once per call (the call's `release` frees its timer and listener and says whether it was
 * still pending). Whatever arrives for the call afterwards is dropped: the call table remembers
 * recent ids so such frames are counted as late or duplicate.
 *
 * `CALL_ENDINGS` is PROTOCOL.md section 5's table, row for row (a test holds the two together).
 * Where each trigger lives:
 * - `result`, `remote-error`, `invalid-result`: a `client:tool-result` from the addressee, well
 *   formed or not, in bounds or not (providers/inbound-call-frames.ts)
 * - `timeout`: the call's own deadline (calls/pending-call.ts)
 * - `cancelled`: the caller's signal (calls/abort-fan-in.ts) or `.cancel()` and `close()`
 *   (tool-proxy.ts); a stop, reset or end of its session and its caller going away
 *   (sessions/session-router.ts); a resumed connection (providers/provider-presence.ts)
 * - `tool-unregistered`: its provider withdrew the tool (registry-change.ts)
 * - `provider-gone`: its provider left, stopped answering, or the channel closed
 *   (providers/provider-presence.ts)
 * - `send-failed`: the transport refused the call frame (calls/call-runner.ts)
 */
import type { HookBus } from '../../shared/bus.js';
import { ErrorCode, type ToolProxyError } from '../../shared/errors.js';
import type { Timers } from '../../shared/timers.js';
import {
  cancelNoticeTail,
  encodeCancelNotice,
  encodeTimeoutNotice,
} from '../../protocol/notices.js';
import type { HookEvents } from '../hooks/events.js';
import type { ProviderLink } from '../providers/provider-link.js';
import type { ProxyStats } from '../stats.js';
import type { CallTable } from './call-table.js';
import { notToldToStop } from './messages.js';
import type { CallInfo, CallOutcome } from './outcome.js';
import type { PendingCall } from './pending-call.js';

/** What the provider is told when its call ends (only while the proxy still sees it). */
export type EndNotice = 'none' | 'timeout' | 'cancelled' | 'cancelled-if-unresponsive';

export interface CallEnding {
  /** The caller's promise resolves with the result, or rejects with an error of these codes. */
  readonly caller: 'resolves' | readonly ErrorCode[];
  readonly notice: EndNotice;
}

/** Every ending is also counted, in `stats().calls.settled[outcome]`. */
export const CALL_ENDINGS = {
  result: { caller: 'resolves', notice: 'none' },
  'remote-error': { caller: [ErrorCode.RemoteError, ErrorCode.CallStale], notice: 'none' },
  'invalid-result': { caller: [ErrorCode.InvalidResult], notice: 'none' },
  timeout: { caller: [ErrorCode.Timeout], notice: 'timeout' },
  cancelled: { caller: [ErrorCode.Cancelled], notice: 'cancelled' },
  'tool-unregistered': { caller: [ErrorCode.ToolUnregistered], notice: 'cancelled' },
  'provider-gone': { caller: [ErrorCode.ProviderGone], notice: 'cancelled-if-unresponsive' },
  'send-failed': {
    caller: [ErrorCode.SendFailed, ErrorCode.ArgumentsUnsendable],
    notice: 'none',
  },
} as const satisfies Record<CallOutcome, CallEnding>;

/** The outcomes that reject the caller. */
export type FailedOutcome = Exclude<CallOutcome, 'result'>;

export interface CallLifeDeps {
  readonly table: CallTable;
  readonly link: ProviderLink;
  readonly hooks: HookBus<HookEvents>;
  readonly stats: ProxyStats;
  readonly timers: Timers;
}

export class CallLife {
  readonly #deps: CallLifeDeps;
  #tailOf: ToolProxyError | undefined;
  #tail: string | undefined;

  constructor(deps: CallLifeDeps) {
    this.#deps = deps;
  }

  /**
   * Ends a pending call: the caller first, then the table, the count, the provider's notice and
   * last the `call:settled` watchers, so a slow watcher cannot delay the robot stopping. False
   * when the call had already ended (nothing happens).
   */
  settle(call: PendingCall, outcome: 'result', value: unknown): boolean;
  settle(call: PendingCall, outcome: FailedOutcome, error: ToolProxyError): boolean;
  settle(call: PendingCall, outcome: CallOutcome, valueOrError: unknown): boolean {
    const caller = call.release();
    if (caller === undefined) return false;
    const error = outcome === 'result' ? undefined : (valueOrError as ToolProxyError);
    if (error === undefined) caller.resolve(valueOrError);
    else caller.reject(error);
    const { table, link, stats, hooks, timers } = this.#deps;
    table.remove(call, outcome);
    stats.calls.settled[outcome]++;
    if (link.isPresent(call.spec.tool.provider)) this.#notify(call, outcome, error);
    if (hooks.listenerCount('call:settled') > 0) {
      const durationMs = timers.now() - call.startedAt;
      hooks.emit('call:settled', {
        ...callInfo(call),
        outcome,
        durationMs,
        reason: error?.reason,
        error,
      });
    }
    return true;
  }

  /**
   * Ends each call with one shared error; returns how many there were. A cancelled call whose
   * provider is not connected gets no notice, so its error says the provider was not told.
   */
  settleAll(calls: readonly PendingCall[], outcome: FailedOutcome, error: ToolProxyError): number {
    const { link } = this.#deps;
    let unreached: ToolProxyError | undefined;
    for (const call of calls) {
      if (outcome === 'cancelled' && !link.isPresent(call.spec.tool.provider)) {
        unreached ??= notToldToStop(error);
        this.settle(call, outcome, unreached);
      } else {
        this.settle(call, outcome, error);
      }
    }
    return calls.length;
  }

  #notify(call: PendingCall, outcome: CallOutcome, error: ToolProxyError | undefined): void {
    const notice: EndNotice = CALL_ENDINGS[outcome].notice;
    if (notice === 'none') return;
    const { link } = this.#deps;
    const { callId, tool } = call.spec;
    if (notice === 'timeout') {
      link.notice(tool.provider, 'agent:tool-call-timeout', encodeTimeoutNotice(callId, tool.name));
      return;
    }
    if (notice === 'cancelled-if-unresponsive' && error?.reason !== 'provider-unresponsive') return;
    const tail = this.#cancelTail(error);
    link.notice(
      tool.provider,
      'agent:tool-call-cancelled',
      encodeCancelNotice(callId, tool.name, tail),
    );
  }

  /** A stop shares one error among its calls, so one cached tail serves the whole fan-out. */
  #cancelTail(error: ToolProxyError | undefined): string {
    if (error !== this.#tailOf || this.#tail === undefined) {
      this.#tailOf = error;
      this.#tail = cancelNoticeTail(error?.reason ?? 'caller-aborted', error?.detail);
    }
    return this.#tail;
  }
}

export function callInfo(call: PendingCall): CallInfo {
  const { callId, tool } = call.spec;
  return { callId, tool: tool.exposedName, provider: tool.provider, sessionKey: call.session };
}
