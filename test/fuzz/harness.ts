/**
 * The two decoders under fuzzing, each with an oracle that says, frame by frame, what must come
 * back: the proxy (proxy-fuzz.ts) and the provider runtime (provider-fuzz.ts).
 *
 * Both: every frame sent back follows the protocol; no internal error (the channel guards log
 * those with `logger.error`); no prototype polluted; bounded state.
 */
import type { FuzzSummary } from './summary.js';

export type { Made } from './frame-mix.js';
export { ProviderFuzz } from './provider-fuzz.js';
export { prototypeKeys, prototypePolluted } from './prototypes.js';
export { ProxyFuzz } from './proxy-fuzz.js';
export { emptySummary, type FuzzSummary } from './summary.js';

/** Runs `frames` frames through one target, reporting progress every `every` frames. */
export async function fuzz(
  target: { step(): Promise<void>; summary: FuzzSummary },
  frames: number,
  progress?: (done: number) => void,
  every = 10_000,
): Promise<FuzzSummary> {
  for (let i = 1; i <= frames; i++) {
    await target.step();
    if (progress !== undefined && i % every === 0) progress(i);
  }
  return target.summary;
}
