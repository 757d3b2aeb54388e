/**
 * Heap readings after full garbage collections, whatever flags node was started with (the
 * collector is exposed on demand), and a way to check that objects were let go.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collector: (() => void) | undefined;

/** A full collection (twice, so objects freed by finalizers go too). */
export function collectGarbage(): void {
  collector ??= exposedGc();
  collector();
  collector();
}

function exposedGc(): () => void {
  const global = (globalThis as { gc?: () => void }).gc;
  if (global !== undefined) return global;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/**
 * Heap in use after full collections, in bytes: the lowest of `samples` readings a few ms apart
 * (one reading now and then comes out megabytes higher, for code V8 compiled meanwhile).
 */
export async function settledHeap(samples = 3): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < samples; i++) {
    // A macrotask first: WeakRef targets read in this job are kept until it ends.
    await new Promise((resolve) => setTimeout(resolve, 10));
    collectGarbage();
    lowest = Math.min(lowest, process.memoryUsage().heapUsed);
  }
  return lowest;
}

/** How many of the WeakRefs still hold their object after collections. */
export async function stillAlive(refs: ReadonlyArray<WeakRef<object>>): Promise<number> {
  await settledHeap();
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

export const MiB = 1024 * 1024;
