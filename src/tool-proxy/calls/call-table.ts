/**
 * The pending calls, indexed by id, by session, by provider and by the caller's channel so a stop,
 * a reset, a provider leaving or a caller going away finds its calls without scanning; unbound
 * calls are also indexed by their correlations, so a hook that names one can place it. Also
 * remembers the last settled ids, so a frame for one of them is counted as late or duplicate
 * rather than unknown.
 */
import { RecentKeys } from '../../shared/recent-keys.js';
import type { CallOutcome } from './outcome.js';
import type { PendingCall } from './pending-call.js';

const NO_SESSION = Symbol('no-session');
type SessionSlot = string | typeof NO_SESSION;

export interface SettledRecord {
  readonly provider: string;
  readonly outcome: CallOutcome;
}

export class CallTable {
  readonly #byId = new Map<string, PendingCall>();
  readonly #bySession = new Map<SessionSlot, Set<PendingCall>>();
  readonly #byProvider = new Map<string, Set<PendingCall>>();
  readonly #byChannel = new Map<string, Set<PendingCall>>();
  readonly #byCorrelation = new Map<string, Set<PendingCall>>();
  /** Ids are unique among pending and recent calls, so each id is remembered once. */
  readonly #recent: RecentKeys<SettledRecord>;

  constructor(recentLimit = 1_024) {
    this.#recent = new RecentKeys(recentLimit);
  }

  get size(): number {
    return this.#byId.size;
  }

  has(callId: string): boolean {
    return this.#byId.has(callId) || this.#recent.has(callId);
  }

  add(call: PendingCall): void {
    this.#byId.set(call.callId, call);
    addTo(this.#bySession, call.session ?? NO_SESSION, call);
    addTo(this.#byProvider, call.spec.tool.provider, call);
    const { channel, correlations } = call.spec;
    if (channel !== undefined) addTo(this.#byChannel, channel, call);
    for (const correlation of correlations) addTo(this.#byCorrelation, correlation, call);
  }

  /** Moves a pending call into `session`; false if it is settled or already there. */
  rebind(call: PendingCall, session: string): boolean {
    if (this.#byId.get(call.callId) !== call || call.session === session) return false;
    removeFrom(this.#bySession, call.session ?? NO_SESSION, call, NO_SESSION);
    call.session = session;
    addTo(this.#bySession, session, call);
    return true;
  }

  /** The pending calls that carry `correlation`. */
  withCorrelation(correlation: string): PendingCall[] {
    return [...(this.#byCorrelation.get(correlation) ?? [])];
  }

  /** The pending calls made over `channel`, bound or not. */
  forChannel(channel: string): PendingCall[] {
    return [...(this.#byChannel.get(channel) ?? [])];
  }

  hasSession(session: string): boolean {
    return this.#bySession.has(session);
  }

  get(callId: string): PendingCall | undefined {
    return this.#byId.get(callId);
  }

  /** Removes a settled call; a no-op unless `call` is the entry for its id. */
  remove(call: PendingCall, outcome: CallOutcome): void {
    if (this.#byId.get(call.callId) !== call) return;
    this.#byId.delete(call.callId);
    removeFrom(this.#bySession, call.session ?? NO_SESSION, call, NO_SESSION);
    removeFrom(this.#byProvider, call.spec.tool.provider, call);
    if (call.spec.channel !== undefined) removeFrom(this.#byChannel, call.spec.channel, call);
    for (const correlation of call.spec.correlations)
      removeFrom(this.#byCorrelation, correlation, call);
    this.#recent.remember(call.callId, { provider: call.spec.tool.provider, outcome });
  }

  recentlySettled(callId: string): SettledRecord | undefined {
    return this.#recent.get(callId);
  }

  /**
   * Takes out the calls a stop applies to: the session's own calls, and the unbound ones when
   * `withUnbound`; with no session, every call. The caller must settle every one of them at once:
   * their session index is dropped whole here rather than call by call.
   */
  takeSession(
    session: string | undefined,
    withUnbound: boolean,
    startedBy?: number,
  ): { own: PendingCall[]; unbound: PendingCall[]; spared: number } {
    if (startedBy !== undefined) return this.#takeStartedBy(session, withUnbound, startedBy);
    if (session === undefined) {
      this.#bySession.clear();
      return { own: [], unbound: [...this.#byId.values()], spared: 0 };
    }
    const own = this.#bySession.get(session);
    this.#bySession.delete(session);
    if (!withUnbound) return { own: [...(own ?? [])], unbound: [], spared: 0 };
    const unbound = this.#bySession.get(NO_SESSION);
    this.#bySession.delete(NO_SESSION);
    return { own: [...(own ?? [])], unbound: [...(unbound ?? [])], spared: 0 };
  }

  /**
   * `takeSession` for a stop raised at `startedBy`: only calls that started at or before it are
   * taken out (and dropped from the session index one by one); the later ones stay, counted.
   */
  #takeStartedBy(
    session: string | undefined,
    withUnbound: boolean,
    startedBy: number,
  ): { own: PendingCall[]; unbound: PendingCall[]; spared: number } {
    let spared = 0;
    const take = (slot: SessionSlot): PendingCall[] => {
      const set = this.#bySession.get(slot);
      if (set === undefined) return [];
      const taken: PendingCall[] = [];
      for (const call of set) {
        if (call.startedAt <= startedBy) taken.push(call);
        else spared++;
      }
      for (const call of taken) set.delete(call);
      if (set.size === 0 && slot !== NO_SESSION) this.#bySession.delete(slot);
      return taken;
    };
    if (session === undefined)
      return { own: [], unbound: [...this.#bySession.keys()].flatMap(take), spared };
    const own = take(session);
    return { own, unbound: withUnbound ? take(NO_SESSION) : [], spared };
  }

  /** Providers with calls pending. */
  providers(): IterableIterator<string> {
    return this.#byProvider.keys();
  }

  forProvider(provider: string): PendingCall[] {
    return [...(this.#byProvider.get(provider) ?? [])];
  }

  all(): PendingCall[] {
    return [...this.#byId.values()];
  }
}

function addTo<K>(index: Map<K, Set<PendingCall>>, key: K, call: PendingCall): void {
  let set = index.get(key);
  if (set === undefined) {
    set = new Set();
    index.set(key, set);
  }
  set.add(call);
}

/**
 * Empty sets go, so session keys and providers that come and go leave nothing behind; `keep` is the
 * one slot that stays (calls without a session key), so back-to-back calls do not re-create it.
 */
function removeFrom<K>(index: Map<K, Set<PendingCall>>, key: K, call: PendingCall, keep?: K): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(call);
  if (set.size === 0 && key !== keep) index.delete(key);
}
