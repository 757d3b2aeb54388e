/**
 * Property-based tests of a call's life: random interleavings of registrations, calls, results,
 * progress, cancellations, deadlines, providers leaving and the proxy's connection dropping or
 * resuming, over the in-memory bridge with providers played by WirePeers. Each run is a list of
 * commands (shrinkable: a failure shrinks to a short list), checked against a model after every
 * command and once everything has settled.
 */
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import type PCancelable from 'p-cancelable';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type InMemoryChannel, InMemoryRoom } from '../../../../bridge/memory.js';
import {
  type CallOutcome,
  type CancelReason,
  ErrorCode,
  isToolProxyError,
  type ProxyEvents,
  ToolProxy,
  type ToolProxyError,
} from '../../../../src/index.js';
import { microtasks } from '../../../support/harness.js';
import { type JsonObject, WirePeer } from '../../../support/wire-peer.js';

const PROVIDERS = ['p0', 'p1', 'p2'] as const;
const TOOLS = ['t0', 't1'] as const;
const SESSIONS = ['s0', 's1'] as const;
const LIMITS = { defaultTimeoutMs: 1_000, maxToolTimeoutMs: 3_000, maxTotalTimeoutMs: 6_000 };
/** More than any deadline can be: every call still pending has timed out after this. */
const SETTLE_ALL_MS = LIMITS.maxTotalTimeoutMs + 1;
const NUM_RUNS = 250;
const DEADLINE_RUNS = 150;
/** Over the in-memory room's 1 MiB frame limit. */
const HUGE = 'x'.repeat(1_100_000);

// ---- commands ------------------------------------------------------------------------------------

/** `huge` arguments make a frame the room refuses: the call ends as `send-failed`. */
type ArgsKind = 'ok' | 'bad' | 'huge';
type SignalKind = 'none' | 'own' | 'session' | 'both' | 'aborted';
type ResultForm = 'value' | 'error' | 'error-object' | 'null-error' | 'malformed';
type StopEvent = 'agent_loop_stopped' | 'session:end' | 'session:reset';

type Command =
  | { kind: 'register'; provider: number; tool: number; variant: number }
  | { kind: 'batch'; provider: number; tools: number[]; replace: boolean; variant: number }
  | { kind: 'unregister'; provider: number; tool: number }
  | {
      kind: 'call';
      provider: number;
      tool: number;
      session: number;
      signal: SignalKind;
      timeoutMs: number | undefined;
      args: ArgsKind;
    }
  | { kind: 'result'; call: number; form: ResultForm; spoofed: boolean }
  | { kind: 'progress'; call: number; step: number; spoofed: boolean }
  | { kind: 'abort'; call: number; via: 'signal' | 'cancel' }
  | { kind: 'abort-session'; session: number }
  | { kind: 'stop'; event: StopEvent; session: number; direct: boolean }
  | { kind: 'advance'; ms: number }
  | { kind: 'flush'; rounds: number }
  | { kind: 'leave'; provider: number }
  | { kind: 'join'; provider: number }
  | { kind: 'drop' }
  | { kind: 'reconnect' }
  | { kind: 'resume' };

const provider = fc.nat({ max: PROVIDERS.length - 1 });
const tool = fc.nat({ max: TOOLS.length - 1 });
const callRef = fc.nat({ max: 40 });
/** -1 is "no session key". */
const session = fc.integer({ min: -1, max: SESSIONS.length - 1 });

/** `weight` copies of `value` and one of each of `rare`: a skewed constantFrom that shrinks to `value`. */
function mostly<T>(value: T, weight: number, ...rare: T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...Array.from({ length: weight }, () => value), ...rare);
}

const callArb = fc.record({
  kind: fc.constant('call'),
  provider,
  tool,
  session,
  signal: fc.constantFrom<SignalKind>('none', 'none', 'own', 'session', 'both', 'both', 'aborted'),
  // Short ones, ones near the hard maximum (where progress meets the cap), and too long ones.
  timeoutMs: fc.option(
    fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 3_000, max: 9_000 })),
    { nil: undefined },
  ),
  args: mostly<ArgsKind>('ok', 8, 'bad', 'huge'),
});

const resultArb = fc.record({
  kind: fc.constant('result'),
  call: callRef,
  form: fc.constantFrom<ResultForm>('value', 'error', 'error-object', 'null-error', 'malformed'),
  spoofed: fc.boolean(),
});

const progressArb = fc.record({
  kind: fc.constant('progress'),
  call: callRef,
  // From the last value sent for the call: mostly increasing, sometimes stale.
  step: fc.integer({ min: -1, max: 3 }),
  spoofed: fc.boolean(),
});

const advanceArb = fc.record({
  kind: fc.constant('advance'),
  ms: fc.oneof({ weight: 4, arbitrary: fc.nat(1_200) }, fc.nat(7_000)),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('register'),
      provider,
      tool,
      variant: fc.nat({ max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('batch'),
      provider,
      tools: fc.uniqueArray(tool, { maxLength: TOOLS.length }),
      replace: fc.boolean(),
      variant: fc.nat({ max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unregister'), provider, tool }) },
  { weight: 6, arbitrary: callArb },
  { weight: 5, arbitrary: resultArb },
  { weight: 4, arbitrary: progressArb },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('abort'),
      call: callRef,
      via: fc.constantFrom<'signal' | 'cancel'>('signal', 'cancel'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort-session'), session: fc.nat(1) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('stop'),
      event: fc.constantFrom<StopEvent>('agent_loop_stopped', 'session:end', 'session:reset'),
      session,
      // proxy.cancelSession rather than the hook event (same effect, and it returns the count)
      direct: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: advanceArb },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush'), rounds: fc.nat({ max: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave'), provider }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('join'), provider }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume') }) },
);

/** Deadlines only: calls kept alive by progress, time passing, the odd answer. */
const deadlineCommandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 2, arbitrary: callArb },
  { weight: 6, arbitrary: progressArb.map((c) => ({ ...c, spoofed: false })) },
  { weight: 5, arbitrary: advanceArb },
  { weight: 1, arbitrary: resultArb },
);

// ---- the world and its model ---------------------------------------------------------------------

type Settled = ProxyEvents['call:settled'];

interface CallRecord {
  /** Set once proxy.call returns (`call:started` fires before that). */
  promise?: PCancelable<unknown>;
  readonly signal: AbortSignal | undefined;
  /** The call's own controller (signal `own`, or `both` with a session's). */
  readonly own: AbortController | undefined;
  /** The session controller whose signal the call follows (signal `session` or `both`). */
  readonly shared: AbortController | undefined;
  readonly sessionKey: string | undefined;
  /** Set by `call:started` (calls refused before sending have none). */
  callId?: string;
  provider?: string;
  /** The exposed name the call was made with. */
  tool?: string;
  /** The deadline the options say this call gets. */
  expectedTimeoutMs?: number;
  /** The addressee sent an answer (any result frame) while the call was pending. */
  answered: boolean;
  /** The provider's WirePeer when the call was made. */
  addressee?: WirePeer;
  timeoutMs?: number;
  startedAt?: number;
  lastProgressAt?: number;
  lastProgressSent: number;
  settled: Array<Settled & { at: number; providerPresent: boolean }>;
  outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
  progressCallbacks: number;
  progressAfterSettled: number;
  /** Values the addressee sent as results for this call. */
  sentValues: unknown[];
}

interface Notice {
  readonly to: string;
  readonly type: string;
  readonly reason: unknown;
}

const REASON_OF: Record<StopEvent, CancelReason> = {
  agent_loop_stopped: 'agent-loop-stopped',
  'session:end': 'session-ended',
  'session:reset': 'session-reset',
};

const CODE_OF: Record<CallOutcome, string> = {
  result: 'result',
  'remote-error': ErrorCode.RemoteError,
  'invalid-result': ErrorCode.InvalidResult,
  timeout: ErrorCode.Timeout,
  cancelled: ErrorCode.Cancelled,
  'provider-gone': ErrorCode.ProviderGone,
  'tool-unregistered': ErrorCode.ToolUnregistered,
  // The only send failure these worlds make is `huge` arguments, over the room's frame maximum.
  'send-failed': ErrorCode.ArgumentsUnsendable,
};

function schemaFor(variant: number): JsonObject {
  return {
    type: 'object',
    properties: { x: { type: 'number' } },
    required: ['x'],
    ...(variant === 2 ? { additionalProperties: false } : {}),
  };
}

function registration(name: string, variant: number): JsonObject {
  const metadata =
    variant === 1
      ? { max_execution_time_ms: 2_500 }
      : variant === 3
        ? { max_execution_time_ms: 10_000 }
        : undefined;
  return {
    name,
    description: `${name} v${variant}`,
    input_schema: schemaFor(variant),
    ...(metadata === undefined ? {} : { metadata }),
  };
}

class World {
  readonly room = new InMemoryRoom();
  readonly proxy = new ToolProxy(LIMITS);
  readonly peers = new Map<string, WirePeer>();
  readonly calls: CallRecord[] = [];
  readonly byId = new Map<string, CallRecord>();
  readonly notices = new Map<string, Notice[]>();
  readonly callFrames = new Map<string, string[]>();
  readonly allSignals = new Set<AbortSignal>();
  readonly sessions: AbortController[] = SESSIONS.map(() => new AbortController());
  /** Session keys a call was placed in (until that session ends or resets): see SessionRouter. */
  readonly known = new Set<string>();
  agent: InMemoryChannel | undefined;
  /** A resume was asked for: the proxy must have cancelled every pending call before its hello. */
  resumed = false;
  /**
   * What event handlers and the room's tap saw go wrong. Recorded, not thrown: a throw there would
   * land in the hook bus or the proxy's send, not in the test.
   */
  readonly violations: string[] = [];
  #starting: CallRecord | undefined;

  async start(): Promise<void> {
    for (const controller of this.sessions) this.allSignals.add(controller.signal);
    this.room.tap((from, to, text) => this.#tapped(from, to, text));
    this.proxy.hooks.on('call:started', (event) => {
      const record = this.#starting;
      if (record === undefined) {
        this.violations.push(`call:started outside proxy.call: ${event.callId}`);
        return;
      }
      record.callId = event.callId;
      record.provider = event.provider;
      record.tool = event.tool;
      record.addressee = this.peers.get(event.provider);
      record.timeoutMs = event.timeoutMs;
      record.startedAt = Date.now();
      if (record.sessionKey !== undefined) this.known.add(record.sessionKey);
      this.byId.set(event.callId, record);
    });
    this.proxy.hooks.on('call:progress', (event) => {
      const record = this.byId.get(event.callId);
      if (record !== undefined) record.lastProgressAt = Date.now();
    });
    this.proxy.hooks.on('call:settled', (event) => {
      const record = this.byId.get(event.callId);
      if (record === undefined) {
        this.violations.push(`call:settled for unknown ${event.callId}`);
        return;
      }
      const providerPresent = this.room.present().some((m) => m.identity === event.provider);
      record.settled.push({ ...event, at: Date.now(), providerPresent });
    });
    // A tool goes only after its pending calls have ended (all of the provider's, if it left).
    this.proxy.hooks.on('tool:unregistered', ({ tool, cause }) => {
      for (const r of this.pending()) {
        if (r.provider === tool.provider && (cause === 'provider-left' || r.tool === tool.name))
          this.violations.push(`${String(r.callId)} pending after ${tool.name} went (${cause})`);
      }
    });
    await this.connect();
    for (const identity of PROVIDERS) {
      await this.join(identity);
      await this.registerAll(identity);
    }
    await microtasks();
  }

  /** What a provider does when it (re)joins or is greeted: registers both its tools. */
  async registerAll(identity: string): Promise<void> {
    const tools = TOOLS.map((name) => registration(name, 0));
    // Refused by the room while the proxy is away; the provider registers again when it is back.
    await this.peer(identity)
      ?.send({ type: 'client:tool-register-batch', tools })
      .catch(() => {});
  }

  async connect(): Promise<void> {
    this.agent = this.room.join('agent', { isAgent: true });
    await this.proxy.start(this.agent);
  }

  async join(identity: string): Promise<void> {
    this.peers.set(identity, await WirePeer.join(this.room, identity));
  }

  peer(identity: string): WirePeer | undefined {
    const peer = this.peers.get(identity);
    return peer?.channel.started ? peer : undefined;
  }

  /** Records still pending by the model: started, no `call:settled` yet. */
  pending(): CallRecord[] {
    return this.calls.filter((r) => r.callId !== undefined && r.settled.length === 0);
  }

  deadline(record: CallRecord): number {
    const start = record.startedAt ?? 0;
    const timeout = record.timeoutMs ?? 0;
    const hard = start + Math.max(timeout, LIMITS.maxTotalTimeoutMs);
    return record.lastProgressAt === undefined
      ? start + timeout
      : Math.min(record.lastProgressAt + timeout, hard);
  }

  call(command: Extract<Command, { kind: 'call' }>): void {
    const owner = PROVIDERS[command.provider] ?? 'p0';
    const name = TOOLS[command.tool] ?? 't0';
    // The name agents see for this provider's tool; the plain name when it has none (then the
    // call goes to whoever exposes that name, or is refused).
    const exposed =
      this.proxy.tools().find((t) => t.provider === owner && t.providerName === name)?.name ?? name;
    const sessionKey = SESSIONS[command.session];
    const shared = this.sessions[Math.max(command.session, 0)] ?? new AbortController();
    const own =
      command.signal === 'own' || command.signal === 'both' ? new AbortController() : undefined;
    let signal: AbortSignal | undefined;
    if (command.signal === 'own') signal = own?.signal;
    else if (command.signal === 'session') signal = shared.signal;
    else if (command.signal === 'both' && own !== undefined)
      signal = AbortSignal.any([shared.signal, own.signal]);
    else if (command.signal === 'aborted') signal = AbortSignal.abort('already');
    if (signal !== undefined) this.allSignals.add(signal);
    const record: CallRecord = {
      signal,
      own,
      shared: command.signal === 'session' || command.signal === 'both' ? shared : undefined,
      sessionKey,
      settled: [],
      outcomes: [],
      progressCallbacks: 0,
      progressAfterSettled: 0,
      lastProgressSent: 0,
      sentValues: [],
      answered: false,
    };
    const onProgress = () => {
      record.progressCallbacks++;
      if (record.settled.length > 0) record.progressAfterSettled++;
    };
    const x = this.calls.length;
    const args =
      command.args === 'bad'
        ? { x: 'not a number' }
        : command.args === 'huge'
          ? { x, pad: HUGE }
          : { x };
    const registered = this.proxy.getTool(exposed);
    if (registered !== undefined) {
      // The tool's own deadline (2,500, or 10,000 clamped to the per-tool maximum), else the default.
      expect([LIMITS.defaultTimeoutMs, 2_500, LIMITS.maxToolTimeoutMs]).toContain(
        registered.timeoutMs,
      );
      record.expectedTimeoutMs =
        command.timeoutMs === undefined
          ? registered.timeoutMs
          : Math.min(command.timeoutMs, LIMITS.maxTotalTimeoutMs);
    }
    this.#starting = record;
    try {
      record.promise = this.proxy.call(exposed, args, {
        sessionKey,
        signal,
        timeoutMs: command.timeoutMs,
        onProgress,
      });
    } finally {
      this.#starting = undefined;
    }
    record.promise.then(
      (value) => record.outcomes.push({ ok: true, value }),
      (error: unknown) => record.outcomes.push({ ok: false, error }),
    );
    this.calls.push(record);
  }

  #tapped(from: string, to: string, text: string): void {
    if (from !== 'agent') return;
    const frame = JSON.parse(text) as JsonObject;
    // After a resume, the proxy cancels every pending call before greeting providers.
    if (frame.type === 'agent:hello' && this.resumed) {
      for (const r of this.pending()) this.violations.push(`${r.callId} pending at a hello`);
    }
    const callId = typeof frame.call_id === 'string' ? frame.call_id : undefined;
    if (callId === undefined) return;
    if (frame.type === 'agent:tool-call') {
      this.callFrames.set(callId, [...(this.callFrames.get(callId) ?? []), to]);
    } else if (
      frame.type === 'agent:tool-call-cancelled' ||
      frame.type === 'agent:tool-call-timeout'
    ) {
      const list = this.notices.get(callId) ?? [];
      list.push({ to, type: frame.type, reason: frame.reason });
      this.notices.set(callId, list);
    }
  }
}

// ---- running one command, with the checks that hold right after it -------------------------------

function forget(promise: Promise<unknown>): void {
  promise.catch(() => {});
}

/**
 * The call a result or progress names: mostly a pending one, sometimes any call that was sent (so
 * late and duplicate frames happen too).
 */
function pick(world: World, index: number): CallRecord | undefined {
  const pending = world.pending();
  const started = world.calls.filter((r) => r.callId !== undefined);
  const pool = index % 4 !== 0 && pending.length > 0 ? pending : started;
  return pool.length === 0 ? undefined : pool[index % pool.length];
}

/** The addressee, or for a spoofed frame some other provider that is present. */
function sender(world: World, addressee: string, spoofed: boolean): WirePeer | undefined {
  const identity = spoofed
    ? PROVIDERS.find((p) => p !== addressee && world.peer(p) !== undefined)
    : addressee;
  return identity === undefined ? undefined : world.peer(identity);
}

/** Runs `action`, then checks that exactly `expected` calls settled, each as `cancelled` with `reason`. */
function expectCancels(
  world: World,
  expected: readonly CallRecord[],
  reason: CancelReason,
  action: () => void,
): void {
  const before = new Map(world.calls.map((r) => [r, r.settled.length]));
  action();
  for (const record of world.calls) {
    const added = record.settled.slice(before.get(record) ?? 0);
    if (expected.includes(record)) {
      expect(added.map((s) => [s.outcome, s.reason])).toEqual([['cancelled', reason]]);
    } else {
      expect(added).toEqual([]);
    }
  }
}

/**
 * Runs one command. Most are synchronous, so consecutive commands share a tick and can race the
 * room's deliveries (a call right after its provider left, a cancel before a result arrives);
 * the ones that return a promise (flush, advance, join, reconnect) let the room deliver.
 */
function run(world: World, command: Command): Promise<void> | undefined {
  const { proxy } = world;
  switch (command.kind) {
    case 'register': {
      const name = TOOLS[command.tool] ?? 't0';
      const peer = world.peer(PROVIDERS[command.provider] ?? 'p0');
      if (peer !== undefined)
        forget(peer.send({ type: 'client:tool-register', ...registration(name, command.variant) }));
      return;
    }
    case 'batch': {
      const peer = world.peer(PROVIDERS[command.provider] ?? 'p0');
      const tools = command.tools.map((t) => registration(TOOLS[t] ?? 't0', command.variant));
      if (peer !== undefined)
        forget(peer.send({ type: 'client:tool-register-batch', replace: command.replace, tools }));
      return;
    }
    case 'unregister': {
      const peer = world.peer(PROVIDERS[command.provider] ?? 'p0');
      const name = TOOLS[command.tool] ?? 't0';
      if (peer !== undefined) forget(peer.send({ type: 'client:tool-unregister', name }));
      return;
    }
    case 'call':
      world.call(command);
      return;
    case 'result': {
      const record = pick(world, command.call);
      if (record?.callId === undefined || record.provider === undefined) return;
      const peer = sender(world, record.provider, command.spoofed);
      if (peer === undefined) return;
      const value = { answer: world.calls.indexOf(record), form: command.form };
      const body: Record<ResultForm, JsonObject> = {
        value: { result: value },
        error: { error: 'it broke' },
        'error-object': { error: { message: 'joint limit', code: 'E_LIMIT', data: { j: 3 } } },
        'null-error': { result: value, error: null },
        malformed: { error: 42 },
      };
      if (!command.spoofed && world.pending().includes(record)) record.answered = true;
      if (!command.spoofed && (command.form === 'value' || command.form === 'null-error'))
        record.sentValues.push(value);
      forget(
        peer.send({ type: 'client:tool-result', call_id: record.callId, ...body[command.form] }),
      );
      return;
    }
    case 'progress': {
      const record = pick(world, command.call);
      if (record?.callId === undefined || record.provider === undefined) return;
      const peer = sender(world, record.provider, command.spoofed);
      if (peer === undefined) return;
      const progress = record.lastProgressSent + command.step;
      if (!command.spoofed) record.lastProgressSent = progress;
      const frame = { type: 'client:tool-progress', call_id: record.callId, progress };
      forget(peer.send({ ...frame, total: 100, message: `at ${progress}` }));
      return;
    }
    case 'abort': {
      const record =
        world.calls.length === 0 ? undefined : world.calls[command.call % world.calls.length];
      if (record === undefined) return;
      const pending = world.pending().includes(record) ? [record] : [];
      if (command.via === 'cancel') {
        expectCancels(world, pending, 'caller-aborted', () => record.promise?.cancel());
      } else if (record.own !== undefined) {
        const own = record.own;
        expectCancels(world, pending, 'caller-aborted', () => own.abort(new Error('user left')));
      }
      return;
    }
    case 'abort-session': {
      const controller = world.sessions[command.session];
      if (controller === undefined) return;
      // Every pending call following the session's signal, directly or through `any`, ends.
      const affected = world.pending().filter((r) => r.shared === controller);
      expectCancels(world, affected, 'caller-aborted', () => controller.abort());
      const fresh = new AbortController();
      world.sessions[command.session] = fresh;
      world.allSignals.add(fresh.signal);
      return;
    }
    case 'stop': {
      // A stop of a known session takes its calls; of an unknown one, the unbound calls too.
      const key = SESSIONS[command.session];
      const withUnbound = key === undefined || !world.known.has(key);
      const affected = world
        .pending()
        .filter(
          (r) =>
            key === undefined ||
            r.sessionKey === key ||
            (withUnbound && r.sessionKey === undefined),
        );
      const payload = { session_key: key, reason: 'property test' };
      const reason = REASON_OF[command.event];
      expectCancels(world, affected, reason, () => {
        if (command.direct) expect(proxy.cancelSession(key, reason)).toBe(affected.length);
        else proxy.lifecycle(command.event, payload);
      });
      if (!command.direct && key !== undefined && command.event !== 'agent_loop_stopped')
        world.known.delete(key);
      return;
    }
    case 'advance':
      return vi.advanceTimersByTimeAsync(command.ms).then(() => {
        // Everything delivered by now: no call waits on a provider that has left.
        for (const record of world.pending()) expect(record.addressee?.channel.started).toBe(true);
      });
    case 'flush':
      return microtasks(command.rounds);
    case 'leave': {
      const peer = world.peer(PROVIDERS[command.provider] ?? 'p0');
      // Not awaited: until the proxy hears of it, calls and notices still go to the leaver.
      if (peer !== undefined) forget(peer.channel.close());
      return;
    }
    case 'join': {
      const identity = PROVIDERS[command.provider] ?? 'p0';
      if (world.peer(identity) !== undefined) return;
      return world.join(identity).then(() => world.registerAll(identity));
    }
    case 'drop': {
      const agent = world.agent;
      if (agent?.started !== true) return;
      const affected = world.pending();
      const before = new Map(world.calls.map((r) => [r, r.settled.length]));
      agent.drop();
      // The connection is gone: every pending call fails at once, every tool goes with it.
      for (const record of world.calls) {
        const added = record.settled.slice(before.get(record) ?? 0).map((s) => s.outcome);
        expect(added).toEqual(affected.includes(record) ? ['provider-gone'] : []);
      }
      expect(proxy.tools()).toEqual([]);
      return;
    }
    case 'reconnect':
      if (world.agent?.started === true) return;
      return world.connect().then(async () => {
        for (const identity of PROVIDERS) await world.registerAll(identity);
      });
    case 'resume':
      if (world.agent?.started !== true) return;
      world.resumed = true;
      world.agent.resume();
      return;
  }
}

/** Checks that hold between any two commands. */
function checkBetween(world: World): void {
  expect(world.violations).toEqual([]);
  const pending = world.pending();
  expect(world.proxy.pendingCalls).toBe(pending.length);
  // One timer per pending call, nothing else.
  expect(vi.getTimerCount()).toBe(pending.length);
  // One listener per signal that pending calls follow, none on the rest.
  const followed = new Set(pending.flatMap((r) => (r.signal === undefined ? [] : [r.signal])));
  expect(world.proxy.watchedSignals).toBe(followed.size);
  for (const signal of world.allSignals) {
    expect(getEventListeners(signal, 'abort')).toHaveLength(followed.has(signal) ? 1 : 0);
  }
  for (const record of world.calls) {
    expect(record.settled.length).toBeLessThanOrEqual(1);
    expect(record.outcomes.length).toBeLessThanOrEqual(1);
    expect(record.progressAfterSettled).toBe(0);
  }
  // Nothing is still pending past its deadline.
  const now = Date.now();
  for (const record of pending) expect(world.deadline(record)).toBeGreaterThan(now);
}

/** Checks that hold once every call has settled. */
function checkSettled(world: World): void {
  checkBetween(world);
  const { proxy } = world;
  expect(proxy.pendingCalls).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
  expect(proxy.watchedSignals).toBe(0);
  for (const signal of world.allSignals) expect(getEventListeners(signal, 'abort')).toEqual([]);

  let started = 0;
  let noticesExpected = 0;
  for (const record of world.calls) {
    // Every call settles exactly once, as a promise...
    expect(record.outcomes).toHaveLength(1);
    const [outcome] = record.outcomes;
    if (record.callId === undefined) {
      // ...refused before anything was sent: a ToolProxyError, no event, no frame.
      expect(outcome?.ok).toBe(false);
      const error = outcome?.ok === false ? outcome.error : undefined;
      expect(isToolProxyError(error)).toBe(true);
      continue;
    }
    started++;
    // ...and as exactly one `call:settled`, which says how the promise ended.
    expect(record.settled).toHaveLength(1);
    const settled = record.settled[0] as CallRecord['settled'][number];
    if (settled.outcome === 'result') {
      expect(outcome?.ok).toBe(true);
      // The value came from the addressee, for this call.
      expect(record.sentValues).toContainEqual(outcome?.ok === true ? outcome.value : undefined);
    } else {
      expect(outcome?.ok).toBe(false);
      const error = outcome?.ok === false ? outcome.error : undefined;
      expect(isToolProxyError(error, CODE_OF[settled.outcome] as ToolProxyError['code'])).toBe(
        true,
      );
      expect(error).toBe(settled.error);
    }
    // The deadline the options give; it fires exactly when the model says it should, and never
    // after an answer that was sent (so delivered) before time moved on.
    expect(record.timeoutMs).toBe(record.expectedTimeoutMs);
    if (settled.outcome === 'timeout') {
      expect(settled.at).toBe(world.deadline(record));
      expect(record.answered).toBe(false);
    }

    // At most one call frame, none when the send failed; only to the addressee.
    const frames = world.callFrames.get(record.callId) ?? [];
    expect(frames.length).toBeLessThanOrEqual(1);
    if (settled.outcome === 'send-failed') expect(frames).toEqual([]);
    for (const to of frames) expect(to).toBe(record.provider);

    // A cancel or timeout of a call whose provider is still there: exactly one notice, to it.
    const notices = world.notices.get(record.callId) ?? [];
    const noticed =
      settled.providerPresent &&
      (settled.outcome === 'timeout' ||
        settled.outcome === 'cancelled' ||
        settled.outcome === 'tool-unregistered');
    if (!noticed) {
      expect(notices).toEqual([]);
      continue;
    }
    noticesExpected++;
    const expected =
      settled.outcome === 'timeout'
        ? { to: record.provider, type: 'agent:tool-call-timeout', reason: undefined }
        : { to: record.provider, type: 'agent:tool-call-cancelled', reason: settled.reason };
    expect(notices).toEqual([expected]);
  }
  const stats = proxy.stats();
  expect(stats.calls.started).toBe(started);
  expect(stats.calls.rejectedBeforeSend).toBe(world.calls.length - started);
  const settledCount = Object.values(stats.calls.settled).reduce((a, b) => a + b, 0);
  expect(settledCount).toBe(started);
  expect(stats.notices.sent).toBe(noticesExpected);
}

/**
 * Runs the commands, then ends the run one of two ways: time runs out for every call still pending,
 * or the proxy closes with them pending (each is cancelled at once, its provider told).
 */
async function runCommands(commands: readonly Command[], closeFirst = false): Promise<void> {
  vi.clearAllTimers();
  const world = new World();
  await world.start();
  try {
    for (const command of commands) {
      const running = run(world, command);
      if (running !== undefined) await running;
      checkBetween(world);
    }
    let closing: Promise<void> | undefined;
    if (closeFirst) {
      expectCancels(world, world.pending(), 'proxy-shutting-down', () => {
        closing = world.proxy.close();
      });
      // Closed: no call starts any more.
      world.call({ ...CLOSED_CALL });
      expect(world.calls.at(-1)?.callId).toBeUndefined();
    }
    await vi.advanceTimersByTimeAsync(SETTLE_ALL_MS);
    await closing;
    checkSettled(world);
    // Closing a proxy with nothing pending leaves nothing behind either.
    closing = world.proxy.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await closing;
    expect(vi.getTimerCount()).toBe(0);
  } finally {
    await world.proxy.close().catch(() => {});
    for (const peer of world.peers.values()) await peer.channel.close();
    vi.clearAllTimers();
  }
}

const CLOSED_CALL = {
  kind: 'call',
  provider: 0,
  tool: 0,
  session: -1,
  signal: 'own',
  timeoutMs: undefined,
  args: 'ok',
} as const;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('call life, random interleavings', () => {
  it('every call settles exactly once; cancels and timeouts notify once; nothing is left behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArb, { maxLength: 60, size: 'max' }),
        fc.boolean(),
        (commands, closeFirst) => runCommands(commands, closeFirst),
      ),
      { numRuns: NUM_RUNS },
    );
  }, 60_000);

  it('a deadline fires exactly when progress and the hard maximum say it should', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(deadlineCommandArb, { maxLength: 30, size: 'max' }), (commands) =>
        runCommands(commands),
      ),
      { numRuns: DEADLINE_RUNS },
    );
  }, 60_000);
});
