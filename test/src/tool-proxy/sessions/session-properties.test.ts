/**
 * Property tests of session placement: random interleavings of calls (with or without a named
 * session, over a few channels, carrying correlations), hooks naming correlations (before or after
 * their calls), calls answered, time passing, and stops. After every stop, what it cancelled is
 * checked against what the callers and hooks said, not against a copy of the placement rules:
 * - a call whose caller named session T is cancelled by a stop of S only if S = T (or the event
 *   named no session), and always by a stop of T;
 * - a stop of a known session takes no call placed elsewhere or in no session;
 * - a call carrying a correlation that exactly one hook named for S (within 60 s), and no other
 *   pending call carries, is placed in S: a stop of S cancels it unless its caller named a session;
 * - every call settles once; nothing is left behind.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import {
  toolUseCorrelation,
  type LifecycleOutcome,
  type ProxyEvents,
} from '../../../../src/index.js';
import { microtasks, setup } from '../../../support/harness.js';

const SESSIONS = ['a', 'b', 'c'] as const;
const CHANNELS = ['mcp:1', 'mcp:2'] as const;
const TOOL_USES = ['t1', 't2'] as const;

type Command =
  | { kind: 'call'; named?: number; channel?: number; toolUse?: number }
  | { kind: 'hook'; session: number; toolUse: number }
  | { kind: 'answer'; nth: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'stop'; session?: number; event: 'agent_loop_stopped' | 'session:end' };

const optionalIndex = (max: number) => fc.option(fc.nat(max), { nil: undefined });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        kind: fc.constant('call' as const),
        named: optionalIndex(SESSIONS.length - 1),
        channel: optionalIndex(CHANNELS.length - 1),
        toolUse: optionalIndex(TOOL_USES.length - 1),
      },
      { requiredKeys: ['kind'] },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('hook' as const),
      session: fc.nat(SESSIONS.length - 1),
      toolUse: fc.nat(TOOL_USES.length - 1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('answer' as const), nth: fc.nat(8) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(10, 61_000),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('stop' as const),
        session: optionalIndex(SESSIONS.length - 1),
        event: fc.constantFrom('agent_loop_stopped' as const, 'session:end' as const),
      },
      { requiredKeys: ['kind', 'event'] },
    ),
  },
);

interface CallRecord {
  readonly callId: string;
  readonly named: string | undefined;
  readonly correlation: string | undefined;
  /** The session one unambiguous hook placed it in, if it is the only call carrying that id. */
  hookedTo: string | undefined;
  settled: boolean;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function run(commands: readonly Command[]): Promise<void> {
  const { proxy, robot } = await setup({ defaultTimeoutMs: 600_000, maxTotalTimeoutMs: 600_000 });
  const calls: CallRecord[] = [];
  const byId = new Map<string, CallRecord>();
  const cancelledNow: Array<ProxyEvents['call:settled']> = [];
  /** Hooks not yet used by a call: correlation → sessions named, and when. */
  const hooks = new Map<string, { sessions: Set<string>; at: number }>();
  proxy.hooks.on('call:settled', (event) => {
    const record = byId.get(event.callId);
    expect(record?.settled).toBe(false);
    if (record !== undefined) record.settled = true;
    if (event.outcome === 'cancelled') cancelledNow.push(event);
  });
  let started = 0;
  const pending = () => calls.filter((call) => !call.settled);

  for (const command of commands) {
    switch (command.kind) {
      case 'call': {
        const named = command.named === undefined ? undefined : SESSIONS[command.named];
        const toolUse = command.toolUse === undefined ? undefined : TOOL_USES[command.toolUse];
        const correlation = toolUse === undefined ? undefined : toolUseCorrelation(toolUse);
        const promise = proxy.call(
          'ping',
          {},
          {
            sessionKey: named,
            channel: command.channel === undefined ? undefined : CHANNELS[command.channel],
            correlations: correlation === undefined ? [] : [correlation],
          },
        );
        promise.catch(() => {});
        await microtasks();
        const callId = String(robot.frames('agent:tool-call')[started]?.call_id);
        started++;
        const hook = correlation === undefined ? undefined : hooks.get(correlation);
        const fresh = hook !== undefined && Date.now() - hook.at < 60_000;
        const record: CallRecord = {
          callId,
          named,
          correlation,
          hookedTo: fresh && hook.sessions.size === 1 ? [...hook.sessions][0] : undefined,
          settled: false,
        };
        if (hook !== undefined) hooks.delete(correlation as string); // a hook is used once
        calls.push(record);
        byId.set(callId, record);
        break;
      }
      case 'hook': {
        const session = SESSIONS[command.session] as string;
        const correlation = toolUseCorrelation(TOOL_USES[command.toolUse] as string);
        const carriers = pending().filter((call) => call.correlation === correlation);
        proxy.bindSession({ session, correlation });
        if (carriers.length === 1) {
          const [carrier] = carriers as [CallRecord];
          carrier.hookedTo = session;
        } else if (carriers.length === 0) {
          const earlier = hooks.get(correlation);
          const live = earlier !== undefined && Date.now() - earlier.at < 60_000;
          const sessions = live ? earlier.sessions : new Set<string>();
          sessions.add(session);
          hooks.set(correlation, { sessions, at: Date.now() });
        }
        break;
      }
      case 'answer': {
        const call = pending()[command.nth];
        if (call !== undefined) await robot.result(call.callId, 'done');
        await microtasks();
        break;
      }
      case 'advance':
        await vi.advanceTimersByTimeAsync(command.ms);
        break;
      case 'stop': {
        const session = command.session === undefined ? undefined : SESSIONS[command.session];
        const before = pending();
        cancelledNow.length = 0;
        const outcome = proxy.lifecycle(command.event, { session_key: session });
        checkStop(outcome, session, before, cancelledNow);
        break;
      }
    }
  }
  // Everything settles once; nothing is left behind.
  await vi.advanceTimersByTimeAsync(600_001);
  expect(calls.every((call) => call.settled)).toBe(true);
  expect(proxy.pendingCalls).toBe(0);
  await proxy.close();
}

function checkStop(
  outcome: LifecycleOutcome,
  session: string | undefined,
  before: readonly CallRecord[],
  cancelled: ReadonlyArray<ProxyEvents['call:settled']>,
): void {
  const gone = new Set(cancelled.map((event) => event.callId));
  expect(outcome.cancelled).toBe(gone.size);
  for (const call of before) {
    const wasCancelled = gone.has(call.callId);
    if (session === undefined) {
      expect(wasCancelled).toBe(true);
      continue;
    }
    if (call.named !== undefined) expect(wasCancelled).toBe(call.named === session);
    else if (call.hookedTo === session) expect(wasCancelled).toBe(true);
  }
  if (outcome.rule === 'session') {
    // A known session: only calls placed in it.
    for (const event of cancelled) expect(event.sessionKey).toBe(session);
  }
}

it('a stop cancels exactly the calls its session owns, whatever the order of calls and hooks', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(commandArb, { maxLength: 30 }), (commands) => run(commands)),
    { numRuns: 200 },
  );
}, 120_000);
