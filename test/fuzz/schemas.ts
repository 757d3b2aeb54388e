/** Input schemas for fuzzed registrations: mostly plausible, often wrong, sometimes hostile. */
import type { Rng } from '../support/rng.js';
import { type Json, Obj, obj } from './json-tree.js';
import {
  hugeString,
  KEYS,
  nestedArrays,
  nestedObjects,
  pollution,
  randomKey,
  randomNumber,
  randomValue,
} from './values.js';

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
