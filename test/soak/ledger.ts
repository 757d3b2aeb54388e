/**
 * The soak's ledger: one entry per call while it is open, checked and folded into counters once the
 * caller has settled (plus a grace period for late frames), so its size follows the calls in flight
 * rather than the length of the run. It sees the proxy's `call:started` / `call:settled` events
 * (synchronous with the settlement itself), each caller's promise, and what providers hand to their
 * transport, and puts the proxy-side and provider-side events on one clock to tell a result the
 * proxy lost from one that arrived after the call had ended.
 */
import type PCancelable from 'p-cancelable';
import type {
  CallOutcome,
  CancelReason,
  ProgressUpdate,
  ProxyEvents,
  ToolProxy,
} from '../../src/index.js';
import { isToolProxyError } from '../../src/index.js';
import type { Answer, WireObserver } from './observed-channel.js';
import {
  type CallPlan,
  clock,
  type Entry,
  judge,
  OUTCOMES,
  type ViolationKind,
} from './verdict.js';

/** How long after its caller settled an entry stays open for frames still on their way. */
const GRACE_MS = 1_000;
const KEEP_MESSAGES = 50;

export class Ledger implements WireObserver {
  readonly outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<
    CallOutcome,
    number
  >;
  readonly counts = {
    started: 0,
    refused: 0,
    /** Answers sent while the call was pending that met a timeout or cancel on the way (racy transports). */
    raced: 0,
    /** Answers sent after the caller had settled (the provider had not yet heard). */
    lateAnswers: 0,
    answersHanded: 0,
    answersFailed: 0,
    progressHanded: 0,
    progressFailed: 0,
    progressCallbacks: 0,
    callFrames: 0,
    notices: 0,
    /** Frames about a call whose entry was already closed. */
    framesAfterClose: 0,
  };
  readonly violations: Record<ViolationKind, number> = {
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    misrouted: 0,
    unsettled: 0,
    frames: 0,
    refusal: 0,
    stats: 0,
    leftover: 0,
  };
  readonly messages: string[] = [];
  readonly #open = new Map<string, Entry>();
  /** Entries whose caller has settled, in that order: closed from the front. */
  #settled: Entry[] = [];
  #starting: Entry | undefined;

  constructor(
    readonly world: string,
    /** Frames can be in flight while the proxy ends a call on its own (not the in-memory room). */
    readonly racy: boolean,
  ) {}

  get open(): number {
    return this.#open.size;
  }

  attach(proxy: ToolProxy): void {
    proxy.hooks.on('call:started', (event) => {
      const entry = this.#starting;
      if (entry === undefined) return this.violate('unexpected', `stray start ${event.callId}`);
      entry.callId = event.callId;
      entry.startedAt = Date.now();
      entry.timeoutMs = event.timeoutMs;
      this.#open.set(event.callId, entry);
      this.counts.started++;
    });
    proxy.hooks.on('call:settled', (event) => this.#onSettled(event));
  }

  violate(kind: ViolationKind, message: string): void {
    this.violations[kind]++;
    if (this.messages.length < KEEP_MESSAGES)
      this.messages.push(`[${this.world}] ${kind}: ${message}`);
  }

  /** Starts a call through `start` (which must call the proxy synchronously) and follows it. */
  call(
    plan: CallPlan,
    start: (onProgress: (update: ProgressUpdate) => void) => PCancelable<unknown>,
  ): { entry: Entry; promise: PCancelable<unknown> } {
    const entry: Entry = {
      ...plan,
      callId: undefined,
      startedAt: 0,
      timeoutMs: 0,
      reasons: [],
      sent: undefined,
      sentSeq: 0,
      sendFailed: false,
      outcome: undefined,
      settledSeq: 0,
      settledAt: 0,
      settledError: undefined,
      settledEvents: 0,
      observed: undefined,
      observedAt: 0,
      callFrames: 0,
      notices: 0,
      workStopped: undefined,
      progressAfterSettled: 0,
    };
    this.#starting = entry;
    let promise: PCancelable<unknown>;
    try {
      promise = start(() => {
        this.counts.progressCallbacks++;
        if (entry.outcome !== undefined) entry.progressAfterSettled++;
      });
    } finally {
      this.#starting = undefined;
    }
    promise.then(
      (value) => this.#observe(entry, true, value),
      (error: unknown) => this.#observe(entry, false, error),
    );
    return { entry, promise };
  }

  /** The driver is about to do something that may cancel the open calls `applies` picks. */
  expectCancel(reason: CancelReason, applies: (entry: Entry) => boolean): void {
    for (const entry of this.#open.values())
      if (entry.outcome === undefined && applies(entry)) entry.reasons.push(reason);
  }

  answerSent(callId: string, answer: Answer, handed: Promise<void>): void {
    const entry = this.#open.get(callId);
    this.counts.answersHanded++;
    handed.catch(() => {
      this.counts.answersHanded--;
      this.counts.answersFailed++;
      if (entry !== undefined) entry.sendFailed = true;
    });
    if (entry === undefined) {
      this.counts.framesAfterClose++;
      this.counts.lateAnswers++;
      return;
    }
    if (entry.sent !== undefined) this.violate('frames', `${callId} answered twice`);
    entry.sent = answer;
    entry.sentSeq = clock();
  }

  progressSent(handed: Promise<void>): void {
    this.counts.progressHanded++;
    handed.catch(() => {
      this.counts.progressHanded--;
      this.counts.progressFailed++;
    });
  }

  callReceived(callId: string): void {
    this.counts.callFrames++;
    const entry = this.#open.get(callId);
    if (entry === undefined) this.counts.framesAfterClose++;
    else if (++entry.callFrames > 1) this.violate('frames', `${callId} delivered twice`);
  }

  noticeReceived(callId: string): void {
    this.counts.notices++;
    const entry = this.#open.get(callId);
    if (entry === undefined) this.counts.framesAfterClose++;
    else if (++entry.notices > 1) this.violate('frames', `${callId}: ${entry.notices} notices`);
  }

  workStopped(callId: string, why: string): void {
    const entry = this.#open.get(callId);
    if (entry === undefined) return;
    if (entry.workStopped !== undefined) this.violate('frames', `${callId}: work stopped twice`);
    entry.workStopped = why;
  }

  /** Closes the entries whose caller settled more than the grace period ago (all with `force`). */
  sweep(now: number, force = false): void {
    let closed = 0;
    for (const entry of this.#settled) {
      if (!force && entry.observedAt > now - GRACE_MS) break;
      this.#close(entry);
      closed++;
    }
    if (closed > 0) this.#settled = this.#settled.slice(closed);
  }

  /** At the end: every entry still open is a call whose caller never settled. */
  finish(): void {
    this.sweep(0, true);
    for (const entry of this.#open.values())
      this.violate('unsettled', `${entry.callId} (${entry.plan}) never settled`);
  }

  #onSettled(event: ProxyEvents['call:settled']): void {
    const entry = this.#open.get(event.callId);
    if (entry === undefined) return this.violate('duplicated', `${event.callId} settled again`);
    if (++entry.settledEvents > 1)
      return this.violate('duplicated', `${event.callId} settled twice`);
    entry.outcome = event.outcome;
    entry.settledSeq = clock();
    entry.settledAt = Date.now();
    entry.settledError = event.error;
  }

  #observe(entry: Entry, ok: boolean, value: unknown): void {
    if (entry.observed !== undefined) return this.violate('duplicated', `caller of #${entry.n}`);
    entry.observed = { ok, value };
    entry.observedAt = Date.now();
    if (entry.callId === undefined) return this.#refused(entry, value);
    if (entry.refusal !== undefined) this.violate('refusal', `#${entry.n} was sent, not refused`);
    this.#settled.push(entry);
  }

  #refused(entry: Entry, error: unknown): void {
    this.counts.refused++;
    const code = isToolProxyError(error) ? error.code : String(error);
    if (code !== entry.refusal) this.violate('refusal', `#${entry.n} refused with ${code}`);
  }

  #close(entry: Entry): void {
    const id = entry.callId ?? '?';
    this.#open.delete(id);
    const { outcome } = entry;
    if (outcome === undefined) return this.violate('unsettled', `${id}: no call:settled event`);
    this.outcomes[outcome]++;
    const verdict = judge(entry, outcome, this.racy);
    for (const [kind, message] of verdict.violations) this.violate(kind, message);
    if (verdict.late) this.counts.lateAnswers++;
    if (verdict.raced) this.counts.raced++;
  }
}
