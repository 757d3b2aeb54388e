/** Waiting for a tool to be registered, with one subscription removed however the wait ends. */
import { cancelledError } from '../calls/messages.js';
import type { HookBus } from '../../shared/bus.js';
import type { HookEvents } from './events.js';

/**
 * Resolves with `lookup(name)` once it is defined: at once, or on the `tool:registered` event that
 * makes it so. Rejects with CANCELLED if `signal` aborts first.
 */
export function waitForTool<T>(
  hooks: HookBus<HookEvents>,
  name: string,
  lookup: (name: string) => T | undefined,
  signal: AbortSignal | undefined,
): Promise<T> {
  const present = lookup(name);
  if (present !== undefined) return Promise.resolve(present);
  if (signal?.aborted)
    return Promise.reject(cancelledError('caller-aborted', undefined, signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      unsubscribe();
      reject(cancelledError('caller-aborted', undefined, signal?.reason));
    };
    // A tool gets the name by registering under it, or by taking it back (a rename).
    const arrived = ({ tool }: { tool: { name: string } }) => {
      const registered = tool.name === name ? lookup(name) : undefined;
      if (registered === undefined) return;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      resolve(registered);
    };
    const subscriptions = [hooks.on('tool:registered', arrived), hooks.on('tool:renamed', arrived)];
    const unsubscribe = () => {
      for (const off of subscriptions) off();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
