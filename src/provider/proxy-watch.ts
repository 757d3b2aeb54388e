/**
 * A robot must stop when the proxy that set it moving is gone, and on LiveKit a crashed proxy leaves
 * the room only when ICE gives up (about 20 s). A proxy that pings (`agent:ping`, carrying its own
 * timeout) is watched while it has calls running here: once nothing has come from it for that
 * long, they are stopped. One timer for the provider, armed only while such calls run, and re-armed
 * when it fires, not per frame.
 */
import type { Timers } from '../shared/timers.js';

const MIN_TIMEOUT_MS = 1_000;

export interface ProxyWatchDeps {
  readonly timers: Timers;
  /** How many calls `proxy` has running here. */
  running(proxy: string): number;
  /** Nothing from `proxy` for `silentMs`, past its timeout: stop its calls. */
  silent(proxy: string, silentMs: number): void;
}

export class ProxyWatch {
  readonly #deps: ProxyWatchDeps;
  /** Proxies that ping, with the timeout each announced. */
  readonly #timeoutOf = new Map<string, number>();
  readonly #heardAt = new Map<string, number>();
  #timer: unknown;

  constructor(deps: ProxyWatchDeps) {
    this.#deps = deps;
  }

  /** A frame came from `proxy`. */
  heard(proxy: string): void {
    if (this.#timeoutOf.has(proxy)) this.#heardAt.set(proxy, this.#deps.timers.now());
  }

  /** `proxy` pinged: from now on it is watched with `timeoutMs` (at least 1 s). */
  pinged(proxy: string, timeoutMs: number): void {
    // A proxy announcing less cannot make its providers give it up faster than 1 s.
    this.#timeoutOf.set(proxy, Math.max(timeoutMs, MIN_TIMEOUT_MS));
    this.#heardAt.set(proxy, this.#deps.timers.now());
    this.#arm();
  }

  /** A call of `proxy` started here. */
  callStarted(proxy: string): void {
    if (this.#timeoutOf.has(proxy)) this.#arm();
  }

  forget(proxy: string): void {
    this.#timeoutOf.delete(proxy);
    this.#heardAt.delete(proxy);
  }

  clear(): void {
    this.#timeoutOf.clear();
    this.#heardAt.clear();
    this.#deps.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const next = this.#nextDeadline();
    if (next === undefined) return;
    this.#timer = this.#deps.timers.setTimeout(
      this.#check,
      Math.max(0, next - this.#deps.timers.now()),
    );
  }

  /** The earliest time a watched proxy with running calls would be past its timeout. */
  #nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const [proxy, timeoutMs] of this.#timeoutOf) {
      if (this.#deps.running(proxy) === 0) continue;
      const due = (this.#heardAt.get(proxy) ?? 0) + timeoutMs;
      next = next === undefined ? due : Math.min(next, due);
    }
    return next;
  }

  readonly #check = (): void => {
    this.#timer = undefined;
    const now = this.#deps.timers.now();
    for (const [proxy, timeoutMs] of this.#timeoutOf) {
      if (this.#deps.running(proxy) === 0) continue;
      const silentMs = now - (this.#heardAt.get(proxy) ?? 0);
      if (silentMs >= timeoutMs) this.#deps.silent(proxy, silentMs);
    }
    this.#arm();
  };
}
