import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../bridge/memory.js';
import {
  defineTool,
  type ProviderEvents,
  type ToolContext,
  type ToolDefinition,
  ToolProvider,
  type ToolProviderOptions,
  ToolProxy,
  ToolProxyError,
} from '../src/index.js';
import { type Deferred, deferred, flush, spyLogger } from './support/util.js';
import { WirePeer } from './support/wire-peer.js';

const PROVIDER = 'robot';

interface Run {
  readonly args: unknown;
  readonly ctx: ToolContext;
  readonly done: Deferred<unknown>;
}

/** A tool whose every run waits until the test settles it. */
function controlledTool(name = 'slow') {
  const runs: Run[] = [];
  const tool = defineTool({
    name,
    description: 'waits until the test settles it',
    input: z.object({ n: z.number().optional() }),
    handler: (args, ctx) => {
      const done = deferred();
      runs.push({ args, ctx, done });
      return done.promise;
    },
  });
  return { tool, runs };
}

/** A tool that rejects with its signal's reason as soon as it is aborted. */
function abortableTool(name = 'abortable') {
  const signals: AbortSignal[] = [];
  const tool = defineTool({
    name,
    description: 'runs until aborted',
    input: z.object({}),
    handler: (_args, { signal }) =>
      new Promise((_resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  });
  return { tool, signals };
}

const echo = defineTool({
  name: 'echo',
  description: 'Echoes its text',
  input: z.object({ text: z.string() }),
  handler: ({ text }) => ({ text }),
});

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers',
  input: z.object({ a: z.number(), b: z.number() }),
  handler: ({ a, b }) => a + b,
});

function nth<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined)
    throw new Error(`expected an item at index ${index}, have ${items.length}`);
  return item;
}

/** Records every event of a provider, in order. */
function recordEvents(provider: ToolProvider) {
  const log: Array<{ event: keyof ProviderEvents; payload: unknown }> = [];
  const names: Array<keyof ProviderEvents> = [
    'registered',
    'registration-failed',
    'call:started',
    'call:aborted',
    'call:finished',
  ];
  for (const event of names) provider.events.on(event, (payload) => log.push({ event, payload }));
  return log;
}

const cleanups: Array<() => Promise<void>> = [];

function track<T extends { close(): Promise<void> }>(closable: T): T {
  cleanups.push(() => closable.close());
  return closable;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.useRealTimers();
});

/** A raw proxy peer `proxy` in a room, and a provider `robot` connected after it. */
async function setup(tools: readonly ToolDefinition[], options: Partial<ToolProviderOptions> = {}) {
  const room = new InMemoryRoom();
  const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
  const provider = track(new ToolProvider({ ...options, tools }));
  await provider.connect(room.join(PROVIDER));
  await flush();
  return { room, peer, provider };
}

describe('ToolProvider: registration', () => {
  it('registers every tool with a proxy already present when it connects', async () => {
    const { peer } = await setup([echo, add]);
    const registrations = peer.frames('client:tool-register');
    expect(registrations.map((frame) => frame.name)).toEqual(['echo', 'add']);
    expect(peer.received.every((r) => r.from === PROVIDER)).toBe(true);
  });

  it('registers with a proxy that joins later, and again when it rejoins', async () => {
    const room = new InMemoryRoom();
    const provider = track(new ToolProvider({ tools: [echo, add] }));
    await provider.connect(room.join(PROVIDER));
    await flush();

    const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo', 'add']);

    await peer.channel.close();
    await flush();
    const again = await WirePeer.join(room, 'proxy', { isAgent: true });
    await flush();
    expect(again.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      'echo',
      'add',
    ]);
  });

  it('registers its registered tools again on every agent:hello', async () => {
    const { peer } = await setup([echo, add]);
    /** The proxy's answers: every registration received so far succeeds. */
    const answerAll = async () => {
      for (const frame of peer.frames('client:tool-register'))
        await peer.send(
          { type: 'agent:tool-registered', name: frame.name, success: true },
          PROVIDER,
        );
      peer.clear();
      await flush();
    };
    await answerAll();

    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register')).toHaveLength(2);
    await answerAll();

    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo', 'add']);
  });

  it('registers again on a hello, answered or not (a proxy that was not listening lost them)', async () => {
    const { peer } = await setup([echo, add]);
    expect(peer.frames('client:tool-register')).toHaveLength(2);
    await peer.send({ type: 'agent:tool-registered', name: 'echo', success: true }, PROVIDER);
    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      'echo',
      'add',
      'echo',
      'add',
    ]);
  });

  it('does not register with peers that are not proxies (default: agents only)', async () => {
    const room = new InMemoryRoom();
    const early = await WirePeer.join(room, 'viewer');
    const provider = track(new ToolProvider({ tools: [echo] }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    const late = await WirePeer.join(room, 'late-viewer');
    await flush();

    // A non-proxy's hello does not make it one.
    await early.hello(PROVIDER);
    await flush();

    expect(early.received).toEqual([]);
    expect(late.received).toEqual([]);
  });

  it('honours a custom isProxy', async () => {
    const room = new InMemoryRoom();
    const agent = await WirePeer.join(room, 'agent', { isAgent: true });
    const chosen = await WirePeer.join(room, 'tools-proxy-1');
    const isProxy = vi.fn((peer: { identity: string }) => peer.identity.startsWith('tools-proxy'));
    const provider = track(new ToolProvider({ tools: [echo], isProxy }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    const joinedLater = await WirePeer.join(room, 'tools-proxy-2');
    await flush();

    expect(agent.received).toEqual([]);
    expect(chosen.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo']);
    expect(joinedLater.frames('client:tool-register')).toHaveLength(1);
    expect(isProxy).toHaveBeenCalledWith(expect.objectContaining({ identity: 'agent' }));

    // Calls follow the same rule: the agent is a stranger here, the chosen proxy is served.
    await agent.call(PROVIDER, 'c1', 'echo', { text: 'from agent' });
    await chosen.call(PROVIDER, 'c2', 'echo', { text: 'from proxy' });
    await flush();
    expect(agent.received).toEqual([]);
    expect(chosen.frames('client:tool-result')).toEqual([
      { type: 'client:tool-result', call_id: 'c2', result: { text: 'from proxy' } },
    ]);
  });

  it('sends input_schema from z.toJSONSchema, the timeout and the annotations', async () => {
    const input = z.object({
      joint: z.enum(['shoulder', 'elbow']),
      degrees: z.number().min(-90).max(90),
      speed: z.number().default(1),
    });
    const move = defineTool({
      name: 'move_arm',
      description: 'Moves one joint',
      input,
      timeoutMs: 45_000,
      annotations: { title: 'Move arm', destructiveHint: true, idempotentHint: false },
      handler: () => 'moved',
    });
    const { peer } = await setup([move, echo]);

    const [registration, plain] = peer.frames('client:tool-register');
    expect(registration).toEqual({
      type: 'client:tool-register',
      name: 'move_arm',
      description: 'Moves one joint',
      input_schema: z.toJSONSchema(input, { io: 'input' }),
      metadata: {
        max_execution_time_ms: 45_000,
        annotations: { title: 'Move arm', destructiveHint: true, idempotentHint: false },
      },
    });
    expect(registration?.input_schema).toMatchObject({
      type: 'object',
      properties: { joint: { enum: ['shoulder', 'elbow'] }, degrees: { type: 'number' } },
      required: expect.arrayContaining(['joint', 'degrees']),
    });
    // Without a timeout or annotations there is no metadata at all.
    expect(plain).toEqual({
      type: 'client:tool-register',
      name: 'echo',
      description: 'Echoes its text',
      input_schema: z.toJSONSchema(echo.input, { io: 'input' }),
    });
  });

  it.each([
    ['starts with a digit', '1tool'],
    ['has a space', 'move arm'],
    ['has a dot', 'arm.move'],
    ['is empty', ''],
    ['is longer than 64 characters', `t${'x'.repeat(64)}`],
  ])('refuses at construction a tool whose name %s', (_what, name) => {
    const bad = defineTool({ name, description: 'bad', input: z.object({}), handler: () => 1 });
    expect(() => new ToolProvider({ tools: [echo, bad] })).toThrow(ToolProxyError);
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL', tool: name }),
    );
  });

  it.each([
    ['a string', z.string()],
    ['a number', z.number()],
    ['an array', z.array(z.object({ a: z.number() }))],
    ['a union of objects and strings', z.union([z.object({ a: z.number() }), z.string()])],
  ])('refuses at construction a tool whose input is %s', (_what, input) => {
    const bad = defineTool({ name: 'bad', description: 'bad', input, handler: () => 1 });
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ name: 'ToolProxyError', code: 'INVALID_TOOL', tool: 'bad' }),
    );
  });

  it('refuses at construction an input that JSON Schema cannot express', () => {
    const bad = defineTool({
      name: 'when',
      description: 'bad',
      input: z.object({ at: z.date() }),
      handler: () => 1,
    });
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL', tool: 'when' }),
    );
  });
});

describe('ToolProvider: calls', () => {
  it('runs the handler with validated, parsed arguments and sends the result', async () => {
    const handler = vi.fn(
      (args: { text: string; times: number; unit: number }, ctx: ToolContext) => ({
        said: args.text.repeat(args.times),
        unit: args.unit,
        callId: ctx.callId,
        caller: ctx.caller,
      }),
    );
    const say = defineTool({
      name: 'say',
      description: 'Says something',
      input: z.object({
        text: z.string().trim(),
        times: z.number().int().default(2),
        unit: z.enum(['mm', 'cm']).transform((unit) => (unit === 'cm' ? 10 : 1)),
      }),
      handler,
    });
    const { peer } = await setup([say]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'say', { text: '  hi  ', unit: 'cm' });
    await flush();

    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]?.[0]).toEqual({ text: 'hi', times: 2, unit: 10 });
    expect(peer.frames()).toEqual([
      {
        type: 'client:tool-result',
        call_id: 'c1',
        result: { said: 'hihi', unit: 10, callId: 'c1', caller: 'proxy' },
      },
    ]);
  });

  it('sends result: null when the handler returns undefined', async () => {
    const nothing = defineTool({
      name: 'nothing',
      description: 'returns nothing',
      input: z.object({}),
      handler: async () => undefined,
    });
    const { peer } = await setup([nothing]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'nothing');
    await flush();

    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: null }]);
    expect(nth(peer.received, 0).text).toContain('"result":null');
  });

  it('sends the message of a handler that throws or rejects as error', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'throws',
      input: z.object({ how: z.enum(['throw', 'reject', 'string']) }),
      handler: ({ how }) => {
        if (how === 'throw') throw new Error('gripper jammed');
        if (how === 'string') throw 'plain text failure';
        return Promise.reject(new Error('arm out of reach'));
      },
    });
    const { peer } = await setup([fails]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'fails', { how: 'throw' });
    await peer.call(PROVIDER, 'c2', 'fails', { how: 'reject' });
    await peer.call(PROVIDER, 'c3', 'fails', { how: 'string' });
    await flush();

    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', error: 'gripper jammed' },
    ]);
    expect(peer.framesFor('c2')).toEqual([
      { type: 'client:tool-result', call_id: 'c2', error: 'arm out of reach' },
    ]);
    expect(peer.framesFor('c3')).toEqual([
      { type: 'client:tool-result', call_id: 'c3', error: 'plain text failure' },
    ]);
  });

  it('sends an error, not nothing, for a result that cannot be serialised', async () => {
    const weird = defineTool({
      name: 'weird',
      description: 'returns what JSON cannot hold',
      input: z.object({ kind: z.enum(['bigint', 'circular']) }),
      handler: ({ kind }) => {
        if (kind === 'bigint') return { count: 10n };
        const circular: Record<string, unknown> = { name: 'loop' };
        circular.self = circular;
        return circular;
      },
    });
    const { peer } = await setup([weird]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'weird', { kind: 'bigint' });
    await peer.call(PROVIDER, 'c2', 'weird', { kind: 'circular' });
    await flush();

    for (const callId of ['c1', 'c2']) {
      const frames = peer.framesFor(callId);
      expect(frames).toEqual([
        { type: 'client:tool-result', call_id: callId, error: expect.any(String) },
      ]);
      expect(nth(frames, 0).error).not.toBe('');
    }
  });

  it('answers invalid arguments with an error without running the handler', async () => {
    const handler = vi.fn(() => 'ran');
    const strict = defineTool({
      name: 'strict',
      description: 'strict',
      input: z.object({ count: z.number().int().positive() }),
      handler,
    });
    const { peer } = await setup([strict]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'strict', { count: 'three' });
    await peer.call(PROVIDER, 'c2', 'strict', {});
    await peer.call(PROVIDER, 'c3', 'strict', { count: -1 });
    await flush();

    expect(handler).not.toHaveBeenCalled();
    for (const callId of ['c1', 'c2', 'c3']) {
      expect(peer.framesFor(callId)).toEqual([
        {
          type: 'client:tool-result',
          call_id: callId,
          error: expect.stringMatching(/^invalid arguments: .*count/),
        },
      ]);
    }
  });

  it('answers with an error, not nothing, when parsing the arguments throws', async () => {
    const handler = vi.fn(() => 'ran');
    const picky = defineTool({
      name: 'picky',
      description: 'its input transform throws on "bad"',
      input: z.object({
        code: z.string().transform((code) => {
          if (code === 'bad') throw new Error('transform threw');
          return code;
        }),
      }),
      handler,
    });
    const checked = defineTool({
      name: 'checked',
      description: 'its input has an async refinement',
      input: z.object({ id: z.string().refine(async (id) => id.length > 0) }),
      handler: () => 'checked',
    });
    const { peer, provider } = await setup([picky, checked]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'picky', { code: 'bad' });
    await peer.call(PROVIDER, 'c2', 'checked', { id: 'x' });
    await flush();
    await flush();

    expect(handler).not.toHaveBeenCalled();
    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', error: expect.any(String) },
    ]);
    // Either the refinement is awaited and the handler runs, or the call is answered with an
    // error; a call that is never answered is what must not happen.
    expect(peer.framesFor('c2')).toEqual([
      expect.objectContaining({ type: 'client:tool-result', call_id: 'c2' }),
    ]);
    expect(provider.runningCalls).toBe(0);
  });

  it('answers a call to an unknown tool with an error', async () => {
    const { peer, provider } = await setup([echo]);
    const events = recordEvents(provider);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'no_such_tool', {});
    await flush();

    expect(peer.frames()).toEqual([
      {
        type: 'client:tool-result',
        call_id: 'c1',
        error: expect.stringContaining('no_such_tool'),
      },
    ]);
    expect(events).toEqual([]);
  });

  it('runs calls from two proxies independently, answering each to its sender', async () => {
    const { room, peer } = await setup([echo]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    peer.clear();
    other.clear();

    await peer.call(PROVIDER, 'same-id', 'echo', { text: 'one' });
    await other.call(PROVIDER, 'same-id', 'echo', { text: 'two' });
    await flush();

    expect(peer.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'same-id', result: { text: 'one' } },
    ]);
    expect(other.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'same-id', result: { text: 'two' } },
    ]);
  });
});

describe('ToolProvider: rate limits', () => {
  it('agent:rate-limited is reported as an event and a warning; nothing is sent back', async () => {
    const logger = spyLogger();
    const { peer, provider } = await setup([echo], { logger });
    peer.clear();
    const seen: ProviderEvents['rate-limited'][] = [];
    provider.events.on('rate-limited', (event) => seen.push(event));

    await peer.send(
      {
        type: 'agent:rate-limited',
        limit: 'frames',
        per_second: 200,
        burst: 400,
        dropped: 3,
        retry_after_ms: 5,
        detail: 'over 200 frames per second',
      },
      PROVIDER,
    );
    await flush();

    expect(seen).toEqual([
      { proxy: 'proxy', limit: 'frames', retryAfterMs: 5, detail: 'over 200 frames per second' },
    ]);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 'frames' }),
      'rate limited',
    );
    expect(peer.received).toEqual([]);
  });
});

describe('ToolProvider: cancellation', () => {
  it('aborts the signal on agent:tool-call-cancelled and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);

    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped', 'Stop requested');
    await flush();

    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: 'Stop requested',
      callId: 'c1',
    });
    expect(provider.runningCalls).toBe(0);

    run.done.resolve('finished anyway');
    await flush();
    expect(peer.frames()).toEqual([]);
  });

  it('a signal first read after the cancel is already aborted, with the reason', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped', 'Stop requested');
    await flush();

    const { signal } = nth(runs, 0).ctx; // the first read of this call's signal
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    expect(nth(runs, 0).ctx.signal).toBe(signal); // one signal per call, however often it is read
  });

  it('sends nothing when the handler rejects with the abort reason', async () => {
    const { tool, signals } = abortableTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'abortable');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'session-reset');
    await flush();

    expect(nth(signals, 0).reason).toMatchObject({ code: 'CANCELLED', reason: 'session-reset' });
    expect(peer.frames()).toEqual([]);
  });

  it('keeps a reason outside the known set out of the error reason', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'user-changed-mind');
    await flush();

    const reason: unknown = nth(runs, 0).ctx.signal.reason;
    expect(reason).toBeInstanceOf(ToolProxyError);
    expect(reason).toMatchObject({ code: 'CANCELLED', reason: undefined, callId: 'c1' });
    expect(reason).toHaveProperty('message', expect.stringContaining('user-changed-mind'));
  });

  it('aborts the signal with TIMEOUT on agent:tool-call-timeout and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.timeout(PROVIDER, 'c1');
    await flush();

    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({ code: 'TIMEOUT', callId: 'c1' });
    expect(provider.runningCalls).toBe(0);

    run.done.reject(new Error('gave up'));
    await flush();
    expect(peer.frames()).toEqual([]);
  });

  it('ignores a cancel or timeout for an unknown call id', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    const events = recordEvents(provider);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'unknown-id', 'caller-aborted');
    await peer.timeout(PROVIDER, 'another-unknown-id');
    await flush();

    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);
    expect(peer.frames()).toEqual([]);

    run.done.resolve('done');
    await flush();
    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: 'done' }]);
    expect(events.map((e) => e.event)).toEqual(['call:started', 'call:finished']);
  });

  it('does not let one proxy cancel the call of another', async () => {
    const { tool, runs } = controlledTool();
    const { room, peer } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await other.cancel(PROVIDER, 'c1', 'caller-aborted');
    await flush();

    expect(nth(runs, 0).ctx.signal.aborted).toBe(false);
  });

  it('does not run the handler twice for a duplicated agent:tool-call frame', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow', { n: 1 });
    await peer.call(PROVIDER, 'c1', 'slow', { n: 1 });
    await flush();
    expect(runs).toHaveLength(1);
    expect(provider.runningCalls).toBe(1);

    nth(runs, 0).done.resolve('once');
    await flush();
    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: 'once' }]);
  });

  it('does not run the handler again for a call frame repeated after the call finished', async () => {
    const handler = vi.fn(() => 'done');
    const once = defineTool({ name: 'once', description: 'once', input: z.object({}), handler });
    const { peer } = await setup([once]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'once');
    await flush();
    await peer.call(PROVIDER, 'c1', 'once');
    await flush();

    expect(handler).toHaveBeenCalledTimes(1);
    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', result: 'done' },
    ]);
  });

  it('does not run the handler again for a call frame repeated after the call was cancelled', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped');
    await flush();
    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();

    expect(runs).toHaveLength(1);
    for (const run of runs) run.done.resolve('late');
    await flush();
    expect(peer.frames()).toEqual([]);
  });
});

describe('ToolProvider: peers that are not proxies', () => {
  it("ignores a stranger's agent:tool-call", async () => {
    const handler = vi.fn(() => 'ran');
    const tool = defineTool({ name: 'guarded', description: 'g', input: z.object({}), handler });
    const { room, peer } = await setup([tool]);
    const stranger = await WirePeer.join(room, 'stranger');
    await flush();
    peer.clear();

    await stranger.call(PROVIDER, 'c1', 'guarded');
    await stranger.call(PROVIDER, 'c2', 'no_such_tool');
    await flush();

    expect(handler).not.toHaveBeenCalled();
    expect(stranger.received).toEqual([]);
    expect(peer.received).toEqual([]);
  });

  it("ignores a stranger's cancel of a proxy's call", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer } = await setup([tool]);
    const stranger = await WirePeer.join(room, 'stranger');

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await stranger.cancel(PROVIDER, 'c1', 'caller-aborted');
    await stranger.timeout(PROVIDER, 'c1');
    await flush();

    expect(nth(runs, 0).ctx.signal.aborted).toBe(false);
  });

  it('ignores malformed frames from a proxy', async () => {
    const { peer, provider } = await setup([echo]);
    peer.clear();

    await peer.sendText('not json', PROVIDER);
    await peer.sendText('[1,2]', PROVIDER);
    await peer.send({ type: 'agent:unknown-frame' }, PROVIDER);
    await peer.send({ type: 'agent:tool-call', call_id: 'c1', name: 'echo' }, PROVIDER);
    await flush();

    expect(peer.frames()).toEqual([]);
    expect(provider.runningCalls).toBe(0);
  });
});

describe('ToolProvider: progress', () => {
  it('sends client:tool-progress frames and stops once the call is aborted', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    const run = nth(runs, 0);
    run.ctx.progress(1, 4, 'a quarter');
    run.ctx.progress(2);
    await flush();

    expect(peer.frames()).toEqual([
      { type: 'client:tool-progress', call_id: 'c1', progress: 1, total: 4, message: 'a quarter' },
      { type: 'client:tool-progress', call_id: 'c1', progress: 2 },
    ]);

    await peer.cancel(PROVIDER, 'c1', 'caller-aborted');
    await flush();
    peer.clear();
    run.ctx.progress(3, 4);
    await flush();
    expect(peer.frames()).toEqual([]);
  });
});

describe('ToolProvider: proxies leaving and closing', () => {
  it("aborts the running handlers of a proxy that leaves, and only that proxy's", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    other.clear();

    await peer.call(PROVIDER, 'a1', 'slow');
    await peer.call(PROVIDER, 'a2', 'slow');
    await other.call(PROVIDER, 'b1', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(3);

    await peer.channel.close();
    await flush();

    const [a1, a2, b1] = [nth(runs, 0), nth(runs, 1), nth(runs, 2)];
    expect(a1.ctx.signal.aborted).toBe(true);
    expect(a2.ctx.signal.aborted).toBe(true);
    expect(a1.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(a1.ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(b1.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);

    b1.done.resolve('still served');
    await flush();
    expect(provider.runningCalls).toBe(0);
    expect(other.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'b1', result: 'still served' },
    ]);
  });

  it('aborts the handlers of a proxy whose connection drops', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    peer.channel.drop();
    await flush();

    expect(nth(runs, 0).ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(provider.runningCalls).toBe(0);
  });

  it("agent:hello from a proxy stops that proxy's running calls (it started over), not another's", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    await peer.call(PROVIDER, 'c1', 'slow');
    await other.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);
    peer.clear();
    await peer.hello(PROVIDER);
    await flush();
    expect(runs[0]?.ctx.signal.aborted).toBe(true);
    expect(runs[0]?.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('started over'),
    });
    expect(runs[1]?.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);
    runs[0]?.done.resolve('too late');
    await flush();
    // Nothing for the stopped call: the tools again, as after every hello.
    expect(peer.frames().map((frame) => frame.type)).not.toContain('client:tool-result');
  });

  it('close() aborts every running handler, withdraws its tools and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    peer.clear();
    other.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await other.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);

    await provider.close();
    // Each proxy is told the tools are gone (its callers need not wait for the transport's leave).
    const withdrawal = { type: 'client:tool-register-batch', tools: [], replace: true };
    expect(peer.frames()).toEqual([withdrawal]);
    expect(other.frames()).toEqual([withdrawal]);
    peer.clear();
    other.clear();

    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.ctx.signal.aborted).toBe(true);
      expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
      expect(run.ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    }
    expect(provider.runningCalls).toBe(0);

    for (const run of runs) run.done.resolve('too late');
    await flush();
    expect(peer.frames()).toEqual([]);
    expect(other.frames()).toEqual([]);
    expect(peer.left.map((info) => info.identity)).toEqual([PROVIDER]);
  });

  it('aborts every running handler when its own connection is lost', async () => {
    const room = new InMemoryRoom();
    const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
    const { tool, runs } = controlledTool();
    const provider = track(new ToolProvider({ tools: [tool] }));
    const channel = room.join(PROVIDER);
    await provider.connect(channel);
    await flush();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    channel.drop();

    expect(nth(runs, 0).ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(provider.runningCalls).toBe(0);
  });

  it('counts running handlers', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    expect(provider.runningCalls).toBe(0);

    await peer.call(PROVIDER, 'c1', 'slow');
    await peer.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);

    nth(runs, 0).done.resolve(1);
    await flush();
    expect(provider.runningCalls).toBe(1);

    nth(runs, 1).done.reject(new Error('failed'));
    await flush();
    expect(provider.runningCalls).toBe(0);
  });
});

describe('ToolProvider: events', () => {
  it('emits registered with the exposed name the proxy chose', async () => {
    const { peer, provider } = await setup([echo, add]);
    const events = recordEvents(provider);

    await peer.send(
      {
        type: 'agent:tool-registered',
        name: 'echo',
        success: true,
        exposed_name: 'echo_1a2b3c4d',
      },
      PROVIDER,
    );
    await peer.send({ type: 'agent:tool-registered', name: 'add', success: true }, PROVIDER);
    await flush();

    expect(events).toEqual([
      {
        event: 'registered',
        payload: { proxy: 'proxy', name: 'echo', exposedName: 'echo_1a2b3c4d' },
      },
      { event: 'registered', payload: { proxy: 'proxy', name: 'add', exposedName: 'add' } },
    ]);
  });

  it('emits registration-failed with the reason and detail, and logs it', async () => {
    const logger = spyLogger();
    const { peer, provider } = await setup([echo], { logger });
    const events = recordEvents(provider);

    await peer.send(
      {
        type: 'agent:tool-registered',
        name: 'echo',
        success: false,
        reason: 'policy-refused',
        detail: 'robot is not allowed to register echo',
      },
      PROVIDER,
    );
    await peer.send({ type: 'agent:tool-registered', name: 'add', success: false }, PROVIDER);
    await flush();

    expect(events).toEqual([
      {
        event: 'registration-failed',
        payload: {
          proxy: 'proxy',
          name: 'echo',
          reason: 'policy-refused',
          detail: 'robot is not allowed to register echo',
        },
      },
      {
        event: 'registration-failed',
        payload: { proxy: 'proxy', name: 'add', reason: undefined, detail: undefined },
      },
    ]);
    expect(logger.warn).toHaveBeenCalled();
  });

  it('emits call:started and call:finished for calls that end', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'fails',
      input: z.object({}),
      handler: () => {
        throw new Error('no');
      },
    });
    const { peer, provider } = await setup([echo, fails]);
    const events = recordEvents(provider);

    await peer.call(PROVIDER, 'c1', 'echo', { text: 'x' });
    await flush();
    await peer.call(PROVIDER, 'c2', 'fails');
    await flush();

    expect(events).toEqual([
      { event: 'call:started', payload: { proxy: 'proxy', callId: 'c1', name: 'echo' } },
      { event: 'call:finished', payload: { proxy: 'proxy', callId: 'c1', name: 'echo', ok: true } },
      { event: 'call:started', payload: { proxy: 'proxy', callId: 'c2', name: 'fails' } },
      {
        event: 'call:finished',
        payload: { proxy: 'proxy', callId: 'c2', name: 'fails', ok: false },
      },
    ]);
  });

  it('emits call:aborted with the reason, then call:finished', async () => {
    const { tool } = abortableTool();
    const { peer, provider } = await setup([tool]);
    const events = recordEvents(provider);

    await peer.call(PROVIDER, 'c1', 'abortable');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'caller-aborted', 'user pressed stop');
    await flush();

    expect(events.map((e) => e.event)).toEqual(['call:started', 'call:aborted', 'call:finished']);
    const aborted = nth(events, 1).payload;
    expect(aborted).toMatchObject({ proxy: 'proxy', callId: 'c1', name: 'abortable' });
    expect(aborted).toHaveProperty('reason', expect.any(ToolProxyError));
    expect(aborted).toHaveProperty(
      'reason',
      expect.objectContaining({
        code: 'CANCELLED',
        reason: 'caller-aborted',
        detail: 'user pressed stop',
      }),
    );
    expect(nth(events, 2).payload).toMatchObject({ callId: 'c1', ok: false });
  });

  it('keeps going when an event handler throws', async () => {
    const { peer, provider } = await setup([echo]);
    provider.events.on('call:started', () => {
      throw new Error('observer bug');
    });

    await peer.call(PROVIDER, 'c1', 'echo', { text: 'x' });
    await flush();

    expect(peer.frames('client:tool-result')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', result: { text: 'x' } },
    ]);
  });
});

describe('ToolProvider with a real ToolProxy', () => {
  async function linked(tools: readonly ToolDefinition[]) {
    const [agentEnd, providerEnd, room] = InMemoryRoom.createLinkedPair();
    const wire: Array<{ from: string; to: string; frame: Record<string, unknown> }> = [];
    room.tap((from, to, text) => {
      wire.push({ from, to, frame: JSON.parse(text) });
    });
    const proxy = track(new ToolProxy());
    await proxy.start(agentEnd);
    const provider = track(new ToolProvider({ tools }));
    const registered: string[] = [];
    provider.events.on('registered', ({ exposedName }) => registered.push(exposedName));
    await provider.connect(providerEnd);
    await flush();
    return { proxy, provider, room, wire, registered };
  }

  it('proxy.call() resolves with the handler result', async () => {
    const move = defineTool({
      name: 'move_arm',
      description: 'Moves the arm',
      input: z.object({ degrees: z.number() }),
      timeoutMs: 45_000,
      handler: ({ degrees }) => ({ moved: degrees }),
    });
    const { proxy, registered } = await linked([echo, move]);

    expect(registered.sort()).toEqual(['echo', 'move_arm']);
    expect(proxy.getTool('move_arm')).toMatchObject({
      provider: 'provider',
      timeoutMs: 45_000,
      inputSchema: { type: 'object' },
    });
    await expect(proxy.call('move_arm', { degrees: 30 })).resolves.toEqual({ moved: 30 });
    await expect(proxy.call('echo', { text: 'hi' })).resolves.toEqual({ text: 'hi' });
  });

  it('proxy.call() rejects with REMOTE_ERROR when the handler throws', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'fails',
      input: z.object({}),
      handler: () => {
        throw new Error('gripper jammed');
      },
    });
    const { proxy } = await linked([fails]);

    await expect(proxy.call('fails')).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('gripper jammed'),
    });
  });

  it('a tool whose argument parsing throws fails the call at once, not at the deadline', async () => {
    const picky = defineTool({
      name: 'picky',
      description: 'its input transform throws on "bad"',
      input: z.object({
        code: z.string().transform((code) => {
          if (code === 'bad') throw new Error('transform threw');
          return code;
        }),
      }),
      handler: ({ code }) => code,
    });
    const { proxy } = await linked([picky]);

    let outcome: unknown = 'still pending';
    proxy.call('picky', { code: 'bad' }).then(
      (value) => {
        outcome = { value };
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await flush();
    await flush();

    expect(outcome).toMatchObject({ code: 'REMOTE_ERROR' });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('registers with a proxy that starts after the provider', async () => {
    const [agentEnd, providerEnd] = InMemoryRoom.createLinkedPair();
    const provider = track(new ToolProvider({ tools: [add] }));
    await provider.connect(providerEnd);
    await flush();
    const proxy = track(new ToolProxy());
    await proxy.start(agentEnd);
    await flush();

    await expect(proxy.call('add', { a: 2, b: 3 })).resolves.toBe(5);
  });

  it('agent_loop_stopped aborts the handler with reason agent-loop-stopped', async () => {
    const { tool, runs } = controlledTool();
    const { proxy, provider, wire } = await linked([tool]);

    const call = proxy.call('slow', {}, { sessionKey: 's' });
    const rejected = expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
    });
    await flush();
    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);

    proxy.lifecycle('agent_loop_stopped', {
      session_key: 's',
      platform: 'livekit',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    });
    await rejected;
    await flush();

    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: expect.stringContaining('Stop requested'),
      callId: run.ctx.callId,
    });
    expect(provider.runningCalls).toBe(0);

    run.done.resolve('finished anyway');
    await flush();
    const fromProvider = wire.filter(
      (w) => w.from === 'provider' && w.frame.call_id === run.ctx.callId,
    );
    expect(fromProvider).toEqual([]);
    expect(proxy.stats().results).toMatchObject({ late: 0, unknown: 0 });
  });

  it("the proxy's deadline aborts the handler with TIMEOUT", async () => {
    const { tool, signals } = abortableTool();
    const { proxy, provider } = await linked([tool]);

    const call = proxy.call('abortable');
    const rejected = expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    await flush();
    expect(nth(signals, 0).aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(29_999);
    expect(nth(signals, 0).aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await rejected;
    await flush();

    expect(nth(signals, 0).reason).toBeInstanceOf(ToolProxyError);
    expect(nth(signals, 0).reason).toMatchObject({ code: 'TIMEOUT' });
    expect(provider.runningCalls).toBe(0);
  });

  it('gets a suffixed exposed name when another provider has the same tool', async () => {
    const room = new InMemoryRoom();
    const proxy = track(new ToolProxy());
    await proxy.start(room.join('agent', { isAgent: true }));
    const first = track(new ToolProvider({ tools: [echo] }));
    const second = track(new ToolProvider({ tools: [echo] }));
    const onFirst = vi.fn();
    const onSecond = vi.fn();
    first.events.on('registered', onFirst);
    second.events.on('registered', onSecond);
    await first.connect(room.join('robot-a'));
    await flush();
    await second.connect(room.join('robot-b'));
    await flush();

    const exposed = proxy.tools().find((t) => t.provider === 'robot-b')?.name;
    expect(exposed).toMatch(/^echo_[0-9a-f]{8}$/);
    expect(onFirst).toHaveBeenCalledWith({ proxy: 'agent', name: 'echo', exposedName: 'echo' });
    expect(onSecond).toHaveBeenCalledWith({ proxy: 'agent', name: 'echo', exposedName: exposed });
  });
});
