/**
 * Fuzzing both decoders: the proxy's (provider frames, through `handleProviderFrame` in a real
 * ToolProxy) and the provider runtime's (proxy frames, through a ToolProvider), with generated and
 * mutated frames over the in-memory bridge. `npm run fuzz` runs the same harness for a million
 * frames or more (test/fuzz/run.ts). Then the schema bombs one by one, with the answer each gets.
 * The frames come from a fixed seed; `FUZZ_SEED=<n>` picks others.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { defineTool, isToolProxyError, ToolProvider, ToolProxy } from '../../../src/index.js';
import { refFanOut, write } from '../../fuzz/frames.js';
import { Rng } from '../../support/rng.js';
import {
  type FuzzSummary,
  fuzz,
  ProviderFuzz,
  ProxyFuzz,
  prototypeKeys,
  prototypePolluted,
} from '../../fuzz/harness.js';
import { type JsonObject, startProxy, WirePeer } from '../../support/wire-peer.js';

const PROXY_FRAMES = 50_000;
const PROVIDER_FRAMES = 50_000;
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
/** How much the heap may grow over a run once garbage is collected. */
const HEAP_BOUND_BYTES = 64 * 1024 * 1024;

const prototypesBefore = prototypeKeys();
const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** What every run must show, whatever the frames were. */
function expectClean(summary: FuzzSummary): void {
  expect(summary.violations).toEqual([]);
  expect(summary.violationCount).toBe(0);
  expect(summary.crashes).toBe(0);
  expect(prototypePolluted()).toBe(false);
  expect(prototypeKeys()).toBe(prototypesBefore);
}

afterAll(() => {
  expect(prototypePolluted()).toBe(false);
  expect(prototypeKeys()).toBe(prototypesBefore);
});

describe('fuzzing the decoders', () => {
  it(`the proxy answers ${PROXY_FRAMES} generated and mutated provider frames as the protocol says`, async () => {
    const target = new ProxyFuzz(new Rng(SEED));
    await target.start();
    const heapBefore = heapAfterGc();
    const summary = await fuzz(target, PROXY_FRAMES);
    target.checkBounds();
    await target.close();
    expectClean(summary);
    expect(summary.frames).toBe(PROXY_FRAMES);
    // Every kind of frame was made, and every answer the protocol has was given.
    expect(Object.keys(summary.made).sort()).toEqual(
      ['mutated', 'not-a-frame', 'oversize', 'special', 'text-mutated', 'valid'].sort(),
    );
    expect(Object.keys(summary.replies)).toEqual(
      expect.arrayContaining([
        'registered:ok',
        'registered:name-invalid',
        'registered:description-invalid',
        'registered:schema-invalid',
        'registered:metadata-invalid',
        'registered:register-failed',
        'unregistered:ok',
        'unregistered:not-found',
      ]),
    );
    expect(Object.keys(summary.calls)).toEqual(
      expect.arrayContaining(['CANCELLED', 'INVALID_ARGUMENTS', 'target:INVALID_RESULT']),
    );
    if (gc !== undefined) expect(heapAfterGc() - heapBefore).toBeLessThan(HEAP_BOUND_BYTES);
  }, 60_000);

  it(`the provider runtime answers ${PROVIDER_FRAMES} generated and mutated proxy frames as the protocol says`, async () => {
    const target = new ProviderFuzz(new Rng(SEED + 1));
    await target.start();
    const heapBefore = heapAfterGc();
    const summary = await fuzz(target, PROVIDER_FRAMES);
    await target.cancelRunning();
    await target.close();
    expectClean(summary);
    expect(summary.frames).toBe(PROVIDER_FRAMES);
    expect(Object.keys(summary.replies)).toEqual(
      expect.arrayContaining([
        'result:echo:ok',
        // Calls too deep to parse, answered from their head (echo's errors were such calls).
        'result:too-deep:error',
        'result:strict:ok',
        'result:strict:error',
        'result:nope:error',
        'running:slow',
        'aborted',
      ]),
    );
    if (gc !== undefined) expect(heapAfterGc() - heapBefore).toBeLessThan(HEAP_BOUND_BYTES);
  }, 60_000);
});

// ---- schema bombs, one by one ----------------------------------------------------------------------

/** The answer to registering `schema` (a value, or JSON text too deep for JSON.stringify). */
async function registered(schema: unknown): Promise<JsonObject> {
  const { room, proxy } = await startProxy();
  const robot = await WirePeer.join(room, 'robot');
  const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
  await robot.sendText(`{"type":"client:tool-register","name":"bomb","input_schema":${text}}`);
  await new Promise((resolve) => setImmediate(resolve));
  const [reply] = robot.frames('agent:tool-registered');
  await proxy.close();
  return reply ?? {};
}

/** A heap measure that does not depend on how node was started. */
function collector(): () => void {
  if (gc !== undefined) return gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('schema bombs get a clear answer', () => {
  it.each<[string, unknown]>([
    ['nested 20 deep (past the schema cap of 32)', nestedSchema(20)],
    [
      'an enum over the node cap',
      { type: 'object', properties: { e: { enum: Array.from({ length: 12_000 }, (_, i) => i) } } },
    ],
    [
      'a $ref loop',
      {
        type: 'object',
        properties: { x: { $ref: '#/$defs/a' } },
        $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } },
      },
    ],
    [
      'a backreference',
      { type: 'object', properties: { s: { type: 'string', pattern: '(a)\\1' } } },
    ],
    [
      'a nested repetition RE2 refuses',
      { type: 'object', properties: { s: { type: 'string', pattern: '((a{100}){100}){100}' } } },
    ],
    ['an async schema', { type: 'object', $async: true, properties: { x: { type: 'number' } } }],
    [
      'an async sub-schema',
      { type: 'object', properties: { x: { $async: true, type: 'number' } } },
    ],
    [
      'a dangling $ref',
      { type: 'object', properties: { x: { $ref: 'https://example.com/elsewhere.json' } } },
    ],
  ])('%s: schema-invalid, with a detail', async (_what, schema) => {
    const reply = await registered(schema);
    expect(reply).toMatchObject({
      success: false,
      reason: 'schema-invalid',
      detail: expect.any(String),
    });
    expect(String(reply.detail)).not.toBe('');
  });

  // Past the frame depth cap (64) a frame is not parsed at all: dropped and counted like an
  // oversize one, before the schema compiler could see it (PROTOCOL.md section 13).
  it.each<[string, unknown]>([
    ['nested 40 deep', nestedSchema(40)],
    ['100,000 nested arrays', `{"type":"object","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
  ])('%s: refused unparsed, counted as too large', async (_what, schema) => {
    const { room, proxy } = await startProxy();
    const robot = await WirePeer.join(room, 'robot');
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    await robot.sendText(`{"type":"client:tool-register","name":"bomb","input_schema":${text}}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(proxy.stats().frames).toMatchObject({ tooLarge: 1, malformed: 0 });
    expect(proxy.tools()).toEqual([]);
    await proxy.close();
  });

  it('a catastrophic pattern compiles, and validating a long input stays linear (RE2)', async () => {
    const { room, proxy } = await startProxy();
    const robot = await WirePeer.join(room, 'robot');
    await robot.register('regex', {
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
    });
    await proxy.waitForTool('regex');
    const started = performance.now();
    const outcome = await proxy
      .call('regex', { s: `${'a'.repeat(100_000)}!` })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(isToolProxyError(outcome, 'INVALID_ARGUMENTS')).toBe(true);
    await proxy.close();
  });

  it('a large enum under the caps compiles and validates', async () => {
    const enumValues = Array.from({ length: 8_000 }, (_, i) => `v${i}`);
    const reply = await registered({ type: 'object', properties: { e: { enum: enumValues } } });
    expect(reply).toMatchObject({ success: true });
  });

  // Fixed: a root `$async` made Ajv's validator return a promise, always truthy, so any arguments
  // passed, and one that rejected (unhandled) when they were invalid.
  it('an async schema is refused, so its validator can never pass bad arguments or reject unhandled', async () => {
    const reply = await registered({
      type: 'object',
      $async: 'yes',
      properties: { x: { type: 'number' } },
    });
    expect(reply).toMatchObject({
      success: false,
      reason: 'schema-invalid',
      detail: 'input_schema must not be "$async"',
    });
  });

  // Fixed: `$ref: "#"` could not be resolved (Ajv resolves the root only for schemas it keeps), so
  // a provider whose zod input is recursive, which zod writes that way, could not register.
  it('a recursive zod input (`$ref: "#"`) registers, and its arguments are validated', async () => {
    interface Tree {
      name: string;
      children?: Tree[];
    }
    const Tree: z.ZodType<Tree> = z.object({
      name: z.string(),
      get children() {
        return z.array(Tree).optional();
      },
    });
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    await proxy.start(room.join('agent', { isAgent: true }));
    const tree = defineTool({
      name: 'tree',
      description: 'Counts nodes',
      input: Tree,
      handler: () => 1,
    });
    const provider = new ToolProvider({ tools: [tree] });
    const failures: unknown[] = [];
    provider.events.on('registration-failed', (event) => failures.push(event));
    await provider.connect(room.join('robot'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toEqual([]);
    expect(proxy.getTool('tree')?.inputSchema).toMatchObject({
      properties: { children: { items: { $ref: '#' } } },
    });
    await expect(proxy.call('tree', { name: 'a', children: [{ name: 'b' }] })).resolves.toBe(1);
    const bad = await proxy
      .call('tree', { name: 'a', children: [{ name: 2 }] })
      .catch((e: unknown) => e);
    expect(isToolProxyError(bad, 'INVALID_ARGUMENTS')).toBe(true);
    await provider.close();
    await proxy.close();
  });

  // Fixed: a validator that threw (a recursive schema meeting arguments nested deeper than the
  // stack) made proxy.call reject with a bare RangeError, uncounted, instead of a ToolProxyError.
  it('arguments too deep for a recursive schema are INVALID_ARGUMENTS, not a RangeError', async () => {
    const { room, proxy } = await startProxy();
    const robot = await WirePeer.join(room, 'robot');
    await robot.register('nest', {
      type: 'object',
      additionalProperties: { $ref: '#/$defs/node' },
      $defs: { node: { type: 'object', additionalProperties: { $ref: '#/$defs/node' } } },
    });
    await proxy.waitForTool('nest');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const outcome = await proxy.call('nest', deep).catch((e: unknown) => e);
    expect(isToolProxyError(outcome, 'INVALID_ARGUMENTS')).toBe(true);
    expect(proxy.stats().calls.rejectedBeforeSend).toBe(1);
    await proxy.close();
  });

  // Fixed: one shared Ajv instance kept every schema and validator it ever compiled (removeSchema
  // frees neither), about 3 KB per registration or update, for as long as the proxy ran.
  it('registering and updating a tool 4,000 times does not grow the heap', async () => {
    const collect = collector();
    // 4,000 registrations as fast as they go: far over the default registration budget.
    const { room, proxy } = await startProxy({
      framesPerSecond: false,
      charsPerSecond: false,
      registrationsPerSecond: false,
    });
    const robot = await WirePeer.join(room, 'robot');
    const update = async (from: number) => {
      for (let i = from; i < from + 2_000; i++) {
        await robot.send({
          type: 'client:tool-register',
          name: 'tool',
          description: `version ${i}`,
          input_schema: { type: 'object', properties: { [`x${i}`]: { type: 'string' } } },
        });
        if (i % 100 === 0) robot.clear();
      }
      await new Promise((resolve) => setImmediate(resolve));
      robot.clear();
    };
    await update(0); // warm up
    collect();
    const before = process.memoryUsage().heapUsed;
    await update(2_000);
    collect();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 1024 * 1024);
    expect(proxy.getTool('tool')?.description).toBe('version 3999');
    await proxy.close();
  });

  // Each `$ref` level that refers twice to the one below doubles the work of validating one
  // argument, so a schema far under every node cap (a few hundred nodes) could keep the proxy's
  // event loop busy for hours on the first call: the expanded size (local `$ref`s followed) is
  // bounded too, and this one is refused at registration.
  it('a schema whose validation work doubles with every $ref level is refused', async () => {
    const reply = await registered(write(refFanOut(40)));
    expect(reply).toMatchObject({ success: false, reason: 'schema-invalid' });
  });
});

/** `{"type":"object","properties":{"a":{…}}}`, `depth` times. */
function nestedSchema(depth: number): Record<string, unknown> {
  let inner: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < depth; i++) inner = { type: 'object', properties: { a: inner } };
  return inner;
}
