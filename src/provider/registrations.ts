/**
 * Where each of the provider's tools stands with each proxy during this connection, so a tool is
 * registered once per connection and a registration refused as `rate-limited` is sent again when
 * the proxy says it may be (PROTOCOL.md sections 4.6, 11 and 13). The rules:
 *
 * - A proxy that appears (present on connect, or joining) gets every tool once. Appearing again in
 *   the same connection sends nothing more: the WebSocket channel reports the proxy as joined and
 *   then connected, and both used to register every tool, spending the budget twice.
 * - `agent:hello` asks for every tool again: a hello means a proxy that (re)started listening, and
 *   what it was sent before may be lost (a LiveKit proxy is in the room, and so gets
 *   registrations, before it listens). So it re-sends every tool except those waiting for a retry
 *   (the retry is already due). A registration still in flight then goes twice, once, when a proxy
 *   starts; the proxy answers the second as unchanged (4.4), and its budget's burst covers both.
 * - A `rate-limited` refusal is sent again after the time the proxy gave (`retry_after_ms`, else
 *   the "retry after N ms" of `detail`, else 1 s); other refusals are not retried. The budget is
 *   the provider's, not the tool's, so the latest refusal's time holds for every tool waiting.
 *   Retries go one at a time, in the tools' order, by one timer per proxy: a retry admitted sends
 *   the next one at once, a retry refused waits for the time it was given. Sending every refused
 *   tool at each retry time would be refused all but once and spend the frame budget on refusals.
 * - A retry unanswered after `RETRY_ANSWER_MS` is presumed lost (a frame dropped over the frame
 *   budget) and sent again in turn, so a lost frame cannot stall the others.
 * - Everything is forgotten, timer included, when the proxy leaves or the connection closes or
 *   resumes (frames may have been lost then); the next appearance registers every tool again.
 */
import type { OutboundProviderFrame } from '../protocol/frames.js';
import type { TimerHandle, Timers } from '../shared/timers.js';

/** How long a retry waits for its answer before it is presumed lost and sent again. */
export const RETRY_ANSWER_MS = 5_000;
/** The wait after a `rate-limited` refusal that says nothing of when to retry. */
export const DEFAULT_RETRY_MS = 1_000;
/** Bounds on a retry time from the wire: no busy loop, and no tool put off for good. */
const MIN_RETRY_MS = 1;
const MAX_RETRY_MS = 60_000;
const RETRY_IN_DETAIL = /retry after (\d{1,9}(?:\.\d{1,9})?) ?ms/i;

/**
 * `in-flight`: sent, its answer awaited. `retrying`: the one retry in flight. `waiting`: refused as
 * `rate-limited`, to be sent again. `refused`: refused for another reason, not retried.
 */
type RegistrationState = 'in-flight' | 'registered' | 'refused' | 'waiting' | 'retrying';

/** The fields of an `agent:tool-registered` that decide what happens next. */
export interface RegistrationAnswer {
  readonly name: string;
  readonly success: boolean;
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
  readonly retry_after_ms?: number | undefined;
}

interface ToolState {
  kind: RegistrationState;
  /** `retrying`: when its answer is overdue. */
  at: number;
}

class Session {
  /** In the tools' order, which is the order of retries. */
  readonly tools = new Map<string, ToolState>();
  /** When the next retry may go: the time the latest `rate-limited` refusal gave. */
  retryAt = 0;
  timer: TimerHandle = undefined;
  /** When `timer` fires; infinite when there is none. */
  timerAt = Number.POSITIVE_INFINITY;
}

/** Whole ms to wait before retrying a registration refused as `rate-limited`. */
export function retryDelayMs(retryAfterMs: number | undefined, detail: string | undefined): number {
  const inDetail = detail === undefined ? undefined : RETRY_IN_DETAIL.exec(detail)?.[1];
  const said = retryAfterMs ?? (inDetail === undefined ? undefined : Number(inDetail));
  if (said === undefined || !Number.isFinite(said)) return DEFAULT_RETRY_MS;
  return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, Math.ceil(said)));
}

export class Registrations {
  readonly #frames: ReadonlyMap<string, OutboundProviderFrame>;
  readonly #timers: Timers;
  /** Hands a frame to the channel; must not throw. */
  readonly #send: (proxy: string, frame: OutboundProviderFrame) => void;
  readonly #sessions = new Map<string, Session>();

  /** `frames`: each tool's registration frame, by tool name. */
  constructor(
    frames: ReadonlyMap<string, OutboundProviderFrame>,
    timers: Timers,
    send: (proxy: string, frame: OutboundProviderFrame) => void,
  ) {
    this.#frames = frames;
    this.#timers = timers;
    this.#send = send;
  }

  /** A proxy appeared: every tool is sent, unless it already appeared in this connection. */
  open(proxy: string): void {
    if (this.#sessions.has(proxy)) return;
    const session = new Session();
    this.#sessions.set(proxy, session);
    for (const name of this.#frames.keys()) this.#sendAs(proxy, session, name, 'in-flight', 0);
  }

  /** `agent:hello`: every tool again, but those waiting for their retry. */
  hello(proxy: string): void {
    const session = this.#sessions.get(proxy);
    if (session === undefined) {
      this.open(proxy);
      return;
    }
    for (const name of this.#frames.keys()) {
      const kind = session.tools.get(name)?.kind;
      if (kind !== 'waiting' && kind !== 'retrying')
        this.#sendAs(proxy, session, name, 'in-flight', 0);
    }
  }

  /**
   * Records an answer. Returns the ms until the tool is sent again when it will be (a
   * `rate-limited` refusal), else undefined. An answer for a tool not sent to `proxy` in this
   * connection changes nothing.
   */
  answered(proxy: string, answer: RegistrationAnswer): number | undefined {
    const session = this.#sessions.get(proxy);
    const state = session?.tools.get(answer.name);
    if (session === undefined || state === undefined) return undefined;
    const wasRetry = state.kind === 'retrying';
    const now = this.#timers.now();
    let retryInMs: number | undefined;
    if (answer.success) {
      state.kind = 'registered';
    } else if (state.kind === 'registered') {
      return undefined; // the answer to a duplicate: a refused update leaves the tool registered
    } else if (answer.reason === 'rate-limited') {
      retryInMs = retryDelayMs(answer.retry_after_ms, answer.detail);
      state.kind = 'waiting';
      session.retryAt = now + retryInMs;
    } else {
      state.kind = 'refused';
    }
    // A retry admitted means the budget has room again: the next one goes now.
    this.#pump(proxy, session, now, answer.success && wasRetry);
    return retryInMs;
  }

  /** The proxy left (or its connection is gone): its state and its timer go. */
  forget(proxy: string): void {
    const session = this.#sessions.get(proxy);
    if (session === undefined) return;
    this.#sessions.delete(proxy);
    this.#disarm(session);
  }

  /** Forgets every proxy. */
  clear(): void {
    for (const proxy of [...this.#sessions.keys()]) this.forget(proxy);
  }

  /**
   * Sends the next retry when none is in flight and it is time (or `admitted`: one just was), and
   * sets the timer for what comes next: the answer of the retry in flight, or the retry time.
   */
  #pump(proxy: string, session: Session, now: number, admitted = false): void {
    let next: string | undefined;
    for (const [name, state] of session.tools) {
      if (state.kind === 'retrying') {
        if (state.at > now) {
          this.#arm(proxy, session, state.at);
          return;
        }
        state.kind = 'waiting'; // its answer is overdue: presumed lost, sent again in turn
      }
      if (state.kind === 'waiting') next ??= name;
    }
    if (next === undefined) {
      this.#arm(proxy, session, Number.POSITIVE_INFINITY);
    } else if (!admitted && session.retryAt > now) {
      this.#arm(proxy, session, session.retryAt);
    } else {
      const answerBy = this.#timers.now() + RETRY_ANSWER_MS;
      this.#sendAs(proxy, session, next, 'retrying', answerBy);
      this.#arm(proxy, session, answerBy);
    }
  }

  #sendAs(
    proxy: string,
    session: Session,
    name: string,
    kind: 'in-flight' | 'retrying',
    at: number,
  ): void {
    const frame = this.#frames.get(name);
    if (frame === undefined) return;
    session.tools.set(name, { kind, at });
    this.#send(proxy, frame);
  }

  /** One timer per proxy, for the earliest thing due; left alone when that has not changed. */
  #arm(proxy: string, session: Session, at: number): void {
    if (at === session.timerAt) return;
    this.#disarm(session);
    if (at === Number.POSITIVE_INFINITY) return;
    session.timerAt = at;
    session.timer = this.#timers.setTimeout(
      () => {
        session.timer = undefined;
        session.timerAt = Number.POSITIVE_INFINITY;
        if (this.#sessions.get(proxy) !== session) return;
        // A timer may fire a little before the clock says it should: what it was set for is due.
        this.#pump(proxy, session, Math.max(at, this.#timers.now()));
      },
      Math.max(0, at - this.#timers.now()),
    );
  }

  #disarm(session: Session): void {
    if (session.timer !== undefined) this.#timers.clearTimeout(session.timer);
    session.timer = undefined;
    session.timerAt = Number.POSITIVE_INFINITY;
  }
}
