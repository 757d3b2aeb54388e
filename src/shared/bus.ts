/**
 * A typed event bus. Emitting never throws and never waits: handlers run in subscription order,
 * each isolated; a throw is logged, a returned promise is observed (its rejection logged) but not
 * awaited. The proxy subscribes first, so its cancellation runs before any user handler.
 */
import { describeUnknown } from './errors.js';
import { type Logger, silentLogger } from './logger.js';

export type Handler<P> = (payload: P) => unknown;
export type Unsubscribe = () => void;

export class HookBus<Events extends object> {
  /** One entry per subscription (not per function), so each unsubscribe removes exactly its own. */
  readonly #handlers = new Map<keyof Events, Set<{ handler: Handler<never> }>>();
  readonly #logger: Logger;

  constructor(logger: Logger = silentLogger) {
    this.#logger = logger;
  }

  /** Subscribe; the returned function unsubscribes (idempotent). */
  on<K extends keyof Events>(event: K, handler: Handler<Events[K]>): Unsubscribe {
    let set = this.#handlers.get(event);
    if (set === undefined) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    const entry = { handler: handler as Handler<never> };
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#handlers.get(event);
    if (set === undefined || set.size === 0) return;
    for (const entry of [...set]) this.#invoke(event, entry.handler as Handler<Events[K]>, payload);
  }

  listenerCount(event: keyof Events): number {
    return this.#handlers.get(event)?.size ?? 0;
  }

  #invoke<K extends keyof Events>(event: K, handler: Handler<Events[K]>, payload: Events[K]): void {
    try {
      const returned = handler(payload);
      if (isThenable(returned)) {
        returned.then(undefined, (error: unknown) => this.#report(event, error));
      }
    } catch (error) {
      this.#report(event, error);
    }
  }

  /** Logs a handler's failure; a logger that throws too is ignored (emit never throws). */
  #report(event: keyof Events, error: unknown): void {
    try {
      this.#logger.warn(
        { event: String(event), error: describeUnknown(error) },
        'hook handler failed',
      );
    } catch {
      // Nowhere left to report it: the other handlers must still run.
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
