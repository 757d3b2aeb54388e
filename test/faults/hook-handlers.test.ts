/**
 * Hook handlers that misbehave: throw, reject, never settle, hand back a thenable whose `then`
 * throws, or run with a logger that throws. Whatever they do, a stop cancels every pending call at
 * once, the other handlers still run, and nothing they leave behind is kept.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { InMemoryRoom } from '../../bridge/memory.js';
import { HookBus, ToolProxy } from '../../src/index.js';
import { microtasks, observe, setup } from '../support/harness.js';
import { MiB, settledHeap, stillAlive } from '../support/heap.js';
import { holdingProvider } from '../support/hold-provider.js';
import { measured } from '../support/measured.js';
import { flush, spyLogger } from '../support/util.js';

const CALLS = 50;
const stop = { session_key: 's', reason: 'Stop requested' };

afterEach(() => {
  vi.useRealTimers();
});

/** Handlers that go wrong in every way a handler can, each followed by one that counts. */
function misbehave(bus: ToolProxy['hooks']): { ran: string[] } {
  const ran: string[] = [];
  const bad: Array<[string, () => unknown]> = [
    [
      'throws',
      () => {
        throw new Error('plugin bug');
      },
    ],
    ['throws a non-error', () => Promise.reject('not even an Error')],
    ['never settles', () => new Promise(() => {})],
    [
      'thenable whose then throws',
      () => ({
        then() {
          throw new Error('bad thenable');
        },
      }),
    ],
  ];
  for (const [name, handler] of bad) {
    bus.on('agent_loop_stopped', handler);
    bus.on('agent_loop_stopped', () => ran.push(`after "${name}"`));
  }
  return { ran };
}

it('a stop cancels every call at once, inside emit, past handlers that throw, reject, hang or hand back a broken thenable', async (context) => {
  vi.useFakeTimers();
  const logger = spyLogger();
  const { proxy, robot } = await setup({ logger });
  const { ran } = misbehave(proxy.hooks);
  const calls = Array.from({ length: CALLS }, () =>
    observe(proxy.call('ping', {}, { sessionKey: 's' })),
  );
  await microtasks();
  proxy.lifecycle('agent_loop_stopped', stop);
  expect(proxy.pendingCalls).toBe(0);
  expect(ran).toHaveLength(4);
  await flush();
  for (const call of calls) await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(CALLS);
  // The throw, the rejection and the broken thenable are logged; the hanging promise is not.
  const failures = logger.warn.mock.calls.filter(
    ([, message]) => message === 'hook handler failed',
  );
  expect(failures).toHaveLength(3);
  expect(vi.getTimerCount()).toBe(0);
  await measured(
    context,
    `${CALLS} calls cancelled inside emit (0 ms); ${CALLS} notices; 4 later handlers ran; 3 failures logged`,
  );
});

it('a call:settled observer that throws on every call does not stop a stop from cancelling and notifying them all', async (context) => {
  vi.useFakeTimers();
  const logger = spyLogger();
  const { proxy, robot } = await setup({ logger });
  let seen = 0;
  proxy.hooks.on('call:settled', () => {
    seen++;
    throw new Error('observer bug');
  });
  const calls = Array.from({ length: CALLS }, () => observe(proxy.call('ping')));
  await microtasks();
  proxy.lifecycle('agent_loop_stopped', {});
  expect(proxy.pendingCalls).toBe(0);
  expect(seen).toBe(CALLS);
  await flush();
  for (const call of calls) expect(call.state()).toBe('rejected');
  expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(CALLS);
  expect(proxy.stats().notices).toEqual({ sent: CALLS, failed: 0 });
  await measured(context, `${CALLS} cancelled, ${CALLS} notices, ${CALLS} observer throws logged`);
});

it('with a logger that throws too, emit still never throws, later handlers run, and no rejection goes unhandled', async (context) => {
  vi.useFakeTimers();
  const logger = spyLogger();
  logger.warn.mockImplementation(() => {
    throw new Error('log transport down');
  });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const { proxy, robot } = await setup({ logger });
    const { ran } = misbehave(proxy.hooks);
    const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
    await microtasks();
    expect(() => proxy.lifecycle('agent_loop_stopped', stop)).not.toThrow();
    expect(proxy.pendingCalls).toBe(0);
    expect(ran).toHaveLength(4);
    await flush();
    expect(call.state()).toBe('rejected');
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
    // Unhandled rejections are reported on a later turn.
    vi.useRealTimers();
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  await measured(context, 'emit did not throw; 4 later handlers ran; 0 unhandled rejections');
});

it('promises that never settle, returned by a handler on every emit, are not kept', async (context) => {
  const bus = new HookBus<{ tick: { n: number } }>();
  const EMITS = 20_000;
  const refs: Array<WeakRef<object>> = [];
  bus.on('tick', ({ n }) => {
    // Each holds 1 KiB, so keeping them would show in the heap as well.
    const held = Object.assign(new Promise(() => {}), { payload: new Uint8Array(1_024) });
    if (n % 100 === 0) refs.push(new WeakRef(held));
    return held;
  });
  const before = await settledHeap();
  for (let n = 0; n < EMITS; n++) bus.emit('tick', { n });
  const alive = await stillAlive(refs);
  const grown = (await settledHeap()) - before;
  expect(alive).toBe(0);
  expect(grown).toBeLessThan(4 * MiB); // 20,000 kept promises would hold over 20 MiB
  await measured(
    context,
    `${EMITS} never-settling promises: ${alive}/${refs.length} sampled still alive; heap ${(grown / MiB).toFixed(2)} MiB over baseline`,
  );
});

it('on the provider side, call:aborted handlers that throw or hang do not keep a cancelled handler from stopping', async (context) => {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  const { provider, aborts } = holdingProvider();
  provider.events.on('call:aborted', () => {
    throw new Error('provider plugin bug');
  });
  provider.events.on('call:aborted', () => new Promise(() => {}));
  await provider.connect(room.join('arm'));
  await proxy.waitForTool('hold');
  const call = observe(proxy.call('hold', {}, { sessionKey: 's' }));
  await flush();
  proxy.lifecycle('agent_loop_stopped', stop);
  await flush();
  await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  expect(aborts).toHaveLength(1);
  expect(provider.runningCalls).toBe(0);
  expect(proxy.stats().results).toMatchObject({ accepted: 0, late: 0 });
  await measured(context, 'handler aborted; no result sent after the cancel');
  await proxy.close();
});
