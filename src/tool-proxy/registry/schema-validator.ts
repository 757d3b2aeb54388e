/**
 * Registered input schemas come from the network, so they are untrusted input: bounded in size and
 * depth before compilation, compiled by Ajv (draft-07 or 2020-12, by `$schema`), and every regex
 * they contain (`pattern`, `patternProperties`) runs on RE2 (re2js): linear time, no catastrophic
 * backtracking. Arguments are then validated before anything goes on the wire.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';
import { describeUnknown } from '../../shared/errors.js';

export interface SchemaLimits {
  /** Serialized size of one input schema, in characters. */
  maxSchemaChars: number;
  /** Nesting depth of objects/arrays inside one schema. */
  maxSchemaDepth: number;
  /** Objects, arrays and values in one schema. */
  maxSchemaNodes: number;
}

export const DEFAULT_SCHEMA_LIMITS: SchemaLimits = {
  maxSchemaChars: 65_536,
  maxSchemaDepth: 32,
  maxSchemaNodes: 10_000,
};

export type ArgumentCheck = { ok: true } | { ok: false; problems: string[] };

export interface CompiledSchema {
  /** Nothing to free: the compiled function goes with the tool. */
  check(args: unknown): ArgumentCheck;
}

export class SchemaError extends Error {}

const re2: RegExpEngine = Object.assign(
  (pattern: string) => {
    let compiled: RE2JS;
    try {
      compiled = RE2JS.compile(pattern);
    } catch (error) {
      throw new SchemaError(
        `pattern ${JSON.stringify(pattern.slice(0, 80))} is not supported (${(error as Error).message}); ` +
          'patterns run on RE2: no backreferences or lookaround',
      );
    }
    // Ajv caches compiled patterns under `toString()`: it must name the pattern, not the object.
    return {
      test: (input: string) => compiled.matcher(input).find(),
      toString: () => `re2:${pattern}`,
    };
  },
  { code: 're2js' },
);

const ajvOptions: Options = {
  strict: false,
  allErrors: true,
  validateFormats: false,
  logger: false,
  code: { regExp: re2 },
};

/**
 * Each schema is compiled by an Ajv instance of its own. Ajv keeps every schema and validate function
 * it compiles in the instance for good (`removeSchema` frees neither), so a shared instance would grow
 * with every registration; a private one goes with its validator. It also keeps one provider's `$id`s
 * out of another's schemas, and resolves `$ref: "#"` (zod's recursive roots). The meta-schema check
 * runs on one shared instance per dialect, which compiles nothing but the meta-schema.
 */
const privateOptions: Options = { ...ajvOptions, validateSchema: false, meta: false };

export class SchemaCompiler {
  readonly #limits: SchemaLimits;
  #draft07: Ajv | undefined;
  #draft2020: Ajv2020 | undefined;

  constructor(limits: Partial<SchemaLimits> = {}) {
    this.#limits = { ...DEFAULT_SCHEMA_LIMITS, ...limits };
  }

  /** Throws SchemaError with a reason fit for `agent:tool-registered.detail`. */
  compile(schema: Record<string, unknown>): CompiledSchema {
    this.checkShape(schema);
    const { $schema, ...rest } = schema;
    // An async schema's validator returns a promise, always truthy, that rejects on bad arguments.
    if (rest.$async) throw new SchemaError('input_schema must not be "$async"');
    const meta = this.#ajvFor($schema);
    let validate: ValidateFunction;
    try {
      // The message Ajv gives; a promise (only an async meta-schema makes one) counts as invalid.
      if (meta.validateSchema(rest) !== true)
        throw new Error(`schema is invalid: ${meta.errorsText(meta.errors)}`);
      validate = (
        meta instanceof Ajv2020 ? new Ajv2020(privateOptions) : new Ajv(privateOptions)
      ).compile(rest);
    } catch (error) {
      if (error instanceof SchemaError) throw error;
      throw new SchemaError(`input_schema does not compile: ${(error as Error).message}`);
    }
    return {
      check: (args) => {
        try {
          return validate(args) ? { ok: true } : { ok: false, problems: describe(validate.errors) };
        } catch (error) {
          // e.g. a recursive schema meeting arguments nested deeper than the stack
          return {
            ok: false,
            problems: [`arguments could not be validated: ${describeUnknown(error)}`],
          };
        }
      },
    };
  }

  #ajvFor(dialect: unknown): Ajv | Ajv2020 {
    if (typeof dialect === 'string' && /draft-0[67]/.test(dialect)) {
      this.#draft07 ??= new Ajv(ajvOptions);
      return this.#draft07;
    }
    this.#draft2020 ??= new Ajv2020(ajvOptions);
    return this.#draft2020;
  }

  /**
   * Bounds depth, node count and size; throws SchemaError. Walks without recursion, so a hostile
   * nesting depth cannot overflow the stack (run it before anything recursive, JSON.stringify included).
   */
  checkShape(schema: Record<string, unknown>): void {
    if (schema.type !== 'object') {
      throw new SchemaError('input_schema must be a JSON Schema object with "type": "object"');
    }
    const { maxSchemaDepth, maxSchemaNodes, maxSchemaChars } = this.#limits;
    const stack: Array<[unknown, number]> = [[schema, 1]];
    let nodes = 0;
    while (stack.length > 0) {
      const [value, depth] = stack.pop() as [unknown, number];
      if (++nodes > maxSchemaNodes)
        throw new SchemaError(`input_schema has more than ${maxSchemaNodes} nodes`);
      if (typeof value !== 'object' || value === null) continue;
      if (depth > maxSchemaDepth)
        throw new SchemaError(`input_schema is nested deeper than ${maxSchemaDepth}`);
      for (const child of Object.values(value)) stack.push([child, depth + 1]);
    }
    const chars = JSON.stringify(schema).length;
    if (chars > maxSchemaChars) {
      throw new SchemaError(`input_schema is ${chars} chars; the limit is ${maxSchemaChars}`);
    }
    const limit = maxSchemaNodes * EXPANSION_FACTOR;
    if (expandedNodes(schema, limit) > limit) {
      throw new SchemaError(
        `input_schema expands to more than ${limit} nodes through its $refs (validation work would explode)`,
      );
    }
  }
}

/** How much bigger than its node cap a schema may get with its local `$ref`s expanded. */
const EXPANSION_FACTOR = 10;

/**
 * Nodes the schema would have with its local `$ref`s expanded, counted with memoisation and stopped
 * past `limit`. A chain of definitions that each reference the previous one twice doubles the
 * validation work per level while staying tiny on the wire. A reference cycle counts once: recursion
 * is bounded by the arguments, which are bounded by the frame size.
 */
function expandedNodes(root: Record<string, unknown>, limit: number): number {
  const memo = new Map<object, number>();
  const resolve = (ref: string): unknown => {
    if (!ref.startsWith('#')) return undefined;
    let node: unknown = root;
    for (const part of ref
      .slice(1)
      .split('/')
      .filter((p) => p !== '')) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  };
  const count = (value: unknown): number => {
    if (typeof value !== 'object' || value === null) return 1;
    const known = memo.get(value);
    if (known !== undefined) return known;
    memo.set(value, 1);
    let total = 1;
    for (const [key, child] of Object.entries(value)) {
      total += count(child);
      if (key === '$ref' && typeof child === 'string') total += count(resolve(child));
      if (total > limit) break;
    }
    memo.set(value, total);
    return total;
  };
  try {
    return count(root);
  } catch (error) {
    // A reference chain deep enough to exhaust the stack is refused like any oversized schema.
    if (error instanceof RangeError) return Number.POSITIVE_INFINITY;
    throw error;
  }
}

function describe(errors: ErrorObject[] | null | undefined, max = 8): string[] {
  const list = errors ?? [];
  const problems = list.slice(0, max).map((error) => {
    const where = error.instancePath === '' ? 'arguments' : `arguments${error.instancePath}`;
    const extra =
      error.keyword === 'additionalProperties'
        ? ` (${String((error.params as { additionalProperty?: unknown }).additionalProperty)})`
        : error.keyword === 'enum'
          ? ` (${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    return `${where} ${error.message ?? 'is invalid'}${extra}`;
  });
  if (list.length > max) problems.push(`and ${list.length - max} more`);
  return problems;
}
