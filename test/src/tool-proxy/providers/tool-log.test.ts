/**
 * `client:tool-log`: log messages from a running call. The proxy takes them only from the call's
 * addressee while the call is pending (anything else is dropped and counted, never answered), they
 * move no deadline, and a provider sends none once its call was aborted. The MCP front's part is in
 * test/proxy/mcp/tool-log-mcp.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../../bridge/memory.js';
import {
  defineTool,
  type ProxyStats,
  TOOL_LOG_LEVELS,
  type ToolContext,
  type ToolLogEntry,
  type ToolLogLevel,
  ToolProvider,
  type ToolProxy,
  type ToolProxyOptions,
} from '../../../../src/index.js';
import { flush, spyLogger } from '../../../support/util.js';
import {
  type JsonObject,
  registerFrame,
  startProxy,
  WirePeer,
} from '../../../support/wire-peer.js';

const logger = spyLogger();

function logFrame(callId: string, level: string, data: unknown, extra: JsonObject = {}) {
  return { type: 'client:tool-log', call_id: callId, level, data, ...extra };
}

describe('the proxy takes client:tool-log', () => {
  let proxy: ToolProxy;
  let robot: WirePeer;
  let mallory: WirePeer;
  const entries: ToolLogEntry[] = [];
  const onLog = (entry: ToolLogEntry) => entries.push(entry);

  async function setup(options: ToolProxyOptions = {}): Promise<void> {
    const started = await startProxy({ logger, ...options });
    proxy = started.proxy;
    robot = await WirePeer.join(started.room, 'robot');
    mallory = await WirePeer.join(started.room, 'mallory');
    await robot.send(registerFrame('grip'));
    await flush();
  }

  /** A call of `grip` the robot has received; what the robot got so far is forgotten. */
  async function startCall(timeoutMs?: number) {
    const call = proxy.call('grip', {}, { onLog, ...(timeoutMs ? { timeoutMs } : {}) });
    await flush();
    const callId = robot.lastCall().call_id;
    robot.clear();
    return { call, callId };
  }

  function delta(before: ProxyStats, section: keyof ProxyStats) {
    const now = proxy.stats()[section] as Record<string, number>;
    const then = before[section] as Record<string, number>;
    return Object.fromEntries(Object.entries(now).map(([key, n]) => [key, n - (then[key] ?? 0)]));
  }

  beforeEach(() => {
    vi.useFakeTimers();
    entries.length = 0;
    for (const fn of Object.values(logger)) fn.mockClear();
  });

  afterEach(async () => {
    await proxy.close();
    vi.useRealTimers();
  });

  it('from the addressee of a pending call: passed to the caller in order, never answered', async () => {
    await setup();
    const before = proxy.stats();
    const { call, callId } = await startCall();
    for (const level of TOOL_LOG_LEVELS) await robot.send(logFrame(callId, level, level));
    await robot.send(logFrame(callId, 'error', { joint: 3, torque: [1.5] }, { logger: 'arm' }));
    await robot.send(logFrame(callId, 'info', null, { extra: 'ignored' }));
    await flush();
    expect(entries).toEqual([
      ...TOOL_LOG_LEVELS.map((level) => ({ level, data: level, logger: undefined })),
      { level: 'error', data: { joint: 3, torque: [1.5] }, logger: 'arm' },
      { level: 'info', data: null, logger: undefined },
    ]);
    expect(delta(before, 'logs')).toEqual({ accepted: 10, dropped: 0 });
    expect(robot.frames()).toEqual([]);
    await robot.result(callId, 'gripped');
    await expect(call).resolves.toBe('gripped');
  });

  it('from anyone else, for an unknown call or after the call settled: dropped and counted', async () => {
    await setup();
    const before = proxy.stats();
    const { call, callId } = await startCall();
    await mallory.send(logFrame(callId, 'info', 'spoofed'));
    await robot.send(logFrame('tc_000000000000', 'info', 'unknown call'));
    await robot.result(callId, 'done');
    await expect(call).resolves.toBe('done');
    await robot.send(logFrame(callId, 'info', 'late'));
    await flush();
    expect(entries).toEqual([]);
    expect(delta(before, 'logs')).toEqual({ accepted: 0, dropped: 3 });
    expect(delta(before, 'results')).toMatchObject({ accepted: 1, spoofed: 0, late: 0 });
    expect([...robot.frames(), ...mallory.frames()]).toEqual([]);
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each<[string, JsonObject]>([
    ['an unknown level', { level: 'verbose' }],
    ['a level in capitals', { level: 'INFO' }],
    ['no level', { level: undefined }],
    ['no data', { data: undefined }],
    ['a logger that is not a string', { logger: 7 }],
    ['a logger over 256 chars', { logger: 'l'.repeat(257) }],
  ])('%s: dropped as malformed, unanswered, the call going on', async (_what, change) => {
    await setup();
    const before = proxy.stats();
    const { call, callId } = await startCall();
    await robot.send({ ...logFrame(callId, 'info', 'x'), ...change });
    await flush();
    expect(delta(before, 'frames')).toMatchObject({ malformed: 1 });
    expect(delta(before, 'logs')).toEqual({ accepted: 0, dropped: 0 });
    expect(entries).toEqual([]);
    expect(robot.frames()).toEqual([]);
    await robot.result(callId, 'still here');
    await expect(call).resolves.toBe('still here');
  });

  it('does not move the deadline (progress does)', async () => {
    await setup();
    const logged = await startCall(10_000);
    const timedOut = expect(logged.call).rejects.toMatchObject({ code: 'TIMEOUT' });
    const progressed = await startCall(10_000);
    await vi.advanceTimersByTimeAsync(9_000);
    await robot.send(logFrame(logged.callId, 'info', 'still working'));
    await robot.send({ type: 'client:tool-progress', call_id: progressed.callId, progress: 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    await timedOut;
    expect(entries).toHaveLength(1);
    expect(proxy.pendingCalls).toBe(1);
    await robot.result(progressed.callId, 'in time');
    await expect(progressed.call).resolves.toBe('in time');
  });

  it('a throwing onLog cannot break the call', async () => {
    await setup();
    const call = proxy.call(
      'grip',
      {},
      {
        onLog: () => {
          throw new Error('observer bug');
        },
      },
    );
    await flush();
    const callId = robot.lastCall().call_id;
    await robot.send(logFrame(callId, 'info', 'one'));
    await robot.send(logFrame(callId, 'info', 'two'));
    await robot.result(callId, 'fine');
    await expect(call).resolves.toBe('fine');
    expect(proxy.stats().logs).toEqual({ accepted: 2, dropped: 0 });
  });

  it('is charged to the frame budget like any frame; the result still gets through', async () => {
    await setup({ framesPerSecond: 1, frameBurst: 3 }); // the registration takes one
    const before = proxy.stats();
    const { call, callId } = await startCall();
    for (let i = 0; i < 4; i++) await robot.send(logFrame(callId, 'debug', i));
    await robot.result(callId, 'done');
    await expect(call).resolves.toBe('done');
    expect(entries.map((entry) => entry.data)).toEqual([0, 1]);
    expect(delta(before, 'frames')).toMatchObject({ rateLimited: 2 });
    expect(delta(before, 'logs')).toEqual({ accepted: 2, dropped: 0 });
  });
});

describe('ToolContext.log on the provider side', () => {
  let provider: ToolProvider;
  let peer: WirePeer;
  let context: ToolContext | undefined;

  beforeEach(async () => {
    vi.useFakeTimers();
    for (const fn of Object.values(logger)) fn.mockClear();
    const room = new InMemoryRoom();
    peer = await WirePeer.join(room, 'proxy', { isAgent: true });
    const tool = defineTool({
      name: 'slow',
      description: 'runs until aborted',
      input: z.object({}),
      handler: (_args, ctx) => {
        context = ctx;
        return new Promise(() => {});
      },
    });
    provider = new ToolProvider({ tools: [tool], logger });
    await provider.connect(room.join('robot'));
    await peer.call('robot', 'tc_1', 'slow');
    await flush();
    peer.clear();
  });

  afterEach(async () => {
    await provider.close();
    vi.useRealTimers();
  });

  it.each([
    ['cancelled', () => peer.cancel('robot', 'tc_1', 'caller-aborted')],
    ['timed out', () => peer.timeout('robot', 'tc_1')],
  ])('sends client:tool-log for its call, and nothing once %s', async (_how, stop) => {
    context?.log('warning', { temperature: 81 }, 'thermal');
    context?.log('info', 'plain');
    await flush();
    expect(peer.frames()).toEqual([
      logFrame('tc_1', 'warning', { temperature: 81 }, { logger: 'thermal' }),
      logFrame('tc_1', 'info', 'plain'),
    ]);
    await stop();
    await flush();
    peer.clear();
    context?.log('error', 'after the abort');
    await flush();
    expect(peer.frames()).toEqual([]);
  });

  it('a bad level or logger name is not sent, and is logged', async () => {
    context?.log('verbose' as ToolLogLevel, 'x');
    context?.log('info', 'x', 'l'.repeat(257));
    await flush();
    expect(peer.frames()).toEqual([]);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(logger.warn).toHaveBeenCalledWith(expect.anything(), 'log message not sent');
  });
});
