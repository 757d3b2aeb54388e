import { describe, expect, it } from 'vitest';
import {
  type ArgumentCheck,
  DEFAULT_SCHEMA_LIMITS,
  SchemaCompiler,
  SchemaError,
} from '../../../../src/tool-proxy/registry/schema-validator.js';

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#';
const DRAFT_2020 = 'https://json-schema.org/draft/2020-12/schema';

/** What compile() threw, so tests can assert on its class and message. */
function compileError(compiler: SchemaCompiler, schema: Record<string, unknown>): unknown {
  try {
    compiler.compile(schema);
  } catch (error) {
    return error;
  }
  return undefined;
}

function problems(check: ArgumentCheck): string[] {
  return check.ok ? [] : check.problems;
}

function stringWithPattern(pattern: string, dialect?: string): Record<string, unknown> {
  return {
    ...(dialect === undefined ? {} : { $schema: dialect }),
    type: 'object',
    properties: { s: { type: 'string', pattern } },
  };
}

describe('SchemaCompiler: the root', () => {
  it.each([
    ['no type', {}],
    ['type string', { type: 'string' }],
    ['type array', { type: 'array' }],
    ['a type list', { type: ['object'] }],
    ['type null', { type: null }],
  ])('refuses a root with %s', (_what, schema) => {
    const error = compileError(new SchemaCompiler(), schema);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/"type": "object"/);
  });

  it('compiles a plain object schema', () => {
    const compiled = new SchemaCompiler().compile({
      type: 'object',
      properties: { x: { type: 'number' } },
      required: ['x'],
    });
    expect(compiled.check({ x: 1 })).toEqual({ ok: true });
    expect(compiled.check({}).ok).toBe(false);
    expect(compiled.check('not an object')).toEqual({
      ok: false,
      problems: ['arguments must be object'],
    });
  });
});

describe('SchemaCompiler: size limits', () => {
  const schema = { type: 'object', properties: { a: { type: 'string' } } };

  it('has documented defaults', () => {
    expect(DEFAULT_SCHEMA_LIMITS).toEqual({
      maxSchemaChars: 65_536,
      maxSchemaDepth: 32,
      maxSchemaNodes: 10_000,
    });
  });

  it('refuses a schema nested deeper than maxSchemaDepth', () => {
    // root (1) > properties (2) > a (3)
    expect(() => new SchemaCompiler({ maxSchemaDepth: 3 }).compile(schema)).not.toThrow();
    const error = compileError(new SchemaCompiler({ maxSchemaDepth: 2 }), schema);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toBe('input_schema is nested deeper than 2');
  });

  it('refuses a schema with more than maxSchemaNodes nodes', () => {
    // root, "object", properties, a, "string"
    expect(() => new SchemaCompiler({ maxSchemaNodes: 5 }).compile(schema)).not.toThrow();
    const error = compileError(new SchemaCompiler({ maxSchemaNodes: 4 }), schema);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toBe('input_schema has more than 4 nodes');
  });

  it('refuses a schema longer than maxSchemaChars once serialized', () => {
    const length = JSON.stringify(schema).length;
    expect(() => new SchemaCompiler({ maxSchemaChars: length }).compile(schema)).not.toThrow();
    const error = compileError(new SchemaCompiler({ maxSchemaChars: length - 1 }), schema);
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toBe(
      `input_schema is ${length} chars; the limit is ${length - 1}`,
    );
  });

  it('refuses a hostile depth with the default limits, without overflowing the stack', () => {
    let nested: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100_000; i++) nested = { not: nested };
    const error = compileError(new SchemaCompiler(), { type: 'object', properties: { x: nested } });
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/deeper than 32/);
  });

  it('refuses a wide schema with the default node limit', () => {
    const properties = Object.fromEntries(
      Array.from({ length: 6_000 }, (_, i) => [`p${i}`, { type: 'number' }]),
    );
    const error = compileError(new SchemaCompiler(), { type: 'object', properties });
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/more than 10000 nodes/);
  });
});

describe('SchemaCompiler: dialects and $ref', () => {
  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
    ['no $schema', undefined],
  ])('compiles a %s schema', (_what, dialect) => {
    const compiled = new SchemaCompiler().compile({
      ...(dialect === undefined ? {} : { $schema: dialect }),
      type: 'object',
      properties: { x: { type: 'integer', minimum: 0 } },
      required: ['x'],
      additionalProperties: false,
    });
    expect(compiled.check({ x: 3 })).toEqual({ ok: true });
    expect(compiled.check({ x: -1 }).ok).toBe(false);
    expect(compiled.check({ x: 1, y: 2 }).ok).toBe(false);
  });

  it('draft-07 keywords behave as draft-07 (items as an array is a tuple)', () => {
    const compiled = new SchemaCompiler().compile({
      $schema: DRAFT_07,
      type: 'object',
      properties: {
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }] },
      },
    });
    expect(compiled.check({ pair: ['a', 1] })).toEqual({ ok: true });
    expect(compiled.check({ pair: [1, 'a'] }).ok).toBe(false);
  });

  it('2020-12 keywords behave as 2020-12 (prefixItems)', () => {
    const compiled = new SchemaCompiler().compile({
      $schema: DRAFT_2020,
      type: 'object',
      properties: {
        pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
      },
    });
    expect(compiled.check({ pair: ['a', 1] })).toEqual({ ok: true });
    expect(compiled.check({ pair: [1, 'a'] }).ok).toBe(false);
  });

  it('both dialects work side by side in one compiler', () => {
    const compiler = new SchemaCompiler();
    const seven = compiler.compile({
      $schema: DRAFT_07,
      type: 'object',
      properties: { a: { type: 'string' } },
    });
    const twenty = compiler.compile({
      $schema: DRAFT_2020,
      type: 'object',
      properties: { a: { type: 'number' } },
    });
    expect(seven.check({ a: 'x' })).toEqual({ ok: true });
    expect(twenty.check({ a: 1 })).toEqual({ ok: true });
    expect(seven.check({ a: 1 }).ok).toBe(false);
    expect(twenty.check({ a: 'x' }).ok).toBe(false);
  });

  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
  ])('resolves a $ref to #/definitions/... (%s)', (_what, dialect) => {
    const compiled = new SchemaCompiler().compile({
      $schema: dialect,
      type: 'object',
      definitions: { point: { type: 'object', required: ['x', 'y'] } },
      properties: { at: { $ref: '#/definitions/point' } },
    });
    expect(compiled.check({ at: { x: 1, y: 2 } })).toEqual({ ok: true });
    expect(problems(compiled.check({ at: { x: 1 } }))).toEqual([
      "arguments/at must have required property 'y'",
    ]);
  });

  it('resolves a $ref to #/$defs/... (2020-12)', () => {
    const compiled = new SchemaCompiler().compile({
      type: 'object',
      $defs: { speed: { type: 'number', maximum: 10 } },
      properties: { v: { $ref: '#/$defs/speed' } },
    });
    expect(compiled.check({ v: 5 })).toEqual({ ok: true });
    expect(problems(compiled.check({ v: 50 }))).toEqual(['arguments/v must be <= 10']);
  });

  it.each([
    ['a missing local definition', '#/definitions/missing'],
    ['a remote schema', 'https://example.com/schemas/point.json'],
  ])('refuses an unresolvable $ref to %s', (_what, ref) => {
    const compiler = new SchemaCompiler();
    const error = compileError(compiler, { type: 'object', properties: { p: { $ref: ref } } });
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toContain(ref);
    // The compiler is still usable afterwards.
    expect(compiler.compile({ type: 'object' }).check({})).toEqual({ ok: true });
  });

  it('refuses a schema Ajv cannot compile, as SchemaError', () => {
    const error = compileError(new SchemaCompiler(), { type: 'object', minProperties: 'two' });
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/^input_schema does not compile/);
  });
});

describe('SchemaCompiler: patterns run on RE2', () => {
  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
    ['the default dialect', undefined],
  ])('enforces a pattern (%s)', (_what, dialect) => {
    const compiled = new SchemaCompiler().compile(stringWithPattern('^a+$', dialect));
    expect(compiled.check({ s: 'aaa' })).toEqual({ ok: true });
    for (const s of ['b', 'aab', '', 'a a']) {
      expect(problems(compiled.check({ s })), JSON.stringify(s)).toEqual([
        'arguments/s must match pattern "^a+$"',
      ]);
    }
  });

  it('a pattern matches anywhere in the string unless anchored (JSON Schema semantics)', () => {
    const compiled = new SchemaCompiler().compile(stringWithPattern('b', DRAFT_07));
    expect(compiled.check({ s: 'abc' })).toEqual({ ok: true });
    expect(compiled.check({ s: 'xyz' }).ok).toBe(false);
  });

  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
  ])('each schema keeps its own pattern (%s)', (_what, dialect) => {
    const compiler = new SchemaCompiler();
    const onlyA = compiler.compile(stringWithPattern('^a+$', dialect));
    const onlyB = compiler.compile(stringWithPattern('^b+$', dialect));
    expect(onlyA.check({ s: 'aaa' })).toEqual({ ok: true });
    expect(onlyB.check({ s: 'bbb' })).toEqual({ ok: true });
    expect(onlyA.check({ s: 'bbb' }).ok).toBe(false);
    expect(onlyB.check({ s: 'aaa' }).ok).toBe(false);
  });

  it('two patterns in one schema are each enforced', () => {
    const compiled = new SchemaCompiler().compile({
      $schema: DRAFT_07,
      type: 'object',
      properties: {
        digits: { type: 'string', pattern: '^[0-9]+$' },
        letters: { type: 'string', pattern: '^[a-z]+$' },
      },
    });
    expect(compiled.check({ digits: '123', letters: 'abc' })).toEqual({ ok: true });
    expect(problems(compiled.check({ digits: 'abc', letters: '123' }))).toEqual([
      'arguments/digits must match pattern "^[0-9]+$"',
      'arguments/letters must match pattern "^[a-z]+$"',
    ]);
  });

  it('a catastrophic-backtracking pattern compiles and answers correctly', () => {
    const compiled = new SchemaCompiler().compile(stringWithPattern('^(a+)+$'));
    expect(compiled.check({ s: `${'a'.repeat(30)}!` })).toEqual({
      ok: false,
      problems: ['arguments/s must match pattern "^(a+)+$"'],
    });
    expect(compiled.check({ s: 'a'.repeat(30) })).toEqual({ ok: true });
  });

  it.each([
    ['a backreference', '(a)\\1'],
    ['a lookahead', '(?=a)'],
    ['a negative lookahead', '^(?!x)'],
    ['a lookbehind', '(?<=a)b'],
  ])('refuses %s, naming RE2', (_what, pattern) => {
    const error = compileError(new SchemaCompiler(), stringWithPattern(pattern));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/RE2/);
    expect((error as Error).message).toContain(JSON.stringify(pattern));
  });

  it('refuses a backreference in a draft-07 schema too', () => {
    const error = compileError(new SchemaCompiler(), stringWithPattern('(a)\\1', DRAFT_07));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/RE2/);
  });

  it('patternProperties keys run on RE2 as well', () => {
    const error = compileError(new SchemaCompiler(), {
      type: 'object',
      patternProperties: { '^(?=x)': { type: 'number' } },
    });
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(/RE2/);
  });

  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
  ])('patternProperties are enforced (%s)', (_what, dialect) => {
    const compiled = new SchemaCompiler().compile({
      $schema: dialect,
      type: 'object',
      patternProperties: { '^n_': { type: 'number' } },
    });
    expect(compiled.check({ n_a: 1, other: 'free' })).toEqual({ ok: true });
    expect(problems(compiled.check({ n_a: 'x', other: 'free' }))).toEqual([
      'arguments/n_a must be number',
    ]);
  });

  it('a catastrophic patternProperties key compiles and answers correctly', () => {
    const compiled = new SchemaCompiler().compile({
      type: 'object',
      patternProperties: { '^(a+)+$': { type: 'number' } },
      additionalProperties: false,
    });
    expect(compiled.check({ aaaa: 1 })).toEqual({ ok: true });
    expect(compiled.check({ [`${'a'.repeat(30)}!`]: 1 })).toEqual({
      ok: false,
      problems: [`arguments must NOT have additional properties (${'a'.repeat(30)}!)`],
    });
  });
});

describe('SchemaCompiler: check() problems', () => {
  const compiled = new SchemaCompiler().compile({
    type: 'object',
    required: ['x'],
    additionalProperties: false,
    properties: { x: { type: 'number' }, mode: { enum: ['fast', 'slow'] } },
  });

  it('names a missing required property', () => {
    expect(compiled.check({})).toEqual({
      ok: false,
      problems: ["arguments must have required property 'x'"],
    });
  });

  it('names a property of the wrong type by its path', () => {
    expect(compiled.check({ x: 'one' })).toEqual({
      ok: false,
      problems: ['arguments/x must be number'],
    });
  });

  it('names an additional property and the allowed values of an enum', () => {
    expect(problems(compiled.check({ x: 1, y: 2, mode: 'warp' }))).toEqual([
      'arguments must NOT have additional properties (y)',
      'arguments/mode must be equal to one of the allowed values (["fast","slow"])',
    ]);
  });

  it('reports every problem, up to eight and a count of the rest', () => {
    const wide = new SchemaCompiler().compile({
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`p${i}`, { type: 'number' }]),
      ),
    });
    const args = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`p${i}`, 'x']));
    const list = problems(wide.check(args));
    expect(list).toHaveLength(9);
    expect(list[0]).toBe('arguments/p0 must be number');
    expect(list[8]).toBe('and 2 more');
  });

  it('a valid call after an invalid one is ok (no state leaks between checks)', () => {
    expect(compiled.check({}).ok).toBe(false);
    expect(compiled.check({ x: 1 })).toEqual({ ok: true });
  });
});

describe('SchemaCompiler: recompiling and ids', () => {
  it('the same schema object compiles again, each result checking on its own', () => {
    const compiler = new SchemaCompiler();
    const schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
    const first = compiler.compile(schema);
    const second = compiler.compile(schema);
    expect(second.check({ x: 1 })).toEqual({ ok: true });
    expect(second.check({}).ok).toBe(false);
    expect(first.check({ x: 2 })).toEqual({ ok: true });
    expect(compiler.compile(schema).check({ x: 2 })).toEqual({ ok: true });
  });

  it('the same schema object with an $id compiles twice', () => {
    const compiler = new SchemaCompiler();
    const schema = { $id: 'https://example.com/same', type: 'object' };
    const a = compiler.compile(schema);
    const b = compiler.compile(schema);
    expect(a.check({})).toEqual({ ok: true });
    expect(b.check({})).toEqual({ ok: true });
  });

  it.each([
    ['draft-07', DRAFT_07],
    ['2020-12', DRAFT_2020],
  ])('two schemas with the same $id both compile and stay independent (%s)', (_what, dialect) => {
    const compiler = new SchemaCompiler();
    const numbers = compiler.compile({
      $schema: dialect,
      $id: 'https://example.com/tool.json',
      type: 'object',
      properties: { x: { type: 'number' } },
    });
    const strings = compiler.compile({
      $schema: dialect,
      $id: 'https://example.com/tool.json',
      type: 'object',
      properties: { x: { type: 'string' } },
    });
    expect(numbers.check({ x: 1 })).toEqual({ ok: true });
    expect(numbers.check({ x: 'a' }).ok).toBe(false);
    expect(strings.check({ x: 'a' })).toEqual({ ok: true });
    expect(strings.check({ x: 1 }).ok).toBe(false);
    expect(strings.check({ x: 'a' })).toEqual({ ok: true });
    const third = compiler.compile({
      $schema: dialect,
      $id: 'https://example.com/tool.json',
      type: 'object',
      properties: { x: { type: 'boolean' } },
    });
    expect(third.check({ x: true })).toEqual({ ok: true });
  });

  it('a schema cannot reach another by $id (no global registration)', () => {
    const compiler = new SchemaCompiler();
    compiler.compile({ $id: 'https://example.com/point.json', type: 'object' });
    const error = compileError(compiler, {
      type: 'object',
      properties: { p: { $ref: 'https://example.com/point.json' } },
    });
    expect(error).toBeInstanceOf(SchemaError);
  });

  it('separate compilers do not share schemas', () => {
    const one = new SchemaCompiler();
    const two = new SchemaCompiler();
    const schema = { $id: 'https://example.com/x.json', type: 'object', required: ['a'] };
    expect(one.compile(schema).check({}).ok).toBe(false);
    expect(two.compile(schema).check({ a: 1 })).toEqual({ ok: true });
  });
});
