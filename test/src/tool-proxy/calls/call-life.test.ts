/**
 * The call's life table (src/tool-proxy/calls/call-life.ts) says what PROTOCOL.md section 5 says,
 * and each row is what a real proxy does: one call driven to each ending, its caller's answer, its
 * count and the provider's notice checked against the row.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRoom } from '../../../../bridge/memory.js';
import { CALL_ENDINGS } from '../../../../src/tool-proxy/calls/call-life.js';
import type { CallOutcome } from '../../../../src/tool-proxy/calls/outcome.js';
import { ToolProxy } from '../../../../src/index.js';
import { microtasks } from '../../../support/harness.js';
import { WirePeer } from '../../../support/wire-peer.js';

const protocol = readFileSync(new URL('../../../../PROTOCOL.md', import.meta.url), 'utf8');

/** The rows of section 5's "Settled outcomes" table: outcome → its cells. */
function settledOutcomeRows(): Map<string, { callerGets: string; providerTold: string }> {
  const section = protocol.slice(
    protocol.indexOf("## 5. A call's life"),
    protocol.indexOf('## 6.'),
  );
  const rows = new Map<string, { callerGets: string; providerTold: string }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const outcome = /^`([a-z-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (outcome === undefined || cells.length < 6) continue;
    rows.set(outcome, { callerGets: cells[3] ?? '', providerTold: cells[4] ?? '' });
  }
  return rows;
}

const codesIn = (text: string) => [
  ...new Set([...text.matchAll(/`([A-Z][A-Z_]{2,})`/g)].map((m) => m[1])),
];
const noticesIn = (text: string) => [
  ...new Set([...text.matchAll(/`(agent:tool-call-[a-z]+)`/g)].map((m) => m[1])),
];

describe('the life table and PROTOCOL.md section 5', () => {
  const rows = settledOutcomeRows();

  it('name the same outcomes', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(CALL_ENDINGS).sort());
  });

  it.each(Object.entries(CALL_ENDINGS))('%s: the same caller answer and notice', (outcome, row) => {
    const documented = rows.get(outcome);
    expect(documented).toBeDefined();
    const { callerGets, providerTold } = documented ?? { callerGets: '', providerTold: '' };
    expect(codesIn(callerGets).sort()).toEqual(
      row.caller === 'resolves' ? [] : [...row.caller].sort(),
    );
    const notices = {
      none: [],
      timeout: ['agent:tool-call-timeout'],
      cancelled: ['agent:tool-call-cancelled'],
      'cancelled-if-unresponsive': ['agent:tool-call-cancelled'],
    }[row.notice];
    expect(noticesIn(providerTold)).toEqual(notices);
    if (row.notice === 'cancelled-if-unresponsive')
      expect(providerTold).toContain('provider-unresponsive');
  });
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A proxy and a robot offering `ping`, on a room whose frames carry at most 2,000 bytes. */
async function world() {
  const room = new InMemoryRoom({ maxFrameBytes: 2_000 });
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  const robot = await WirePeer.join(room, 'robot');
  await robot.register('ping');
  await microtasks();
  return { proxy, robot };
}

type World = Awaited<ReturnType<typeof world>>;

/** How to end a pending call (the robot has its frame) each way; `send-failed` ends at start. */
const END: Record<CallOutcome, (world: World, callId: string) => Promise<void> | void> = {
  result: ({ robot }, id) => robot.result(id, 'pong'),
  'remote-error': ({ robot }, id) =>
    robot.send({ type: 'client:tool-result', call_id: id, error: 'jammed' }),
  'invalid-result': ({ robot }, id) =>
    robot.send({ type: 'client:tool-result', call_id: id, error: 42 }),
  timeout: async () => {
    await vi.advanceTimersByTimeAsync(30_000);
  },
  cancelled: ({ proxy }) => {
    proxy.cancelSession(undefined, 'agent-loop-stopped');
  },
  'tool-unregistered': ({ robot }) => robot.send({ type: 'client:tool-unregister', name: 'ping' }),
  'provider-gone': ({ robot }) => robot.channel.close(),
  'send-failed': () => {},
};

describe('each row is what a proxy does', () => {
  it.each(Object.entries(CALL_ENDINGS))('%s', async (name, row) => {
    const outcome = name as CallOutcome;
    const w = await world();
    const args = outcome === 'send-failed' ? { text: 'x'.repeat(3_000) } : {};
    const call = w.proxy.call('ping', args);
    const answer = call.then(
      (value: unknown) => ({ resolved: value }),
      (error: unknown) => ({ code: (error as { code: string }).code }),
    );
    await microtasks();
    if (outcome !== 'send-failed') await END[outcome](w, w.robot.callId());
    await microtasks();
    const got = await answer;
    if (row.caller === 'resolves') expect(got).toEqual({ resolved: 'pong' });
    else expect(row.caller).toContain((got as { code: string }).code);
    expect(w.proxy.stats().calls.settled).toMatchObject({ [outcome]: 1 });
    const told = w.robot
      .frames()
      .map((frame) => frame.type)
      .filter((type) => type === 'agent:tool-call-timeout' || type === 'agent:tool-call-cancelled');
    const expected = {
      none: [],
      timeout: ['agent:tool-call-timeout'],
      cancelled: ['agent:tool-call-cancelled'],
      // The robot left: a provider no longer present is told nothing.
      'cancelled-if-unresponsive': [],
    }[row.notice];
    expect(told).toEqual(expected);
    expect(w.proxy.pendingCalls).toBe(0);
  });
});
