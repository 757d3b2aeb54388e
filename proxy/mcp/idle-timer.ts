/**
 * Closes an MCP HTTP session nobody uses: one timer, armed while the session has no request open
 * (a GET holding the server's event stream counts as open), disarmed while it has one.
 */
import type { ServerResponse } from 'node:http';

export class IdleTimer {
  readonly #ms: number;
  readonly #onIdle: () => void;
  #open = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#arm();
  }

  /** Runs `handle` as one open request, which lasts until `response` closes. */
  async during(response: ServerResponse, handle: () => Promise<void>): Promise<void> {
    this.#open++;
    this.#disarm();
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      this.#open--;
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
    this.#timer = setTimeout(this.#onIdle, this.#ms);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
