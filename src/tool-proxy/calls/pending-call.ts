/**
 * One call in flight. It owns exactly one timer and at most one listener (on the caller's signal),
 * and frees both in `release`, which the call's life (calls/call-life.ts) calls once for every
 * outcome, so it settles exactly once and leaves nothing behind on long-lived signals.
 */
import type { ToolProxyError } from '../../shared/errors.js';
import type { ToolLogEntry } from '../../protocol/frames.js';
import type { RegisteredTool } from '../registry/registry.js';
import type { TimerHandle, Timers } from '../../shared/timers.js';
import type { AbortableCall, AbortFanIn } from './abort-fan-in.js';
import { timeoutError } from './messages.js';

export interface ProgressUpdate {
  progress: number;
  total: number | undefined;
  message: string | undefined;
}

export interface CallSpec {
  readonly callId: string;
  readonly tool: RegisteredTool;
  /** The caller's connection (an MCP session, a stdio client), when the front names it. */
  readonly channel: string | undefined;
  /** Ids a hook may name later to place this call in its session (see src/tool-proxy/sessions/). */
  readonly correlations: readonly string[];
  /** The caller named the session itself: no hook or inference moves the call. */
  readonly sessionPinned: boolean;
  /** Idle deadline; progress pushes it out when `resetOnProgress`. */
  readonly timeoutMs: number;
  /** Hard cap on the whole call, progress or not. */
  readonly maxTotalMs: number;
  readonly resetOnProgress: boolean;
  readonly onProgress: ((update: ProgressUpdate) => void) | undefined;
  readonly onLog: ((entry: ToolLogEntry) => void) | undefined;
}

/** The caller's side of the call's promise. */
export interface CallerSettle {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Where the call's own triggers (its deadline, its caller's signal) end it: calls/call-life.ts. */
export interface CallEnd {
  settle(call: PendingCall, outcome: 'timeout' | 'cancelled', error: ToolProxyError): boolean;
}

export class PendingCall implements AbortableCall {
  readonly spec: CallSpec;
  readonly startedAt: number;
  /**
   * The agent session the call belongs to; undefined while unbound. Set at start, or later by the
   * call table when a hook places the call (CallTable.rebind): nothing else writes it.
   */
  session: string | undefined;
  /** The caller's settle functions while the call is pending; undefined once released. */
  #caller: CallerSettle | undefined;
  #timers: Timers;
  #timer: TimerHandle;
  #deadline: number;
  readonly #hardDeadline: number;
  #signal: AbortSignal | undefined;
  readonly #signals: AbortFanIn;
  #lastProgress = Number.NEGATIVE_INFINITY;
  readonly #end: CallEnd;

  constructor(
    spec: CallSpec,
    session: string | undefined,
    caller: CallerSettle,
    timers: Timers,
    signals: AbortFanIn,
    end: CallEnd,
  ) {
    this.spec = spec;
    this.session = session;
    this.#caller = caller;
    this.#timers = timers;
    this.#signals = signals;
    this.#end = end;
    this.startedAt = timers.now();
    this.#hardDeadline = this.startedAt + spec.maxTotalMs;
    this.#deadline = Math.min(this.startedAt + spec.timeoutMs, this.#hardDeadline);
  }

  get callId(): string {
    return this.spec.callId;
  }

  get settled(): boolean {
    return this.#caller === undefined;
  }

  /** Starts the deadline and follows the caller's signal. The signal must not be aborted yet. */
  arm(signal: AbortSignal | undefined): void {
    this.#timer = this.#timers.setTimeout(this.#onDeadline, this.#deadline - this.startedAt);
    if (signal !== undefined) {
      this.#signal = signal;
      this.#signals.watch(signal, this);
    }
  }

  cancelledByCaller(error: ToolProxyError): void {
    this.#end.settle(this, 'cancelled', error);
  }

  /** Returns false when the update is stale (progress must increase). */
  progress(update: ProgressUpdate): boolean {
    if (this.settled || !(update.progress > this.#lastProgress)) return false;
    this.#lastProgress = update.progress;
    if (this.spec.resetOnProgress && this.#deadline < this.#hardDeadline) {
      const now = this.#timers.now();
      this.#deadline = Math.min(now + this.spec.timeoutMs, this.#hardDeadline);
      this.#timers.clearTimeout(this.#timer);
      this.#timer = this.#timers.setTimeout(this.#onDeadline, this.#deadline - now);
    }
    try {
      this.spec.onProgress?.(update);
    } catch {
      // A caller's progress callback cannot break the call.
    }
    return true;
  }

  /**
   * Passes a provider's log message to the caller; false once the call has settled. The deadline
   * stays where it is: only progress says the work is moving on.
   */
  log(entry: ToolLogEntry): boolean {
    if (this.settled) return false;
    try {
      this.spec.onLog?.(entry);
    } catch {
      // A caller's log callback cannot break the call.
    }
    return true;
  }

  /**
   * The one cleanup path: frees the timer and the listener and hands back the caller's settle
   * functions, once; undefined when the call was already released. Only CallLife.settle calls it.
   */
  release(): CallerSettle | undefined {
    const caller = this.#caller;
    if (caller === undefined) return undefined;
    this.#caller = undefined;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#signal !== undefined) this.#signals.unwatch(this.#signal, this);
    this.#signal = undefined;
    return caller;
  }

  readonly #onDeadline = (): void => {
    const extended = this.#lastProgress > Number.NEGATIVE_INFINITY;
    const hardCap = extended && this.#deadline >= this.#hardDeadline;
    const waited = extended && !hardCap ? this.spec.timeoutMs : this.#deadline - this.startedAt;
    const error = timeoutError(this.spec.tool.exposedName, this.callId, waited, hardCap);
    this.#end.settle(this, 'timeout', error);
  };
}
