/** What both fuzz targets run in: a logger that counts crashes, and letting the room deliver. */
import type { Logger } from '../../src/index.js';
import type { FuzzSummary } from './summary.js';

/**
 * Lets everything the room queued be delivered, and whatever that sets off. The room and both
 * runtimes only ever queue microtasks, so draining enough rounds of them is enough (and much
 * cheaper than a turn of the event loop per frame). Were a reply ever to come later, the oracle of
 * the next frame would see it as unexpected.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await Promise.resolve();
}

/** A logger that counts errors (what the channel guards log when a handler throws). */
export function countingLogger(summary: FuzzSummary): Logger {
  const ignore = () => {};
  return {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: () => {
      summary.crashes++;
    },
  };
}
