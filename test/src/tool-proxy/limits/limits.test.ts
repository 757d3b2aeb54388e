/**
 * Per-provider limits over the in-memory room, on fake timers: the registration budget, the frame
 * budget (and the results it must never cost a caller), the notice a throttled provider gets, the
 * result size cap and the options. State and floods: limits-state.test.ts.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { InMemoryRoom } from '../../../../bridge/memory.js';
import {
  defineTool,
  ToolProvider,
  ToolProxy,
  type ToolProxyOptions,
} from '../../../../src/index.js';
// The shared harness's proxy with a registered robot, beside this file's own `setup`.
import { setup as harnessSetup, microtasks, observe } from '../../../support/harness.js';
import {
  batchItem,
  limitsWorld,
  progressText,
  registered,
  startCall,
  warnings,
} from '../../../support/limits-world.js';
import { flush, spyLogger, useFakeClock } from '../../../support/util.js';
import { registerFrame, WirePeer } from '../../../support/wire-peer.js';

const logger = spyLogger();

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: WirePeer;
let flood: WirePeer;

async function setup(options: ToolProxyOptions = {}): Promise<void> {
  ({ room, proxy, robot, flood } = await limitsWorld({ logger, ...options }));
}

useFakeClock(logger, () => proxy);

describe('registration budget', () => {
  beforeEach(() => setup({ registrationsPerSecond: 10, registrationBurst: 5 }));

  it('a registration flood is refused as rate-limited, and accepted again after the refill', async () => {
    for (let i = 0; i < 8; i++) await robot.send(registerFrame(`t${i}`));
    await flush();
    const answers = robot.frames('agent:tool-registered');
    expect(answers.slice(0, 5).map((a) => [a.name, a.success])).toEqual(
      ['t0', 't1', 't2', 't3', 't4'].map((name) => [name, true]),
    );
    expect(answers.slice(5)).toEqual(
      ['t5', 't6', 't7'].map((name) => ({
        type: 'agent:tool-registered',
        name,
        success: false,
        reason: 'rate-limited',
        detail: 'over 10 registrations per second (burst 5); retry after 100 ms',
        retry_after_ms: 100,
        sent_at_ms: expect.any(Number),
      })),
    );
    expect(proxy.tools()).toHaveLength(5);
    expect(proxy.stats().registrations.rateLimited).toBe(3);
    expect(warnings(logger, 'provider over its registration budget: registrations refused')).toBe(
      1,
    );

    robot.clear();
    await vi.advanceTimersByTimeAsync(100);
    await robot.send(registerFrame('t5'));
    await flush();
    expect(robot.frames()).toEqual([
      { type: 'agent:tool-registered', name: 't5', success: true, sent_at_ms: expect.any(Number) },
    ]);
  });

  it('each tool of a batch counts; the ones over budget are answered one by one', async () => {
    const tools = Array.from({ length: 7 }, (_, i) => batchItem(`b${i}`));
    await robot.send({ type: 'client:tool-register-batch', tools });
    await flush();
    expect(robot.frames().map((a) => [a.name, a.success, a.reason])).toEqual([
      ['b0', true, undefined],
      ['b1', true, undefined],
      ['b2', true, undefined],
      ['b3', true, undefined],
      ['b4', true, undefined],
      ['b5', false, 'rate-limited'],
      ['b6', false, 'rate-limited'],
    ]);
  });

  it('a refused update leaves the previous registration in place', async () => {
    await robot.send(registerFrame('grip', { description: 'v1' }));
    for (let i = 0; i < 4; i++) await robot.send(registerFrame(`t${i}`));
    await robot.send(registerFrame('grip', { description: 'v2' }));
    await flush();
    expect(robot.frames().at(-1)).toMatchObject({ name: 'grip', reason: 'rate-limited' });
    expect(proxy.getTool('grip')?.description).toBe('v1');
  });

  it('malformed registrations count too, and the budget is per provider', async () => {
    for (let i = 0; i < 6; i++) await flood.send(registerFrame('tool', { name: 42 }));
    await robot.send(registerFrame('grip'));
    await flush();
    expect(flood.frames().map((a) => a.reason)).toEqual([
      ...Array<string>(5).fill('name-invalid'),
      'rate-limited',
    ]);
    expect(robot.frames()).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'grip',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
  });
});

describe('default registration budget', () => {
  it('lets a provider register a full set of 64 tools twice at once, and no more', async () => {
    await setup();
    const tools = Array.from({ length: 64 }, (_, i) => batchItem(`t${i}`));
    await robot.send({ type: 'client:tool-register-batch', tools }); // on connect
    for (const tool of tools) await robot.send({ type: 'client:tool-register', ...tool }); // on hello
    await robot.send(registerFrame('t0'));
    await flush();
    const answers = robot.frames('agent:tool-registered');
    expect(answers.slice(0, 128).every((answer) => answer.success === true)).toBe(true);
    expect(answers[128]).toMatchObject({ success: false, reason: 'rate-limited' });
  });
});

describe('frame budget', () => {
  beforeEach(() => setup({ framesPerSecond: 10, frameBurst: 10 }));

  it('over budget, frames are dropped and counted, and the provider is told once per interval', async () => {
    const unregister = { type: 'client:tool-unregister', name: 'x' };
    for (let i = 0; i < 30; i++) await flood.send(unregister);
    await flush();
    expect(flood.frames('agent:tool-unregistered')).toHaveLength(10);
    expect(flood.frames('agent:rate-limited')).toEqual([
      {
        type: 'agent:rate-limited',
        limit: 'frames',
        per_second: 10,
        burst: 10,
        dropped: 1,
        retry_after_ms: 100,
        detail: expect.stringContaining('over 10 frames per second (burst 10)'),
      },
    ]);
    expect(proxy.stats().frames).toMatchObject({ received: 30, rateLimited: 20, malformed: 0 });
    expect(warnings(logger, 'provider over its frame budget: frames dropped')).toBe(1);

    // A second later the bucket is full again: 10 pass, and the next notice counts every drop since.
    flood.clear();
    await vi.advanceTimersByTimeAsync(1_000);
    for (let i = 0; i < 15; i++) await flood.send(unregister);
    await flush();
    expect(flood.frames('agent:tool-unregistered')).toHaveLength(10);
    expect(flood.frames('agent:rate-limited')).toEqual([
      expect.objectContaining({ dropped: 20, retry_after_ms: 100 }),
    ]);
    expect(proxy.stats().frames.rateLimited).toBe(25);
    // Another provider's budget was never touched.
    await registered(robot, 'grip');
    expect(proxy.getTool('grip')?.provider).toBe('robot');
  });

  it('a result for a pending call sent amid a flood is still delivered to its caller', async () => {
    await registered(flood, 'spam');
    const { call, callId } = await startCall(proxy, flood, 'spam');
    for (let i = 1; i <= 50; i++) await flood.sendText(progressText(callId, i));
    await flood.send({ type: 'client:tool-result', call_id: callId, result: { done: true } });
    for (let i = 51; i <= 100; i++) await flood.sendText(progressText(callId, i));
    await flush();
    expect(proxy.pendingCalls).toBe(0);
    await expect(call).resolves.toEqual({ done: true });
    const stats = proxy.stats();
    expect(stats.results.accepted).toBe(1);
    expect(stats.frames.rateLimited).toBe(100 - 9); // the register frame took one of ten tokens
    expect(stats.progress.accepted).toBe(9);
  });

  it('a malformed or oversize result for a pending call amid a flood still ends it at once', async () => {
    await proxy.close();
    await setup({ framesPerSecond: 10, frameBurst: 10, maxFrameChars: 1_000 });
    await registered(flood, 'spam');
    const first = await startCall(proxy, flood, 'spam');
    const second = await startCall(proxy, flood, 'spam');
    const firstFailed = expect(first.call).rejects.toMatchObject({ code: 'INVALID_RESULT' });
    const secondFailed = expect(second.call).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      message: expect.stringContaining('exceeds the limit of 1000 characters'),
    });
    for (let i = 0; i < 20; i++) await flood.sendText(progressText(first.callId, i));
    await flood.send({ type: 'client:tool-result', call_id: first.callId, error: 42 });
    await flood.sendText(
      `{"type":"client:tool-result","call_id":"${second.callId}","result":"${'x'.repeat(2_000)}"}`,
    );
    await flush();
    expect(proxy.pendingCalls).toBe(0);
    await firstFailed;
    await secondFailed;
  });

  it("over budget, a result naming another provider's call is dropped unparsed; that call waits", async () => {
    await registered(robot, 'grip');
    const { call, callId } = await startCall(proxy, robot, 'grip');
    const pending = observe(call);
    for (let i = 0; i < 10; i++) await flood.send({ type: 'client:tool-unregister', name: 'x' });
    await flood.send({ type: 'client:tool-result', call_id: callId, result: 'forged' });
    await flush();
    expect(pending.state()).toBe('pending');
    expect(proxy.stats().results.spoofed).toBe(0);
    expect(proxy.stats().frames.rateLimited).toBe(1);
    await robot.send({ type: 'client:tool-result', call_id: callId, result: 'genuine' });
    await expect(call).resolves.toBe('genuine');
  });

  it('results are not charged to the budget: a busy provider can still register', async () => {
    await registered(robot, 'grip');
    const calls = Array.from({ length: 50 }, () => proxy.call('grip', {}));
    await flush();
    for (const frame of robot.calls()) await robot.result(frame.call_id, frame.call_id);
    const values = await Promise.all(calls);
    expect(values).toEqual(robot.calls().map((frame) => frame.call_id));
    robot.clear();
    await robot.send(registerFrame('late_tool'));
    await flush();
    expect(robot.frames()).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'late_tool',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.stats().frames.rateLimited).toBe(0);
  });
});

describe('character budget', () => {
  // 5 frames of 3,950 chars (3,660 and 9 structural ones at 32 each) fit the burst; then 10,000 a second.
  beforeEach(() => setup({ maxFrameChars: 5_000, charsPerSecond: 10_000, charBurst: 20_000 }));
  const padded = (n: number) =>
    JSON.stringify({ type: 'client:tool-unregister', name: 'x', pad: 'p'.repeat(3_600), n });

  it('big frames are dropped once their characters pass the budget, whatever their number', async () => {
    for (let i = 0; i < 12; i++) await flood.sendText(padded(i));
    await flush();
    expect(flood.frames('agent:tool-unregistered')).toHaveLength(5);
    expect(flood.frames('agent:rate-limited')).toEqual([
      expect.objectContaining({
        limit: 'chars',
        per_second: 10_000,
        burst: 20_000,
        detail: expect.stringContaining('over 10000 characters of frames per second'),
      }),
    ]);
    expect(proxy.stats().frames.rateLimited).toBe(7);
    // Small frames from another provider are not held back by it.
    await registered(robot, 'grip');
    expect(proxy.getTool('grip')?.provider).toBe('robot');
  });

  it('a big result for a pending call is still taken when the character budget is spent', async () => {
    await registered(flood, 'dump');
    const { call, callId } = await startCall(proxy, flood, 'dump');
    for (let i = 0; i < 6; i++) await flood.sendText(padded(i));
    const big = 'r'.repeat(4_000);
    await flood.send({ type: 'client:tool-result', call_id: callId, result: big });
    await flush();
    await expect(call).resolves.toBe(big);
  });
});

describe('the agent:rate-limited notice', () => {
  it("is reported by toolproxy's own provider runtime, which keeps serving its calls", async () => {
    await setup({ framesPerSecond: 1, frameBurst: 1 });
    const providerLogger = spyLogger();
    const provider = new ToolProvider({
      logger: providerLogger,
      tools: ['a', 'b', 'c'].map((name) =>
        defineTool({ name, description: name, input: z.object({}), handler: () => name }),
      ),
    });
    await provider.connect(room.join('runtime'));
    await flush();
    // One registration frame fits the budget; the other two are dropped, and the provider told.
    expect(proxy.tools().map((tool) => tool.name)).toEqual(['a']);
    expect(proxy.stats().frames.rateLimited).toBe(2);
    expect(providerLogger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 'frames' }),
      'rate limited',
    );
    expect(providerLogger.error).not.toHaveBeenCalled();
    // Still over budget (no time passed), yet its result for a pending call gets through.
    await expect(proxy.call('a', {})).resolves.toBe('a');
    await provider.close();
  });
});

describe('result size', () => {
  beforeEach(async () => {
    await setup({ maxResultChars: 200 });
    await registered(robot, 'dump');
  });

  it('a result over maxResultChars fails its call with INVALID_RESULT, naming size and limit', async () => {
    const { call, callId } = await startCall(proxy, robot, 'dump');
    const text = JSON.stringify({
      type: 'client:tool-result',
      call_id: callId,
      result: 'x'.repeat(300),
    });
    await robot.sendText(text);
    await expect(call).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      callId,
      detail: 'result-too-large',
      message: expect.stringContaining(
        `a result of ${text.length} characters, which exceeds the limit of 200 characters`,
      ),
    });
    expect(proxy.stats().results).toMatchObject({ tooLarge: 1, accepted: 0 });
    expect(proxy.stats().calls.settled['invalid-result']).toBe(1);
    expect(proxy.pendingCalls).toBe(0);
  });

  it('a result within the limit is delivered', async () => {
    const { call, callId } = await startCall(proxy, robot, 'dump');
    await robot.result(callId, 'x'.repeat(100));
    await expect(call).resolves.toBe('x'.repeat(100));
  });

  it('an oversize result from another participant does not touch the call', async () => {
    const { call, callId } = await startCall(proxy, robot, 'dump');
    const pending = observe(call);
    await flood.send({ type: 'client:tool-result', call_id: callId, result: 'x'.repeat(300) });
    await flush();
    expect(pending.state()).toBe('pending');
    expect(proxy.stats().results).toMatchObject({ tooLarge: 0, spoofed: 1 });
  });
});

describe('options', () => {
  it.each<[string, ToolProxyOptions]>([
    ['a zero frame rate', { framesPerSecond: 0 }],
    ['a negative registration rate', { registrationsPerSecond: -5 }],
    ['a NaN burst', { frameBurst: Number.NaN }],
    ['a zero result cap', { maxResultChars: 0 }],
  ])('%s is refused at construction', (_what, options) => {
    expect(() => new ToolProxy(options)).toThrow(RangeError);
  });

  it('false turns the rate limits off', async () => {
    await setup({ framesPerSecond: false, charsPerSecond: false, registrationsPerSecond: false });
    for (let i = 0; i < 1_000; i++) await robot.send({ type: 'client:tool-unregister', name: 'x' });
    await flush();
    expect(robot.frames()).toHaveLength(1_000);
    expect(proxy.stats().frames.rateLimited).toBe(0);
    expect(proxy.trackedProviders).toBe(0);
  });
});

describe('results', () => {
  it('an oversize result whose head names the call fails that call at once with INVALID_RESULT', async () => {
    const { proxy, robot } = await harnessSetup({ maxFrameChars: 1_000 });
    const call = proxy.call('ping');
    await microtasks();
    const text = `{"type":"client:tool-result","call_id":"${robot.callId()}","result":"${'x'.repeat(2_000)}"}`;
    await robot.channel.send('agent', text);
    await expect(call).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      message: expect.stringContaining('exceeds'),
    });
    expect(proxy.stats().frames.tooLarge).toBe(1);
  });

  it('an oversize result from another participant does not touch the call', async () => {
    const { proxy, robot, room } = await harnessSetup({ maxFrameChars: 1_000 });
    const stranger = await WirePeer.join(room, 'stranger');
    const call = observe(proxy.call('ping'));
    await microtasks();
    await stranger.channel.send(
      'agent',
      `{"type":"client:tool-result","call_id":"${robot.callId()}","result":"${'x'.repeat(2_000)}"}`,
    );
    await microtasks();
    expect(call.state()).toBe('pending');
  });

  it('the provider runtime turns a result too large for a frame into an error result', async () => {
    const { proxy, room } = await harnessSetup();
    const provider = new ToolProvider({
      maxFrameChars: 500,
      tools: [
        defineTool({
          name: 'dump',
          description: 'big',
          input: z.object({}),
          handler: () => 'y'.repeat(1_000),
        }),
      ],
    });
    await provider.connect(room.join('dumper'));
    await proxy.waitForTool('dump');
    await expect(proxy.call('dump')).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('a frame holds at most 500'),
    });
  });
});
