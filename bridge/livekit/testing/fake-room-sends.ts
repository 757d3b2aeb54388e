/**
 * A fake room's outgoing sends: each step a tick apart on the server, and all of them cut short
 * when the connection ends (rejected with 'AbortError', or dropped, as the room's SDK does).
 */
import { setMaxListeners } from 'node:events';
import type { FakeServerLink } from './fake-protocol.js';
import type { RoomFlavour } from './fake-room-flavour.js';
import type { FakeLiveKitServer } from './fake-sfu.js';

export type SendStep = (link: FakeServerLink) => void;

type SendFlavour = Pick<RoomFlavour<unknown>, 'sendError' | 'sendsWhenDisconnected'>;

export class PacedSends {
  readonly #server: FakeLiveKitServer;
  readonly #flavour: SendFlavour;
  /** Before the first connect, sends fail as after a disconnect. */
  #abort = abortedController();

  constructor(server: FakeLiveKitServer, flavour: SendFlavour) {
    this.#server = server;
    this.#flavour = flavour;
  }

  /** A new connection: sends run until `cut()`. */
  open(): void {
    this.#abort = new AbortController();
    setMaxListeners(0, this.#abort.signal); // one listener per pending send
  }

  /** The connection ended: pending sends, and any made from now on, abort (or drop). */
  cut(): void {
    this.#abort.abort();
  }

  /** Runs each step a tick apart; a cut before the last one aborts (or drops) the send. */
  send(steps: SendStep[], link: () => FakeServerLink | undefined): Promise<void> {
    const signal = this.#abort.signal;
    const drop = this.#flavour.sendsWhenDisconnected === 'drop';
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (drop) resolve();
        else reject(abortReason(signal));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      const run = (i: number): void => {
        this.#server.defer(() => {
          const current = link();
          if (signal.aborted || current === undefined) return;
          try {
            steps[i]?.(current);
          } catch (e) {
            signal.removeEventListener('abort', onAbort);
            reject(this.#flavour.sendError(e instanceof Error ? e : new Error(String(e))));
            return;
          }
          if (i + 1 < steps.length) {
            run(i + 1);
          } else {
            signal.removeEventListener('abort', onAbort);
            resolve();
          }
        });
      };
      run(0);
    });
  }
}

function abortedController(): AbortController {
  const controller = new AbortController();
  controller.abort();
  return controller;
}

/** The signal's reason: the DOMException 'AbortError' ("This operation was aborted"). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError');
}
