/**
 * Watches the proxy's tool set and calls `notify` once per burst of changes: the first change opens
 * a window of `debounceMs`, and every change inside it is covered by the one call at its end. A
 * window (rather than a restartable debounce) bounds the delay even under constant churn.
 */
import type { Timers, ToolProxy } from '../../src/index.js';

export interface ToolListWatchOptions {
  readonly debounceMs: number;
  readonly timers: Timers;
  readonly notify: () => void;
}

/** Returns the function that stops watching: both proxy listeners and any pending timer go. */
export function watchToolList(proxy: ToolProxy, options: ToolListWatchOptions): () => void {
  const { debounceMs, timers, notify } = options;
  let pending: { handle: unknown } | undefined;
  let stopped = false;

  const changed = (): void => {
    if (stopped || pending !== undefined) return;
    pending = {
      handle: timers.setTimeout(() => {
        pending = undefined;
        if (!stopped) notify();
      }, debounceMs),
    };
  };

  const unsubscribers = [
    proxy.hooks.on('tool:registered', changed),
    proxy.hooks.on('tool:unregistered', changed),
    proxy.hooks.on('tool:renamed', changed),
  ];

  return () => {
    if (stopped) return;
    stopped = true;
    for (const unsubscribe of unsubscribers) unsubscribe();
    if (pending !== undefined) timers.clearTimeout(pending.handle);
    pending = undefined;
  };
}
