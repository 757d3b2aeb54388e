/**
 * After many calls, nothing is left behind: no pending entry, no timer, no listener on a caller's
 * long-lived signal, and no MaxListenersExceededWarning along the way.
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { isToolProxyError } from '../../../../src/index.js';
import { microtasks, setup } from '../../../support/harness.js';

const N = 10_000;
let warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

beforeEach(() => {
  vi.useFakeTimers();
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  vi.useRealTimers();
});

it(`${N} calls sharing one long-lived session signal leave no entry, timer or listener behind`, async () => {
  const { proxy, robot } = await setup();
  const session = new AbortController(); // lives as long as the agent session
  const calls = Array.from({ length: N }, (_, i) => {
    const own = i % 6 === 3 ? new AbortController() : undefined;
    const signal =
      own === undefined ? session.signal : AbortSignal.any([session.signal, own.signal]);
    const sessionKey = i % 6 === 4 ? 'chat' : 'other';
    const promise = proxy.call('ping', { i }, { signal, sessionKey });
    return {
      promise,
      own,
      outcome: promise.then(
        () => 'result',
        (error: unknown) => (isToolProxyError(error) ? error.code : 'other'),
      ),
    };
  });
  await microtasks();
  expect(proxy.pendingCalls).toBe(N);
  // One listener for every call that shares the signal directly, not one per call.
  expect(getEventListeners(session.signal, 'abort')).toHaveLength(1);

  const frames = robot.frames('agent:tool-call');
  await Promise.all(
    frames.map((frame, i) => {
      if (i % 6 === 0) return robot.result(String(frame.call_id), i);
      if (i % 6 === 1)
        return robot.send({ type: 'client:tool-result', call_id: frame.call_id, error: 'no' });
      return Promise.resolve();
    }),
  );
  await microtasks();
  calls.forEach((call, i) => {
    if (i % 6 === 2) call.promise.cancel();
    call.own?.abort();
  });
  proxy.lifecycle('session:end', {
    session_key: 'chat',
    session_id: undefined,
    platform: undefined,
    reason: undefined,
  });
  await vi.advanceTimersByTimeAsync(30_000);

  const outcomes = await Promise.all(calls.map((call) => call.outcome));
  const count = (...classes: number[]) => calls.filter((_, i) => classes.includes(i % 6)).length;
  const tally: Record<string, number> = {};
  for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1;
  expect(tally).toEqual({
    result: count(0),
    REMOTE_ERROR: count(1),
    CANCELLED: count(2, 3, 4),
    TIMEOUT: count(5),
  });
  expect(proxy.pendingCalls).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  expect(proxy.watchedSignals).toBe(0);
  expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
});
