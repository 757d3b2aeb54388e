/**
 * Follows callers' AbortSignals with one listener per signal, however many calls share it.
 * A long-lived session signal shared by 10,000 pending calls carries one 'abort' listener, not
 * 10,000 (which would also trip Node's MaxListenersExceededWarning), and that listener is removed
 * as soon as the last call on the signal settles.
 */
import { ErrorCode, isToolProxyError, type ToolProxyError } from '../../shared/errors.js';
import { cancelledError } from './messages.js';

export interface AbortableCall {
  cancelledByCaller(error: ReturnType<typeof cancelledError>): void;
}

interface Watch {
  readonly calls: Set<AbortableCall>;
  readonly listener: () => void;
}

export class AbortFanIn {
  readonly #watches = new Map<AbortSignal, Watch>();

  watch(signal: AbortSignal, call: AbortableCall): void {
    let watch = this.#watches.get(signal);
    if (watch === undefined) {
      const calls = new Set<AbortableCall>();
      const listener = () => this.#aborted(signal);
      watch = { calls, listener };
      this.#watches.set(signal, watch);
      signal.addEventListener('abort', listener, { once: true });
    }
    watch.calls.add(call);
  }

  unwatch(signal: AbortSignal, call: AbortableCall): void {
    const watch = this.#watches.get(signal);
    if (watch === undefined || !watch.calls.delete(call) || watch.calls.size > 0) return;
    this.#watches.delete(signal);
    signal.removeEventListener('abort', watch.listener);
  }

  /** Signals followed now (for leak checks). */
  get size(): number {
    return this.#watches.size;
  }

  #aborted(signal: AbortSignal): void {
    const watch = this.#watches.get(signal);
    if (watch === undefined) return;
    this.#watches.delete(signal);
    const error = abortError(signal.reason);
    for (const call of [...watch.calls]) call.cancelledByCaller(error);
  }
}

/**
 * A signal aborted with a CANCELLED ToolProxyError that names its reason (a front saying
 * `caller-gone`) cancels with that error; any other abort is the caller's (`caller-aborted`).
 */
function abortError(reason: unknown): ToolProxyError {
  if (isToolProxyError(reason, ErrorCode.Cancelled) && reason.reason !== undefined) return reason;
  return cancelledError('caller-aborted', abortDetail(reason), reason);
}

function abortDetail(reason: unknown): string | undefined {
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  if (typeof reason === 'string') return reason;
  return undefined;
}
