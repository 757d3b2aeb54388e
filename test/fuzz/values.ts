/** The building blocks of fuzzed frames: strings, numbers, keys, JSON values, pollution, bombs. */
import type { Rng } from '../support/rng.js';
import { type Json, Obj, obj, Raw } from './json-tree.js';

export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

export const KEYS = [
  ...POLLUTING_KEYS,
  'toString',
  'valueOf',
  'hasOwnProperty',
  'type',
  'name',
  'call_id',
  'result',
  'error',
  'x',
  '',
  ' ',
  '\ud800',
  '\u0000',
  'polluted',
  '$ref',
  '$id',
  'then',
];

const STRINGS = [
  '',
  'a',
  'move_arm',
  'target',
  'echo',
  'slow',
  'strict',
  '__proto__',
  'constructor',
  'null',
  'client:tool-result',
  '\u0000',
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\ud83d\ude00',
  '"',
  '\\',
  '\u2028\u2029',
  '</script>',
  'Ω≈ç√∫',
  '%s%n%x',
  '${polluted}',
];

export const NUMBER_TOKENS = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '1e308',
  '1e999',
  '-1e999',
  '5e-324',
  '1e-400',
  '9007199254740993',
  '2147483648',
  '4294967296',
  '123456789012345678901234567890',
  '1.7976931348623157e309',
];

const CHARS = 'abcXYZ019_-:. "\\/{}[],\u0000\u001f\u007f\u00e9\u4e2d\ud83d\ude00\ud800\udc00\ufeff';

export function randomString(rng: Rng, max = 24): string {
  if (rng.chance(0.4)) return rng.pick(STRINGS);
  let out = '';
  const length = rng.int(max + 1);
  // Code units, not characters: half a surrogate pair is welcome here.
  for (let i = 0; i < length; i++) out += CHARS.charAt(rng.int(CHARS.length));
  return out;
}

export function randomNumber(rng: Rng): Json {
  if (rng.chance(0.3)) return new Raw(rng.pick(NUMBER_TOKENS));
  return rng.chance(0.5) ? rng.int(1_000) - 100 : (rng.next() - 0.5) * 10 ** rng.int(12);
}

export function randomKey(rng: Rng): string {
  return rng.chance(0.6) ? rng.pick(KEYS) : randomString(rng, 8);
}

/** Any JSON value, at most `depth` levels deep. */
export function randomValue(rng: Rng, depth = 3): Json {
  const roll = rng.int(depth <= 0 ? 4 : 7);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return randomNumber(rng);
    case 3:
      return randomString(rng);
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth - 1));
    default: {
      const entries: Array<[string, Json]> = [];
      const count = rng.int(5);
      for (let i = 0; i < count; i++) entries.push([randomKey(rng), randomValue(rng, depth - 1)]);
      return new Obj(entries);
    }
  }
}

/** `{"__proto__":{"polluted":…}}` and friends: what a prototype-pollution attempt looks like. */
export function pollution(rng: Rng): Obj {
  const payload = obj({ polluted: 'yes', toString: 'polluted', isAdmin: true });
  switch (rng.int(4)) {
    case 0:
      return new Obj([['__proto__', payload]]);
    case 1:
      return new Obj([['constructor', obj({ prototype: payload })]]);
    case 2:
      return new Obj([['prototype', payload]]);
    default:
      return new Obj([
        ['__proto__', payload],
        ['constructor', new Obj([['prototype', payload]])],
      ]);
  }
}

/** `depth` nested arrays: `[[[…]]]`. */
export function nestedArrays(depth: number): Raw {
  return new Raw('['.repeat(depth) + ']'.repeat(depth));
}

/** `depth` nested objects: `{"a":{"a":…}}`. */
export function nestedObjects(depth: number, key = 'a'): Raw {
  return new Raw(`{"${key}":`.repeat(depth) + '{}' + '}'.repeat(depth));
}

export function hugeString(rng: Rng, length: number): string {
  const unit = rng.pick(['a', 'é', '\ud83d\ude00', '\\', '"', '\ud800', 'ab"\\\u0000']);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}
