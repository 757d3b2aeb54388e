/**
 * The churn driver. With real timers, for `durationMs`, on each world: calls with mixed plans
 * (answer, fail, hang; per-call deadlines short enough to expire), caller aborts and `.cancel()`,
 * sessions ended by each hook event or by aborting their shared signal, the odd stop of every
 * session, providers joining and leaving (with calls in flight), and raw providers updating,
 * withdrawing, re-registering and swapping their tools. Every action runs synchronously inside a
 * timer callback, so on the in-memory room no frame is ever in flight when the proxy ends a call on
 * its own: a result sent before that must have been delivered. Memory is sampled throughout.
 */
import { getEventListeners } from 'node:events';
import type PCancelable from 'p-cancelable';
import { ErrorCode, type ToolProxyOptions } from '../../src/index.js';
import type { CallPlan, Entry } from './verdict.js';
import { type Plan, RAW_TOOLS, type WorkArgs } from './providers.js';
import type { World } from './worlds.js';
import { Rng } from '../support/rng.js';

export { Rng };

/** Result and error plans answer within 40 ms; only `hang` calls should ever see a deadline. */
const DEFAULT_TIMEOUT_MS = 10_000;
export const PROXY_OPTIONS: ToolProxyOptions = {
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  maxTotalTimeoutMs: 30_000,
};
/** Mean time between events of each kind on the in-memory room (the WebSocket world: ×2). */
const EVERY_MS = { session: 300, stopAll: 15_000, runtime: 700, rawStep: 150, raw: 3_000 };
const SESSIONS = 4;
const RUNTIME = { min: 2, max: 5 };
const RAW = { min: 1, max: 3 };
/** Caller aborts per second, as a share of the call rate (only calls still pending are aborted). */
const ABORTED = 0.08;

interface Session {
  readonly key: string;
  readonly controller: AbortController;
}

interface Abortable {
  readonly entry: Entry;
  readonly promise: PCancelable<unknown>;
  readonly own: AbortController | undefined;
}

/** What the driver does to one world. */
export class Driver {
  readonly actions = { aborts: 0, sessionsEnded: 0, stopAll: 0, registryChanges: 0 };
  readonly #world: World;
  readonly #rng: Rng;
  readonly #rate: number;
  readonly #pace: number;
  readonly #sessions: Session[] = [];
  readonly #abortable: Abortable[] = [];
  #sessionCount = 0;
  #n = 0;
  #callBudget = 0;
  #abortBudget = 0;

  constructor(world: World, rng: Rng, rate: number, pace: number) {
    this.#world = world;
    this.#rng = rng;
    this.#rate = rate;
    this.#pace = pace;
    for (let i = 0; i < SESSIONS; i++) this.#sessions.push(this.#newSession());
    for (let i = 0; i < RUNTIME.max; i++) world.join('runtime');
    for (let i = 0; i < RAW.max; i++) world.join('raw');
  }

  tick(dt: number): void {
    const rng = this.#rng;
    const every = (ms: number) => rng.next() < dt / (ms * this.#pace);
    for (this.#callBudget += (this.#rate * dt) / 1_000; this.#callBudget >= 1; this.#callBudget--)
      this.#call();
    for (this.#abortBudget += (ABORTED * this.#rate * dt) / 1_000; this.#abortBudget >= 1;)
      if (this.#abort()) this.#abortBudget--;
      else this.#abortBudget = 0;
    if (every(EVERY_MS.session)) this.#endSession();
    if (every(EVERY_MS.stopAll)) this.stopAll('stop everything');
    if (every(EVERY_MS.runtime)) this.#churn('runtime', RUNTIME);
    if (every(EVERY_MS.raw)) this.#churn('raw', RAW);
    if (every(EVERY_MS.rawStep)) this.#rawStep();
    this.#world.sweep(Date.now());
  }

  /** `agent_loop_stopped` with no session key: every pending call is cancelled. */
  stopAll(reason: string): void {
    this.actions.stopAll++;
    this.#world.ledger.expectCancel('agent-loop-stopped', () => true);
    this.#world.proxy.lifecycle('agent_loop_stopped', { reason });
  }

  /** Listeners left on the current sessions' signals (none once nothing is pending). */
  sessionListeners(): number {
    return this.#sessions.reduce(
      (sum, s) => sum + getEventListeners(s.controller.signal, 'abort').length,
      0,
    );
  }

  #newSession(): Session {
    return { key: `s${++this.#sessionCount}`, controller: new AbortController() };
  }

  #call(): void {
    const { proxy, ledger } = this.#world;
    const rng = this.#rng;
    const tool = rng.pickAny(proxy.tools());
    const n = ++this.#n;
    const roll = rng.next();
    const plan: Plan = roll < 0.55 ? 'result' : roll < 0.67 ? 'error' : 'hang';
    const args: WorkArgs = {
      n,
      plan,
      delayMs: rng.between(0, 40),
      steps: rng.next() < 0.25 ? rng.between(1, 3) : 0,
    };
    const session = rng.next() < 0.85 ? rng.pickAny(this.#sessions) : undefined;
    const own = rng.next() < 0.35 ? new AbortController() : undefined;
    const shared = own === undefined && rng.next() < 0.45 ? session?.controller.signal : undefined;
    const timeoutMs =
      plan === 'hang' ? (rng.next() < 0.7 ? rng.between(20, 400) : undefined) : undefined;
    const handle = tool === undefined ? undefined : this.#world.handleOf(tool.provider);
    // One call in a hundred is one the proxy must refuse before sending anything.
    const refusal =
      tool === undefined || roll > 0.995
        ? ErrorCode.ToolNotFound
        : roll > 0.99
          ? ErrorCode.InvalidArguments
          : undefined;
    const callPlan: CallPlan = {
      n,
      plan,
      provider: handle,
      registration:
        tool === undefined ? undefined : handle?.raw?.registrations.get(tool.providerName),
      sessionKey: session?.key,
      sharedSignal: shared,
      deadlineMs: timeoutMs ?? DEFAULT_TIMEOUT_MS,
      refusal,
    };
    const name = refusal === ErrorCode.ToolNotFound ? 'no_such_tool' : (tool?.name ?? '');
    const sent = refusal === ErrorCode.InvalidArguments ? { ...args, plan: 'explode' } : args;
    const signal = own?.signal ?? shared;
    const { entry, promise } = ledger.call(callPlan, (onProgress) =>
      proxy.call(name, { ...sent }, { sessionKey: session?.key, signal, timeoutMs, onProgress }),
    );
    if (entry.callId !== undefined && rng.next() < ABORTED * 3) {
      if (this.#abortable.length >= 4_096) this.#abortable.splice(rng.between(0, 4_095), 1);
      this.#abortable.push({ entry, promise, own });
    }
  }

  /** Aborts one pending call (its signal, or `.cancel()`); false when none is left to abort. */
  #abort(): boolean {
    const list = this.#abortable;
    while (list.length > 0) {
      const index = this.#rng.between(0, list.length - 1);
      const { entry, promise, own } = list[index] as Abortable;
      list[index] = list[list.length - 1] as Abortable;
      list.pop();
      if (entry.outcome !== undefined) continue;
      entry.reasons.push('caller-aborted');
      this.actions.aborts++;
      if (own !== undefined && this.#rng.next() < 0.5) own.abort(new Error('user interrupted'));
      else promise.cancel();
      return true;
    }
    return false;
  }

  /** Ends a session by one of the hook events, or by aborting its shared signal; a new one starts. */
  #endSession(): void {
    const { proxy, ledger } = this.#world;
    const index = this.#rng.between(0, this.#sessions.length - 1);
    const { key, controller } = this.#sessions[index] as Session;
    const ofSession = (e: Entry) => e.sessionKey === key || e.sessionKey === undefined;
    const how = this.#rng.between(0, 4);
    if (how === 0) {
      ledger.expectCancel('agent-loop-stopped', ofSession);
      proxy.lifecycle('agent_loop_stopped', { session_key: key, reason: 'Stop requested' });
    } else if (how === 1 || how === 2) {
      ledger.expectCancel('session-ended', ofSession);
      // Some agents name the session by its id only.
      proxy.lifecycle('session:end', how === 1 ? { session_key: key } : { session_id: key });
    } else if (how === 3) {
      ledger.expectCancel('session-reset', ofSession);
      proxy.lifecycle('session:reset', { session_key: key, reason: 'new chat' });
    } else {
      ledger.expectCancel('caller-aborted', (e) => e.sharedSignal === controller.signal);
      controller.abort(new Error('session closed'));
    }
    // Every call following the session's signal carries its key: none may still listen.
    const listeners = getEventListeners(controller.signal, 'abort').length;
    if (listeners > 0) ledger.violate('leftover', `${listeners} listeners on ended session ${key}`);
    this.#sessions[index] = this.#newSession();
    this.actions.sessionsEnded++;
  }

  /** A provider leaves (calls in flight or not) and another joins, within the bounds. */
  #churn(kind: 'runtime' | 'raw', bounds: { min: number; max: number }): void {
    const world = this.#world;
    const present = world.live.filter((handle) => handle.kind === kind);
    const leaving = present.length > bounds.min && this.#rng.next() < 0.7;
    if (leaving) world.leave(this.#rng.pickAny(present) as (typeof present)[number]);
    if (present.length - (leaving ? 1 : 0) < bounds.max && this.#rng.next() < 0.7) world.join(kind);
  }

  /** One registry change by a raw provider: update, withdraw, register again, or swap its set. */
  #rawStep(): void {
    const raw = this.#rng.pickAny(this.#world.live.filter((h) => h.raw?.busy === false))?.raw;
    if (raw === undefined) return;
    const names = [...raw.registrations.values()];
    const live = names.filter((r) => r.state === 'live').map((r) => r.name);
    const gone = names.filter((r) => r.state === 'gone').map((r) => r.name);
    const roll = this.#rng.next();
    if (roll < 0.4 && live.length > 0) raw.update(this.#rng.pickAny(live) as string);
    else if (roll < 0.65 && live.length > 1) raw.unregister(this.#rng.pickAny(live) as string);
    else if (roll < 0.9 && gone.length > 0) raw.register(this.#rng.pickAny(gone) as string);
    else raw.replace(RAW_TOOLS.filter((name) => name === 'reg_a' || this.#rng.next() < 0.5));
    this.actions.registryChanges++;
  }
}
