/**
 * One call in flight. It owns exactly one timer and at most one listener (on the caller's signal),
 * and frees both in the one place every outcome passes through, so it settles exactly once and
 * leaves nothing behind on long-lived signals.
 */
import type { CancelReason, ToolProxyError } from '../../shared/errors.js';
import type { CallOutcome } from './outcome.js';
import type { ToolLogEntry } from '../../protocol/frames.js';
import type { RegisteredTool } from '../registry/registry.js';
import type { TimerHandle, Timers } from '../../shared/timers.js';
import type { AbortableCall, AbortFanIn } from './abort-fan-in.js';
import { cancelledError, timeoutError } from './messages.js';

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

/** What a call tells its owner (the proxy): called once, after the caller has been settled. */
export type SettleListener = (
  call: PendingCall,
  outcome: CallOutcome,
  error: ToolProxyError | undefined,
) => void;

export class PendingCall implements AbortableCall {
  readonly spec: CallSpec;
  readonly startedAt: number;
  /**
   * The agent session the call belongs to; undefined while unbound. Set at start, or later by the
   * call table when a hook places the call (CallTable.rebind): nothing else writes it.
   */
  session: string | undefined;
  #settled = false;
  #resolve: (value: unknown) => void;
  #reject: (error: unknown) => void;
  #timers: Timers;
  #timer: TimerHandle;
  #deadline: number;
  readonly #hardDeadline: number;
  #signal: AbortSignal | undefined;
  readonly #signals: AbortFanIn;
  #lastProgress = Number.NEGATIVE_INFINITY;
  #onSettled: SettleListener;

  constructor(
    spec: CallSpec,
    session: string | undefined,
    settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void },
    timers: Timers,
    signals: AbortFanIn,
    onSettled: SettleListener,
  ) {
    this.spec = spec;
    this.session = session;
    this.#resolve = settle.resolve;
    this.#reject = settle.reject;
    this.#timers = timers;
    this.#signals = signals;
    this.#onSettled = onSettled;
    this.startedAt = timers.now();
    this.#hardDeadline = this.startedAt + spec.maxTotalMs;
    this.#deadline = Math.min(this.startedAt + spec.timeoutMs, this.#hardDeadline);
  }

  get callId(): string {
    return this.spec.callId;
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Starts the deadline and follows the caller's signal. The signal must not be aborted yet. */
  arm(signal: AbortSignal | undefined): void {
    this.#timer = this.#timers.setTimeout(this.#onDeadline, this.#deadline - this.startedAt);
    if (signal !== undefined) {
      this.#signal = signal;
      this.#signals.watch(signal, this);
    }
  }

  succeed(value: unknown): void {
    if (this.#finish()) {
      this.#resolve(value);
      this.#onSettled(this, 'result', undefined);
    }
  }

  fail(outcome: CallOutcome, error: ToolProxyError): void {
    if (this.#finish()) {
      this.#reject(error);
      this.#onSettled(this, outcome, error);
    }
  }

  cancelledByCaller(error: ToolProxyError): void {
    this.cancel('caller-aborted', error);
  }

  cancel(reason: CancelReason, error: ToolProxyError = cancelledError(reason)): void {
    this.fail('cancelled', error);
  }

  /** Returns false when the update is stale (progress must increase). */
  progress(update: ProgressUpdate): boolean {
    if (this.#settled || !(update.progress > this.#lastProgress)) return false;
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
    if (this.#settled) return false;
    try {
      this.spec.onLog?.(entry);
    } catch {
      // A caller's log callback cannot break the call.
    }
    return true;
  }

  /** The one cleanup path: flips the state, frees the timer and the listener. */
  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#signal !== undefined) this.#signals.unwatch(this.#signal, this);
    this.#signal = undefined;
    return true;
  }

  readonly #onDeadline = (): void => {
    const extended = this.#lastProgress > Number.NEGATIVE_INFINITY;
    const hardCap = extended && this.#deadline >= this.#hardDeadline;
    const waited = extended && !hardCap ? this.spec.timeoutMs : this.#deadline - this.startedAt;
    this.fail('timeout', timeoutError(this.spec.tool.exposedName, this.callId, waited, hardCap));
  };
}
