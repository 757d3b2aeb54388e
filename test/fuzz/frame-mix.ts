/** How each fuzzed frame is made: valid, mutated (tree or text), special, oversize, not a frame. */
import type { Rng } from '../support/rng.js';
import { type Obj, write } from './json-tree.js';
import { mutated, notAFrame } from './mutation.js';

export interface Made {
  readonly text: string;
  readonly kind: string;
}

export function make(
  rng: Rng,
  tree: () => Obj,
  special: () => string,
  oversized: (() => string) | undefined,
): Made {
  const roll = rng.next();
  if (oversized !== undefined && roll < 0.0004) return { text: oversized(), kind: 'oversize' };
  if (roll < 0.004) return { text: special(), kind: 'special' };
  if (roll < 0.2) return { text: write(tree()), kind: 'valid' };
  if (roll < 0.62) return { text: mutated(rng, tree(), 1 + rng.int(3), 0), kind: 'mutated' };
  if (roll < 0.96) return { text: mutated(rng, tree(), rng.int(3), 1), kind: 'text-mutated' };
  return { text: notAFrame(rng), kind: 'not-a-frame' };
}
