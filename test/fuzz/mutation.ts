/** Mutations of a frame, as a tree and as text, and text that is not a frame at all. */
import type { Rng } from '../support/rng.js';
import { type Json, Obj, Raw, write } from './json-tree.js';
import {
  hugeString,
  nestedArrays,
  nestedObjects,
  NUMBER_TOKENS,
  pollution,
  randomKey,
  randomValue,
} from './values.js';

/** Applies one structural change somewhere in `tree`. */
export function mutateTree(rng: Rng, tree: Obj): void {
  // Walk down to a random object (or stay at the root).
  let target = tree;
  for (let hops = rng.int(3); hops > 0; hops--) {
    const children = target.entries.map(([, v]) => v).filter((v): v is Obj => v instanceof Obj);
    if (children.length === 0) break;
    target = rng.pick(children);
  }
  const at = target.entries.length === 0 ? -1 : rng.int(target.entries.length);
  const entry = at < 0 ? undefined : target.entries[at];
  switch (rng.int(10)) {
    case 0:
      if (at >= 0) target.entries.splice(at, 1);
      return;
    case 1:
    case 2:
      if (entry !== undefined) entry[1] = randomValue(rng, 2);
      return;
    case 3:
      target.entries.push(...pollution(rng).entries);
      return;
    case 4:
      // the same key again, with another value (JSON.parse keeps the last)
      if (entry !== undefined) target.entries.push([entry[0], randomValue(rng, 1)]);
      return;
    case 5:
      if (entry !== undefined) entry[1] = [entry[1]];
      return;
    case 6:
      // Long enough to cross every field cap (the specials bring the really big ones).
      if (entry !== undefined)
        entry[1] = hugeString(rng, 200 + rng.int(rng.chance(0.9) ? 300 : 9_000));
      return;
    case 7:
      if (entry !== undefined)
        entry[1] = rng.chance(0.5)
          ? nestedArrays(20 + rng.int(2_000))
          : nestedObjects(20 + rng.int(500));
      return;
    case 8:
      target.entries.push([randomKey(rng), randomValue(rng, 2)]);
      return;
    default:
      if (entry !== undefined)
        entry[1] = rng.pick<Json>([null, true, 0, '', [], new Obj(), new Raw('1e999')]);
  }
}

const TEXT_INSERTS = [
  '"',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '\\',
  '\\u',
  '\\ud800',
  '\ud800',
  '\udfff',
  '\u0000',
  '\ufeff',
  'null',
  '1e999',
  '/*',
  '\n',
];

/** Applies one change to the JSON text: the frame usually stops being JSON, or becomes other JSON. */
export function mutateText(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(8)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + rng.pick(TEXT_INSERTS) + text.slice(at);
    case 2: {
      const end = Math.min(text.length, at + 1 + rng.int(8));
      return text.slice(0, at) + text.slice(end);
    }
    case 3: {
      const end = Math.min(text.length, at + 1 + rng.int(40));
      return text.slice(0, end) + text.slice(at, end) + text.slice(end);
    }
    case 4: {
      // two code units swapped (a surrogate pair may come apart)
      const [lo, hi] = [Math.min(at, text.length - 1), rng.int(text.length)].sort((a, b) => a - b);
      if (lo === undefined || hi === undefined || lo < 0 || lo === hi) return text;
      return (
        text.slice(0, lo) +
        text.charAt(hi) +
        text.slice(lo + 1, hi) +
        text.charAt(lo) +
        text.slice(hi + 1)
      );
    }
    case 5:
      return (
        rng.pick(['\ufeff', ' ', '\n\t', '\u00a0']) + text + rng.pick(['', ' ', 'x', '}', '\u0000'])
      );
    case 6:
      // a number token out of range, where a digit was
      return text.replace(/\d+/, rng.pick(NUMBER_TOKENS));
    default:
      return text.slice(0, at) + String.fromCharCode(rng.int(0x10000)) + text.slice(at);
  }
}

/** Text that is not a frame at all. */
export function notAFrame(rng: Rng): string {
  return rng.pick([
    '',
    ' ',
    'null',
    'true',
    '42',
    '"client:tool-register"',
    '[]',
    '[{"type":"client:tool-register"}]',
    '{',
    '}',
    '{"type":',
    'undefined',
    'NaN',
    "{'type':'client:tool-result'}",
    '\ufeff{}',
    '{"type":"client:tool-register"}garbage',
    String.fromCharCode(0xd800),
    '\u0000',
    write(randomValue(rng, 3)),
  ]);
}

/** Applies `count` tree mutations and, with probability `textChance`, one text mutation. */
export function mutated(rng: Rng, frame: Obj, count: number, textChance: number): string {
  for (let i = 0; i < count; i++) mutateTree(rng, frame);
  const text = write(frame);
  return rng.chance(textChance) ? mutateText(rng, text) : text;
}
