/**
 * The LiveKit RPC facts PROTOCOL.md section 2.3 rests on, measured on the real server with
 * @livekit/rtc-node on both sides. If LiveKit adds an RPC cancel, a configurable ack timeout or an
 * early error for a departed destination, a test here fails: the decision is then due for review.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dispose, type PerformRpcParams, Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, describe, expectTypeOf, inject, it, type TestContext } from 'vitest';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { ToolProxy } from '../../src/index.js';

const server = inject('livekit');
/** rtc-node's fixed wait for an acknowledgement (the Rust core's `max_round_trip_latency`). */
const ACK_MS = 7_000;
/** All a handler is given: no AbortSignal, nothing that could tell it the caller gave up. */
const HANDLER_KEYS = ['callerIdentity', 'payload', 'requestId', 'responseTimeout'];
afterAll(() => dispose());

const fresh = (name: string) => `rpc-${name}-${Date.now().toString(36)}`;
const local = (room: Room | undefined) => room!.localParticipant!;

/** Joins `identities` to `room` and waits (≤ 5 s) until each sees `others` and the rest. */
async function join(ctx: TestContext, room: string, identities: string[], others: string[] = []) {
  const joined = await Promise.all(
    identities.map(async (identity) => {
      const participant = new Room();
      ctx.onTestFinished(() => participant.disconnect());
      const token = await mintProviderToken({ ...server, room, identity });
      await participant.connect(server.url, token, { autoSubscribe: false, dynacast: false });
      return participant;
    }),
  );
  const all = [...identities, ...others];
  const sees = (p: Room) => () =>
    all.every((id) => id === p.localParticipant?.identity || p.remoteParticipants.has(id));
  await Promise.all(joined.map((p) => until(p, RoomEvent.ParticipantConnected, sees(p), 5_000)));
  return joined;
}

function until(room: Room, event: RoomEvent, done: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      room.off(event, check);
      resolve();
    };
    room.on(event, check);
    check();
  });
}

const rpc = (params: Partial<PerformRpcParams>) => ({
  destinationIdentity: 'handler',
  method: 'hold',
  payload: '',
  ...params,
});

describe.concurrent('LiveKit RPC from @livekit/rtc-node, on the real server', () => {
  // 2.3 "No cancel": a caller that stops waiting leaves the handler running; its answer is dropped.
  it('a handler runs on after its caller gave up; its late answer reaches no one', async (ctx) => {
    const [caller, handler] = (await join(ctx, fresh('abandoned'), ['caller', 'handler'])).map(
      local,
    );
    const given: string[][] = [];
    let release = () => {};
    let answered = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const lateAnswer = new Promise<void>((resolve) => (answered = resolve));
    handler!.registerRpcMethod('hold', async (data) => {
      given.push(Object.keys(data).sort());
      if (data.payload === 'first') {
        await released;
        answered();
        return 'late answer';
      }
      release();
      await lateAnswer.then(() => sleep(500)); // the late answer goes out first
      return 'second answer';
    });
    const started = Date.now();
    const first = caller!.performRpc(rpc({ payload: 'first', responseTimeout: 2_000 }));
    await ctx.expect(first).rejects.toMatchObject({ code: 1502 });
    const gaveUpMs = Date.now() - started;
    ctx.expect(gaveUpMs).toBeGreaterThanOrEqual(1_900);
    ctx.expect(gaveUpMs).toBeLessThan(5_000);
    // The first handler answers only now, while another call waits on the same pair.
    const second = caller!.performRpc(rpc({ payload: 'second', responseTimeout: 5_000 }));
    await ctx.expect(second).resolves.toBe('second answer');
    ctx.expect(given).toEqual([HANDLER_KEYS, HANDLER_KEYS]);
  });

  // 2.3 "A deadline of its own": rtc-node tells the handler the caller's deadline minus 7 s (≥ 1 s).
  it('the handler is told the caller’s responseTimeout minus 7 s', async (ctx) => {
    const [caller, handler] = (await join(ctx, fresh('deadline'), ['caller', 'handler'])).map(
      local,
    );
    handler!.registerRpcMethod('hold', async (data) => String(data.responseTimeout));
    // Computed by the caller before sending, not measured: exact values are not flaky.
    const told = (ms: number) => caller!.performRpc(rpc({ responseTimeout: ms })).then(Number);
    await ctx
      .expect(Promise.all([told(20_000), told(10_000), told(5_000)]))
      .resolves.toEqual([20_000 - ACK_MS, 10_000 - ACK_MS, 1_000]);
  });

  // 2.3 "A deadline of its own": with no ack the caller fails after 7 s (1501), not configurable.
  it('a call to an absent identity fails with 1501 after the 7 s ack timeout', async (ctx) => {
    // rtc-node takes no ack timeout (and no AbortSignal) from a caller: tsc fails if a key is added.
    expectTypeOf<keyof PerformRpcParams>().toEqualTypeOf<
      'destinationIdentity' | 'method' | 'payload' | 'responseTimeout'
    >();
    const [caller] = await join(ctx, fresh('absent'), ['caller']);
    const started = Date.now();
    const call = local(caller).performRpc(
      rpc({ destinationIdentity: 'nobody', responseTimeout: 20_000 }),
    );
    await ctx.expect(call).rejects.toMatchObject({ code: 1501 });
    ctx.expect(Date.now() - started).toBeGreaterThanOrEqual(ACK_MS - 100);
    ctx.expect(Date.now() - started).toBeLessThan(ACK_MS + 3_000);
  });

  // 2.3 "A provider that leaves": rtc-node reports it only when the response timeout passes (1502).
  it('a destination that leaves mid-call is reported only at the response timeout', async (ctx) => {
    const [callerRoom, handlerRoom] = await join(ctx, fresh('leaves'), ['caller', 'handler']);
    const [caller, handler] = [local(callerRoom), local(handlerRoom)];
    let invoked = () => {};
    const running = new Promise<void>((resolve) => (invoked = resolve));
    handler.registerRpcMethod('hold', () => {
      invoked();
      return new Promise<string>(() => {}); // never answers: its room leaves instead
    });
    const started = Date.now();
    // Longer than the caller's room takes to learn of the departure (about 3 s here).
    const call = caller.performRpc(rpc({ responseTimeout: 8_000 }));
    const settledAt = call.then(Date.now, Date.now);
    await running;
    await handlerRoom!.disconnect();
    const left = () => callerRoom!.remoteParticipants.size === 0;
    await until(callerRoom!, RoomEvent.ParticipantDisconnected, left, 6_000);
    const leftAt = Date.now(); // the caller's room knows it left; the call still waits
    await ctx.expect(call).rejects.toMatchObject({ code: 1502 });
    ctx.expect((await settledAt) - leftAt).toBeGreaterThan(2_000);
    ctx.expect((await settledAt) - started).toBeGreaterThanOrEqual(7_900);
  });

  // 2.3 opening: the proxy registers no RPC methods, so the SDK answers 1400 (unsupported method).
  it('the proxy’s participant answers an RPC with 1400', async (ctx) => {
    const room = fresh('proxy');
    const proxy = new ToolProxy();
    const agent = { ...server, room, identity: 'toolproxy-agent', disposeOnClose: false };
    await proxy.start(new LiveKitAgentChannel(agent));
    ctx.onTestFinished(() => proxy.close());
    const [caller] = await join(ctx, room, ['caller'], [agent.identity]);
    const call = local(caller).performRpc(
      rpc({ destinationIdentity: agent.identity, method: 'move_arm', payload: '{"x":1}' }),
    );
    await ctx.expect(call).rejects.toMatchObject({ code: 1400 });
  });
});
