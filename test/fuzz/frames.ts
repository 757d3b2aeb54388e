/**
 * Frames for fuzzing, generated and mutated from a seed (the same seed gives the same frames).
 * Values are built as trees whose objects are lists of entries, so a frame can carry what a JS
 * object cannot: duplicate keys, `__proto__` as a plain key, keys in any order. They are written
 * out as JSON text, then sometimes mutated as text (truncated, spliced, with lone surrogates).
 */

import type { Rng } from '../support/rng.js';

// ---- JSON trees ----------------------------------------------------------------------------------

/** A JSON object as written: entries in order, duplicates and `__proto__` allowed. */
export class Obj {
  readonly entries: Array<[string, Json]>;

  constructor(entries: Array<[string, Json]> = []) {
    this.entries = entries;
  }

  set(key: string, value: Json): this {
    const at = this.entries.findIndex(([k]) => k === key);
    if (at >= 0) this.entries[at] = [key, value];
    else this.entries.push([key, value]);
    return this;
  }
}

/** JSON text written as is: number tokens JSON.stringify cannot make (`1e999`, `-0`), or bombs. */
export class Raw {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

export type Json = null | boolean | number | string | Json[] | Obj | Raw;

export function obj(record: Record<string, Json>): Obj {
  return new Obj(Object.entries(record));
}

export function write(value: Json): string {
  if (value instanceof Raw) return value.text;
  if (value instanceof Obj) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  return JSON.stringify(value);
}

// ---- building blocks -----------------------------------------------------------------------------

export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const KEYS = [
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

const NUMBER_TOKENS = [
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

function randomNumber(rng: Rng): Json {
  if (rng.chance(0.3)) return new Raw(rng.pick(NUMBER_TOKENS));
  return rng.chance(0.5) ? rng.int(1_000) - 100 : (rng.next() - 0.5) * 10 ** rng.int(12);
}

function randomKey(rng: Rng): string {
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

// ---- input schemas -------------------------------------------------------------------------------

const PATTERNS = [
  '^[a-z]+$',
  '^(a+)+$', // catastrophic on a backtracking engine
  '(a|aa)+$',
  '(.*a){12}',
  '^(\\w+\\s?)*$',
  '(a)\\1', // backreference: RE2 refuses
  '(?=a)', // lookahead: RE2 refuses
  '(?<=a)b',
  '[', // not a regex
  '\\', // not a regex
  'a{1000}{1000}',
  '((a{100}){100}){100}',
  '\ud800',
  '\\p{L}+',
  '(?i)abc',
];

const TYPES = ['object', 'string', 'number', 'integer', 'boolean', 'array', 'null', 'nope'];

/** A sub-schema: mostly sensible, often wrong-typed, sometimes hostile. */
function subSchema(rng: Rng, depth: number): Json {
  if (depth <= 0 || rng.chance(0.3)) {
    if (rng.chance(0.1)) return randomValue(rng, 1);
    return obj({ type: rng.pick(TYPES) });
  }
  const schema = new Obj();
  const keywords = rng.int(4) + 1;
  for (let i = 0; i < keywords; i++) {
    switch (rng.int(16)) {
      case 0:
        schema.set('type', rng.chance(0.9) ? rng.pick(TYPES) : randomValue(rng, 1));
        break;
      case 1:
        schema.set('properties', properties(rng, depth - 1));
        break;
      case 2:
        schema.set('pattern', rng.chance(0.9) ? rng.pick(PATTERNS) : randomValue(rng, 1));
        break;
      case 3:
        schema.set(
          'enum',
          Array.from({ length: rng.int(5) }, () => randomValue(rng, 1)),
        );
        break;
      case 4:
        schema.set('items', subSchema(rng, depth - 1));
        break;
      case 5:
        schema.set(rng.pick(['allOf', 'anyOf', 'oneOf']), [
          subSchema(rng, depth - 1),
          subSchema(rng, depth - 1),
        ]);
        break;
      case 6:
        schema.set('not', subSchema(rng, depth - 1));
        break;
      case 7:
        schema.set(
          '$ref',
          rng.pick([
            '#',
            '#/$defs/a',
            '#/definitions/a',
            '#/properties/x',
            '#/nope',
            'https://example.com/remote.json',
            'urn:fuzz:a',
            '#anchor',
            '',
          ]),
        );
        break;
      case 8:
        schema.set(
          rng.pick(['minLength', 'maxLength', 'minimum', 'maximum', 'multipleOf']),
          randomNumber(rng),
        );
        break;
      case 9:
        schema.set(
          'additionalProperties',
          rng.chance(0.5) ? rng.chance(0.5) : subSchema(rng, depth - 1),
        );
        break;
      case 10:
        schema.set('patternProperties', new Obj([[rng.pick(PATTERNS), subSchema(rng, depth - 1)]]));
        break;
      case 11:
        schema.set(
          'required',
          Array.from({ length: rng.int(3) }, () => randomKey(rng)),
        );
        break;
      case 12:
        schema.set(
          rng.pick(['$id', '$anchor', '$dynamicAnchor']),
          rng.pick(['urn:fuzz:a', 'anchor', 'https://example.com/x.json', '#frag']),
        );
        break;
      case 13:
        schema.set('$async', rng.chance(0.8) ? true : randomValue(rng, 0));
        break;
      case 14:
        schema.set(
          rng.pick(['if', 'then', 'else', 'contains', 'propertyNames']),
          subSchema(rng, depth - 1),
        );
        break;
      default:
        schema.set(rng.pick(['format', 'default', 'const', 'title']), randomValue(rng, 1));
    }
  }
  return schema;
}

function properties(rng: Rng, depth: number): Obj {
  const props = new Obj();
  const count = rng.int(4);
  for (let i = 0; i < count; i++) props.entries.push([randomKey(rng), subSchema(rng, depth)]);
  return props;
}

/** `$defs` where each level refers twice to the one below: validation work doubles per level. */
export function refFanOut(levels: number): Obj {
  const defs = new Obj([['d0', obj({ type: 'number' })]]);
  for (let i = 1; i <= levels; i++) {
    const below = obj({ $ref: `#/$defs/d${i - 1}` });
    defs.set(`d${i}`, obj({ allOf: [below, below] }));
  }
  return obj({
    type: 'object',
    properties: obj({ x: obj({ $ref: `#/$defs/d${levels}` }) }),
    $defs: defs,
  });
}

/** Schemas built to hurt: deep, wide, looping, async, over every cap. */
export function schemaBomb(rng: Rng): Json {
  switch (rng.int(16)) {
    case 0: {
      // nested 40 deep (over the depth cap)
      let inner: Json = obj({ type: 'string' });
      for (let i = 0; i < 40; i++) inner = obj({ type: 'object', properties: obj({ a: inner }) });
      return inner;
    }
    case 1:
      return obj({ type: 'object', deep: nestedArrays(100_000) });
    case 2:
      return obj({ type: 'object', deep: nestedObjects(20_000) });
    case 3:
      // a large enum, under the node cap
      return obj({
        type: 'object',
        properties: obj({ e: obj({ enum: Array.from({ length: 8_000 }, (_, i) => `v${i}`) }) }),
      });
    case 4:
      // an enum over the node cap
      return obj({
        type: 'object',
        properties: obj({ e: obj({ enum: Array.from({ length: 12_000 }, (_, i) => i) }) }),
      });
    case 5:
      return obj({
        type: 'object',
        properties: obj({ s: obj({ type: 'string', pattern: rng.pick(PATTERNS) }) }),
      });
    case 6:
      // $ref loop: a -> b -> a
      return obj({
        type: 'object',
        properties: obj({ x: obj({ $ref: '#/$defs/a' }) }),
        $defs: obj({ a: obj({ $ref: '#/$defs/b' }), b: obj({ $ref: '#/$defs/a' }) }),
      });
    case 7:
      return obj({ type: 'object', $ref: '#' });
    case 8:
      return obj({ type: 'object', $async: true, properties: obj({ x: obj({ type: 'number' }) }) });
    case 9:
      return obj({ type: 'object', properties: obj({ x: obj({ $async: true, type: 'number' }) }) });
    case 10:
      // fan-out kept small here: each level doubles the validation work
      return refFanOut(rng.int(12));
    case 11:
      // over the size cap
      return obj({ type: 'object', description: hugeString(rng, 70_000) });
    case 12:
      return obj({
        type: 'object',
        properties: obj({ s: obj({ type: 'string', pattern: 'a'.repeat(60_000) }) }),
      });
    case 13:
      // recursive trees, as zod writes them
      return obj({
        type: 'object',
        properties: obj({ children: obj({ type: 'array', items: obj({ $ref: '#' }) }) }),
      });
    case 14:
      return new Obj([
        ['type', 'object'],
        [
          'properties',
          new Obj([
            ['__proto__', obj({ type: 'string' })],
            ['constructor', obj({ type: 'number' })],
          ]),
        ],
        ['required', ['__proto__', 'constructor']],
        ...pollution(rng).entries,
      ]);
    default:
      return obj({
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        definitions: obj({ a: obj({ $ref: '#/definitions/a' }) }),
        properties: obj({ a: obj({ $ref: '#/definitions/a' }) }),
      });
  }
}

/** An input schema: usually a plausible object schema, sometimes wrong at the root. */
export function inputSchema(rng: Rng): Json {
  if (rng.chance(0.05)) return randomValue(rng, 2);
  if (rng.chance(0.04)) return schemaBomb(rng);
  const schema = obj({ type: rng.chance(0.92) ? 'object' : rng.pick(TYPES) });
  if (rng.chance(0.8)) schema.set('properties', properties(rng, 2));
  if (rng.chance(0.2)) schema.set('required', [rng.pick(KEYS)]);
  if (rng.chance(0.1))
    schema.set(
      '$schema',
      rng.pick([
        'http://json-schema.org/draft-07/schema#',
        'https://json-schema.org/draft/2020-12/schema',
        'draft-06',
        42,
      ]),
    );
  if (rng.chance(0.2)) schema.set('$defs', new Obj([['a', subSchema(rng, 2)]]));
  if (rng.chance(0.05)) schema.entries.push(...pollution(rng).entries);
  return schema;
}

// ---- mutation ------------------------------------------------------------------------------------

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
