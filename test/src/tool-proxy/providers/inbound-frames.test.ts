import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { InMemoryRoom } from '../../../../bridge/memory.js';
import type {
  ProgressUpdate,
  ProxyStats,
  ToolProxy,
  ToolProxyOptions,
} from '../../../../src/index.js';
import { flush, spyLogger, useFakeClock } from '../../../support/util.js';
import {
  type JsonObject,
  registerFrame,
  startProxy,
  WirePeer,
} from '../../../support/wire-peer.js';

const logger = spyLogger();

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: WirePeer;
let mallory: WirePeer;

async function setup(options: ToolProxyOptions = {}): Promise<void> {
  ({ room, proxy } = await startProxy({ logger, ...options }));
  robot = await WirePeer.join(room, 'robot');
  mallory = await WirePeer.join(room, 'mallory');
  await flush();
}

async function register(peer: WirePeer, name: string, extra: JsonObject = {}): Promise<void> {
  await peer.send(registerFrame(name, extra));
  await flush();
}

/** Counter changes since `before`, for one section of the stats. */
function delta<K extends keyof ProxyStats>(
  before: ProxyStats,
  section: K,
): Record<keyof ProxyStats[K], number> {
  const now = proxy.stats()[section] as Record<string, number>;
  const then = before[section] as Record<string, number>;
  return Object.fromEntries(
    Object.entries(now).map(([key, value]) => [key, value - (then[key] ?? 0)]),
  ) as Record<keyof ProxyStats[K], number>;
}

useFakeClock(logger, () => proxy);

describe('registration', () => {
  beforeEach(() => setup({ maxDescriptionChars: 100 }));

  it('a valid registration is confirmed and the tool is exposed', async () => {
    await register(robot, 'move_arm');
    expect(robot.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'move_arm',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.tools().map((t) => [t.name, t.provider])).toEqual([['move_arm', 'robot']]);
    expect(mallory.frames()).toEqual([]);
  });

  it.each<[string, JsonObject, string, string]>([
    ['a name with a space', { name: 'move arm' }, 'move arm', 'name-invalid'],
    ['a name starting with a digit', { name: '9lives' }, '9lives', 'name-invalid'],
    ['an empty name', { name: '' }, '', 'name-invalid'],
    ['a 65-char name', { name: 'n'.repeat(65) }, 'n'.repeat(65), 'name-invalid'],
    ['a 300-char name', { name: 'n'.repeat(300) }, 'n'.repeat(256), 'name-invalid'],
    ['a numeric name', { name: 42 }, '', 'name-invalid'],
    ['a missing name', { name: undefined }, '', 'name-invalid'],
    ['a non-object schema root', { input_schema: { type: 'string' } }, 'tool', 'schema-invalid'],
    [
      'a schema with a backreference',
      { input_schema: { type: 'object', properties: { s: { pattern: '(a)\\1' } } } },
      'tool',
      'schema-invalid',
    ],
    [
      'an unresolvable $ref',
      { input_schema: { type: 'object', properties: { s: { $ref: '#/definitions/no' } } } },
      'tool',
      'schema-invalid',
    ],
    [
      'a description over the limit',
      { description: 'd'.repeat(101) },
      'tool',
      'description-invalid',
    ],
    ['a numeric description', { description: 42 }, 'tool', 'description-invalid'],
    ['a null description', { description: null }, 'tool', 'description-invalid'],
    ['a string metadata', { metadata: 'fast' }, 'tool', 'metadata-invalid'],
    ['a zero deadline', { metadata: { max_execution_time_ms: 0 } }, 'tool', 'metadata-invalid'],
    [
      'a fractional deadline',
      { metadata: { max_execution_time_ms: 1.5 } },
      'tool',
      'metadata-invalid',
    ],
    [
      'bad annotations',
      { metadata: { annotations: { readOnlyHint: 'yes' } } },
      'tool',
      'metadata-invalid',
    ],
  ])('%s is refused with the right reason', async (_what, extra, name, reason) => {
    await robot.send(registerFrame('tool', extra));
    await flush();
    const replies = robot.frames('agent:tool-registered');
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({
      type: 'agent:tool-registered',
      name,
      success: false,
      reason,
    });
    expect(typeof replies[0]?.detail).toBe('string');
    expect(replies[0]?.detail).not.toBe('');
    expect(proxy.tools()).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each<[string, unknown]>([
    ['a string', 'object'],
    ['a number', 42],
    ['a boolean', true],
    ['null', null],
    ['an array', [{ type: 'object' }]],
    ['a missing schema', undefined],
  ])('an input_schema that is %s is refused as schema-invalid', async (_what, inputSchema) => {
    await robot.send({ type: 'client:tool-register', name: 'tool', input_schema: inputSchema });
    await flush();
    expect(robot.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'tool',
        success: false,
        reason: 'schema-invalid',
        detail: expect.stringContaining('input_schema'),
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.tools()).toEqual([]);
  });

  it('a hostile nesting depth is refused as schema-invalid, with a reply', async () => {
    // Deeper than the schema cap (32), within the frame cap (64): parsed, then refused.
    const depth = 50;
    const nested = `${'{"not":'.repeat(depth)}{}${'}'.repeat(depth)}`;
    await robot.sendText(
      `{"type":"client:tool-register","name":"deep","input_schema":{"type":"object","properties":{"x":${nested}}}}`,
    );
    await flush();
    expect(robot.frames('agent:tool-registered')).toEqual([
      expect.objectContaining({ name: 'deep', success: false, reason: 'schema-invalid' }),
    ]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a nesting depth past the frame cap is dropped unparsed, counted as too large', async () => {
    const depth = 100_000;
    const nested = `${'{"not":'.repeat(depth)}{}${'}'.repeat(depth)}`;
    await robot.sendText(
      `{"type":"client:tool-register","name":"deep","input_schema":{"type":"object","properties":{"x":${nested}}}}`,
    );
    await flush();
    expect(robot.frames()).toEqual([]);
    expect(proxy.stats().frames).toMatchObject({ tooLarge: 1, malformed: 0 });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('a name another provider holds is exposed with a suffix, reported in exposed_name', async () => {
    await register(robot, 'grip');
    await register(mallory, 'grip');
    const reply = mallory.frames('agent:tool-registered')[0];
    expect(reply).toMatchObject({ name: 'grip', success: true });
    expect(reply?.exposed_name).toMatch(/^grip_[0-9a-f]{8}$/);
    const exposed = String(reply?.exposed_name);
    expect(proxy.getTool(exposed)?.provider).toBe('mallory');
    // The provider is called under the name it registered.
    const call = proxy.call(exposed, { x: 1 });
    await flush();
    expect(mallory.lastCall()).toMatchObject({ name: 'grip', arguments: { x: 1 } });
    expect(robot.calls()).toEqual([]);
    await mallory.send({
      type: 'client:tool-result',
      call_id: mallory.lastCall().call_id,
      result: 'ok',
    });
    await expect(call).resolves.toBe('ok');
  });

  it('an identical re-registration is confirmed again', async () => {
    await register(robot, 'grip');
    await register(robot, 'grip');
    expect(robot.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'grip',
        success: true,
        sent_at_ms: expect.any(Number),
      },
      {
        type: 'agent:tool-registered',
        name: 'grip',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.tools()).toHaveLength(1);
  });
});

describe('registration limits and policy', () => {
  it('too-many-tools and not-allowed reach the provider', async () => {
    await setup({
      maxToolsPerProvider: 1,
      policy: (request) =>
        request.provider === 'mallory' ? { allow: false, reason: 'not on the list' } : true,
    });
    await register(robot, 'a');
    await register(robot, 'b');
    await register(mallory, 'c');
    expect(robot.frames('agent:tool-registered')).toEqual([
      { type: 'agent:tool-registered', name: 'a', success: true, sent_at_ms: expect.any(Number) },
      expect.objectContaining({ name: 'b', success: false, reason: 'too-many-tools' }),
    ]);
    expect(mallory.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'c',
        success: false,
        reason: 'not-allowed',
        detail: 'not on the list',
        sent_at_ms: expect.any(Number),
      },
    ]);
  });

  it("with onNameCollision: 'reject', a taken name is refused as name-taken", async () => {
    await setup({ onNameCollision: 'reject' });
    await register(robot, 'grip');
    await register(mallory, 'grip');
    expect(mallory.frames('agent:tool-registered')).toEqual([
      expect.objectContaining({ name: 'grip', success: false, reason: 'name-taken' }),
    ]);
  });
});

describe('frames that cannot be decoded', () => {
  beforeEach(() => setup({ maxFrameChars: 2_000 }));

  it.each<[string, string, keyof ProxyStats['frames']]>([
    ['empty text', '', 'malformed'],
    ['truncated JSON', '{"type":"client:tool-register","name":"x"', 'malformed'],
    ['plain text', 'hello agent', 'malformed'],
    ['an array', JSON.stringify([registerFrame('x')]), 'malformed'],
    ['a number', '42', 'malformed'],
    ['null', 'null', 'malformed'],
    ['a string', '"client:tool-register"', 'malformed'],
    ['an object without type', '{"name":"x"}', 'unknownType'],
    ['a numeric type', '{"type":7}', 'unknownType'],
    ['an unknown type', '{"type":"client:dance"}', 'unknownType'],
    ['a hermes capture-frame', '{"type":"client:capture-frame","data":"..."}', 'unknownType'],
    ['a hermes control frame', '{"type":"client:control","action":"pause"}', 'unknownType'],
    ['a proxy frame type', '{"type":"agent:tool-call","call_id":"x"}', 'unknownType'],
    ['a prototype key type', '{"type":"__proto__"}', 'unknownType'],
    [
      'a too-large register',
      JSON.stringify(registerFrame('x', { description: 'd'.repeat(3_000) })),
      'tooLarge',
    ],
    ['an unregister with a bad name', '{"type":"client:tool-unregister","name":5}', 'malformed'],
    ['a batch without tools', '{"type":"client:tool-register-batch"}', 'malformed'],
    ['a progress without call_id', '{"type":"client:tool-progress","progress":1}', 'malformed'],
    ['a result without call_id', '{"type":"client:tool-result","result":1}', 'malformed'],
  ])('%s is counted, gets no reply and throws nothing', async (_what, text, counter) => {
    const before = proxy.stats();
    await robot.sendText(text);
    await flush();
    const frames = delta(before, 'frames');
    expect(frames.received).toBe(1);
    expect(frames[counter]).toBe(1);
    const others = (['malformed', 'unknownType', 'tooLarge'] as const).filter((k) => k !== counter);
    for (const other of others) expect(frames[other]).toBe(0);
    expect(robot.received).toEqual([]);
    expect(proxy.tools()).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('the proxy keeps working after a burst of garbage', async () => {
    for (const text of ['', '[]', '{"type":1}', 'x', '{"type":"client:tool-result"}']) {
      await robot.sendText(text);
    }
    await register(robot, 'grip');
    expect(robot.frames()).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'grip',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.stats().frames).toEqual({
      received: 6,
      unknownType: 1,
      malformed: 4,
      tooLarge: 0,
      rateLimited: 0,
    });
  });
});

describe('client:tool-register-batch', () => {
  beforeEach(() => setup());

  it('registers several tools with one reply each, in order', async () => {
    await robot.send({
      type: 'client:tool-register-batch',
      tools: [registerFrame('a'), registerFrame('b'), registerFrame('c')].map(
        ({ type: _type, ...tool }) => tool,
      ),
    });
    await flush();
    expect(robot.frames()).toEqual(
      ['a', 'b', 'c'].map((name) => ({
        type: 'agent:tool-registered',
        name,
        success: true,
        sent_at_ms: expect.any(Number),
      })),
    );
    expect(proxy.tools().map((t) => t.name)).toEqual(['a', 'b', 'c']);
  });

  it('answers a bad item with its reason and still registers the good ones', async () => {
    await robot.send({
      type: 'client:tool-register-batch',
      tools: [
        { name: 'good', input_schema: { type: 'object' } },
        { name: 'bad name', input_schema: { type: 'object' } },
        { name: 'no_schema' },
        { name: 'meta', input_schema: { type: 'object' }, metadata: { max_execution_time_ms: -1 } },
        'not an object',
      ],
    });
    await flush();
    expect(robot.frames('agent:tool-registered')).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'good',
        success: true,
        sent_at_ms: expect.any(Number),
      },
      expect.objectContaining({ name: 'bad name', success: false, reason: 'name-invalid' }),
      expect.objectContaining({ name: 'no_schema', success: false, reason: 'schema-invalid' }),
      expect.objectContaining({ name: 'meta', success: false, reason: 'metadata-invalid' }),
      expect.objectContaining({ name: '', success: false }),
    ]);
    expect(proxy.tools().map((t) => t.name)).toEqual(['good']);
  });

  it('a bad item gets the same reason and readable detail as the same frame sent alone', async () => {
    const bad = { name: 42, input_schema: { type: 'object' } };
    await robot.send({ type: 'client:tool-register', ...bad });
    await flush();
    await robot.send({ type: 'client:tool-register-batch', tools: [bad] });
    await flush();
    const [alone, inBatch] = robot.frames('agent:tool-registered');
    expect(alone).toMatchObject({ success: false, reason: 'name-invalid' });
    expect(alone?.detail).toMatch(/^name: /);
    expect(inBatch).toEqual(alone);
  });

  it('without replace, tools not listed stay registered', async () => {
    await register(robot, 'old');
    await robot.send({
      type: 'client:tool-register-batch',
      tools: [{ name: 'new', input_schema: { type: 'object' } }],
    });
    await flush();
    expect(proxy.tools().map((t) => t.name)).toEqual(['new', 'old']);
  });

  it("with replace: true, the provider's tools not listed are removed, and only its own", async () => {
    await register(robot, 'a');
    await register(robot, 'b');
    await register(robot, 'c');
    await register(mallory, 'm');
    robot.clear();
    await robot.send({
      type: 'client:tool-register-batch',
      replace: true,
      tools: [
        {
          name: 'b',
          description: 'b does something',
          input_schema: registerFrame('b').input_schema,
        },
        { name: 'd', input_schema: { type: 'object' } },
      ],
    });
    await flush();
    expect(robot.frames()).toEqual([
      { type: 'agent:tool-registered', name: 'b', success: true, sent_at_ms: expect.any(Number) },
      { type: 'agent:tool-registered', name: 'd', success: true, sent_at_ms: expect.any(Number) },
    ]);
    expect(proxy.tools().map((t) => `${t.provider}:${t.name}`)).toEqual([
      'robot:b',
      'robot:d',
      'mallory:m',
    ]);
  });

  it('with replace: true and an empty list, every tool of the provider goes', async () => {
    await register(robot, 'a');
    await register(mallory, 'm');
    await robot.send({ type: 'client:tool-register-batch', replace: true, tools: [] });
    await flush();
    expect(proxy.tools().map((t) => t.name)).toEqual(['m']);
  });

  it('a call pending on a tool removed by replace ends with TOOL_UNREGISTERED', async () => {
    await register(robot, 'a');
    const call = proxy.call('a', {});
    await flush();
    const settled = expect(call).rejects.toMatchObject({ code: 'TOOL_UNREGISTERED' });
    await robot.send({ type: 'client:tool-register-batch', replace: true, tools: [] });
    await flush();
    await settled;
  });
});

describe('client:tool-unregister', () => {
  beforeEach(() => setup());

  it('unregisters an own tool and confirms', async () => {
    await register(robot, 'grip');
    robot.clear();
    await robot.send({ type: 'client:tool-unregister', name: 'grip' });
    await flush();
    expect(robot.frames()).toEqual([
      { type: 'agent:tool-unregistered', name: 'grip', success: true },
    ]);
    expect(proxy.tools()).toEqual([]);
  });

  it('answers not-found for an unknown name', async () => {
    await robot.send({ type: 'client:tool-unregister', name: 'ghost' });
    await flush();
    expect(robot.frames()).toEqual([
      { type: 'agent:tool-unregistered', name: 'ghost', success: false, reason: 'not-found' },
    ]);
  });

  it("answers not-owned-by-you for another provider's tool and keeps it", async () => {
    await register(robot, 'grip');
    await mallory.send({ type: 'client:tool-unregister', name: 'grip' });
    await flush();
    expect(mallory.frames()).toEqual([
      {
        type: 'agent:tool-unregistered',
        name: 'grip',
        success: false,
        reason: 'not-owned-by-you',
      },
    ]);
    expect(proxy.getTool('grip')?.provider).toBe('robot');
  });

  it('a call pending on an unregistered tool ends with TOOL_UNREGISTERED', async () => {
    await register(robot, 'grip');
    const call = proxy.call('grip', {});
    await flush();
    const settled = expect(call).rejects.toMatchObject({ code: 'TOOL_UNREGISTERED' });
    await robot.send({ type: 'client:tool-unregister', name: 'grip' });
    await flush();
    await settled;
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: robot.lastCall().call_id, reason: 'tool-unregistered' }),
    ]);
  });
});

describe('client:tool-result', () => {
  beforeEach(async () => {
    await setup();
    await register(robot, 'grip');
  });

  async function startCall(args: JsonObject = { x: 1 }) {
    const call = proxy.call('grip', args);
    await flush();
    return { call, callId: robot.lastCall().call_id };
  }

  it('a result from the addressee resolves the call and is counted as accepted', async () => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    await robot.send({ type: 'client:tool-result', call_id: callId, result: { held: true } });
    await expect(call).resolves.toEqual({ held: true });
    expect(delta(before, 'results')).toEqual({
      accepted: 1,
      late: 0,
      duplicate: 0,
      unknown: 0,
      spoofed: 0,
      tooLarge: 0,
    });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('a result with neither result nor error resolves with null', async () => {
    const { call, callId } = await startCall();
    await robot.send({ type: 'client:tool-result', call_id: callId });
    await expect(call).resolves.toBeNull();
  });

  it('an error string or object rejects with REMOTE_ERROR', async () => {
    const first = await startCall();
    await robot.send({ type: 'client:tool-result', call_id: first.callId, error: 'jammed' });
    await expect(first.call).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      callId: first.callId,
      message: expect.stringContaining('jammed'),
    });
    const second = await startCall();
    await robot.send({
      type: 'client:tool-result',
      call_id: second.callId,
      error: { message: 'too heavy', code: 'E_LOAD', data: { kg: 12 } },
    });
    await expect(second.call).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      detail: 'E_LOAD',
      data: { kg: 12 },
      message: expect.stringContaining('too heavy'),
    });
  });

  it('a spoofed result is dropped and counted; the call waits for its provider', async () => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    let settled = false;
    void call.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await mallory.send({ type: 'client:tool-result', call_id: callId, result: 'forged' });
    await mallory.send({ type: 'client:tool-result', call_id: callId, error: 'forged' });
    await flush();
    expect(settled).toBe(false);
    expect(proxy.pendingCalls).toBe(1);
    expect(delta(before, 'results')).toMatchObject({ spoofed: 2, accepted: 0 });
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'genuine' });
    await expect(call).resolves.toBe('genuine');
    expect(delta(before, 'results')).toMatchObject({ spoofed: 2, accepted: 1 });
  });

  it('a spoofed result after the call settled is still counted as spoofed', async () => {
    const { call, callId } = await startCall();
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 1 });
    await expect(call).resolves.toBe(1);
    const before = proxy.stats();
    await mallory.send({ type: 'client:tool-result', call_id: callId, result: 2 });
    await flush();
    expect(delta(before, 'results')).toMatchObject({ spoofed: 1, duplicate: 0, late: 0 });
  });

  it('a result for an unknown call id is dropped and counted', async () => {
    robot.clear();
    const before = proxy.stats();
    await robot.send({ type: 'client:tool-result', call_id: 'tc_000000000000', result: 1 });
    await mallory.send({ type: 'client:tool-result', call_id: 'made-up', result: 1 });
    await flush();
    expect(delta(before, 'results')).toEqual({
      accepted: 0,
      late: 0,
      duplicate: 0,
      unknown: 2,
      spoofed: 0,
      tooLarge: 0,
    });
    expect(robot.received).toEqual([]);
  });

  it('a duplicate result is dropped and counted; the first one wins', async () => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'first' });
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'second' });
    await robot.send({ type: 'client:tool-result', call_id: callId, error: 'third' });
    await flush();
    await expect(call).resolves.toBe('first');
    expect(delta(before, 'results')).toMatchObject({ accepted: 1, duplicate: 2, late: 0 });
  });

  it('a result after the 30 s timeout is late: dropped and counted', async () => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    const timedOut = expect(call).rejects.toMatchObject({ code: 'TIMEOUT', callId });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(proxy.pendingCalls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await timedOut;
    expect(robot.frames('agent:tool-call-timeout')).toEqual([
      { type: 'agent:tool-call-timeout', call_id: callId, name: 'grip' },
    ]);
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'too late' });
    await flush();
    expect(delta(before, 'results')).toEqual({
      accepted: 0,
      late: 1,
      duplicate: 0,
      unknown: 0,
      spoofed: 0,
      tooLarge: 0,
    });
  });

  it('a result after a cancellation is late', async () => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    const cancelled = expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    call.cancel();
    await cancelled;
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'after cancel' });
    await flush();
    expect(delta(before, 'results')).toMatchObject({ late: 1, accepted: 0 });
  });

  it.each<[string, JsonObject]>([
    ['a numeric error', { error: 42 }],
    ['an error object without message', { error: { code: 'E' } }],
    ['an oversized error', { error: 'e'.repeat(9_000) }],
  ])('%s from the addressee ends the call with INVALID_RESULT', async (_what, body) => {
    const before = proxy.stats();
    const { call, callId } = await startCall();
    const failed = expect(call).rejects.toMatchObject({ code: 'INVALID_RESULT', callId });
    await robot.send({ type: 'client:tool-result', call_id: callId, ...body });
    await flush();
    await failed;
    expect(delta(before, 'frames')).toMatchObject({ malformed: 1 });
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.stats().calls.settled['invalid-result']).toBe(1);
  });

  it('a malformed result from another participant does not end the call', async () => {
    const { call, callId } = await startCall();
    await mallory.send({ type: 'client:tool-result', call_id: callId, error: 42 });
    await flush();
    expect(proxy.pendingCalls).toBe(1);
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'fine' });
    await expect(call).resolves.toBe('fine');
  });
});

describe('client:tool-progress', () => {
  beforeEach(async () => {
    await setup();
    await register(robot, 'grip');
  });

  it('accepts increasing progress from the addressee and drops the rest', async () => {
    const updates: ProgressUpdate[] = [];
    const before = proxy.stats();
    const call = proxy.call('grip', {}, { onProgress: (update) => updates.push(update) });
    await flush();
    const callId = robot.lastCall().call_id;
    const progress = (peer: WirePeer, value: number, extra: JsonObject = {}) =>
      peer.send({ type: 'client:tool-progress', call_id: callId, progress: value, ...extra });
    await progress(robot, 1, { total: 4, message: 'started' });
    await progress(mallory, 2); // wrong sender
    await progress(robot, 1); // equal
    await progress(robot, 0.5); // lower
    await progress(robot, 2);
    await progress(robot, 2); // equal again
    await robot.send({ type: 'client:tool-progress', call_id: 'tc_unknown0000', progress: 9 });
    await flush();
    expect(updates).toEqual([
      { progress: 1, total: 4, message: 'started' },
      { progress: 2, total: undefined, message: undefined },
    ]);
    expect(delta(before, 'progress')).toEqual({ accepted: 2, dropped: 5 });
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'done' });
    await expect(call).resolves.toBe('done');
    await progress(robot, 3); // after the call settled
    await flush();
    expect(delta(before, 'progress')).toEqual({ accepted: 2, dropped: 6 });
    expect(updates).toHaveLength(2);
  });

  it('progress from the wrong sender does not push the deadline', async () => {
    const call = proxy.call('grip', {});
    await flush();
    const callId = robot.lastCall().call_id;
    const timedOut = expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(20_000);
    await mallory.send({ type: 'client:tool-progress', call_id: callId, progress: 1 });
    await vi.advanceTimersByTimeAsync(10_000);
    await timedOut;
  });
});
