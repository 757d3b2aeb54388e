/**
 * Closes an MCP HTTP session nobody uses: one timer, armed while the session has no request open
 * (a GET holding the server's event stream counts as open), disarmed while it has one. It also
 * remembers when the session was last used, which picks the session to evict at the cap.
 */
import type { ServerResponse } from 'node:http';
import { systemTimers, type Timers } from '../../src/index.js';

export class IdleTimer {
  readonly #ms: number;
  readonly #onIdle: () => void;
  readonly #timers: Timers;
  #open = 0;
  /** The armed timer's handle (`Timers` handles are opaque), or undefined. */
  #timer: unknown;
  #stopped = false;
  #lastActiveAt: number;

  constructor(ms: number, onIdle: () => void, timers: Timers = systemTimers) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#timers = timers;
    this.#lastActiveAt = timers.now();
    this.#arm();
  }

  /** When a request last started or ended (or the session opened), on the timers' clock. */
  get lastActiveAt(): number {
    return this.#lastActiveAt;
  }

  /** How long since then. */
  get idleMs(): number {
    return this.#timers.now() - this.#lastActiveAt;
  }

  /** Runs `handle` as one open request, which lasts until `response` closes. */
  async during(response: ServerResponse, handle: () => Promise<void>): Promise<void> {
    this.#open++;
    this.#lastActiveAt = this.#timers.now();
    this.#disarm();
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      this.#open--;
      this.#lastActiveAt = this.#timers.now();
      if (this.#open === 0) this.#arm();
    };
    response.once('close', finished);
    try {
      await handle();
    } finally {
      // A response the transport ended synchronously may have closed before the listener ran.
      if (response.writableFinished || response.destroyed) {
        response.off('close', finished);
        finished();
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #arm(): void {
    this.#disarm();
    if (this.#stopped) return;
    const timer = this.#timers.setTimeout(this.#onIdle, this.#ms);
    // A forgotten endpoint must not keep the process alive (system timers only have unref).
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
