/**
 * What the LiveKit bridge adds to the contract: hermes-livekit v0.3 topics, identities from the
 * SDK (never the payload), the provider policy, packets vs text streams, rejoin and shutdown.
 * Runs on the LiveKit double (bridge/livekit/testing).
 */
import { RoomEvent } from '@livekit/rtc-node';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  LiveKitAgentChannel,
  type LiveKitAgentOptions,
  mintAgentToken,
  mintProviderToken,
} from '../../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../../bridge/livekit/node-provider.js';
import { rtcRoomPort } from '../../../bridge/livekit/rtc-port.js';
import {
  FakeLiveKitServer,
  FakeRtcRoom,
  type FakeTextStreamReader,
} from '../../../bridge/livekit/testing/index.js';
import { defineTool, ToolProvider, ToolProxy } from '../../../src/index.js';
import { flush } from '../../support/util.js';

const ROOM = 'lab';
const AGENT = 'toolproxy-agent';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function settle(server: FakeLiveKitServer): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await server.settle();
    await flush();
  }
}

async function startProxy(server: FakeLiveKitServer, options: Partial<LiveKitAgentOptions> = {}) {
  const disposed = vi.fn(() => Promise.resolve());
  const channel = new LiveKitAgentChannel({
    url: server.url,
    room: ROOM,
    apiKey: server.apiKey,
    apiSecret: server.apiSecret,
    runtime: { createRoom: () => new FakeRtcRoom(server), port: rtcRoomPort, dispose: disposed },
    reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    ...options,
  });
  const proxy = new ToolProxy();
  await proxy.start(channel);
  cleanups.push(() => proxy.close());
  return { proxy, disposed };
}

/** An rtc-node room joined with a provider token (`toolproxy.provider=true`), left after the test. */
async function providerRoom(server: FakeLiveKitServer, identity: string): Promise<FakeRtcRoom> {
  const room = new FakeRtcRoom(server);
  const { apiKey, apiSecret } = server;
  await room.connect(
    server.url,
    await mintProviderToken({ apiKey, apiSecret, room: ROOM, identity }),
  );
  cleanups.push(() => room.disconnect());
  return room;
}

const wave = defineTool({
  name: 'wave',
  description: 'wave',
  input: z.object({}),
  handler: () => 'waved',
});
const hold = defineTool({
  name: 'hold',
  description: 'runs until stopped',
  input: z.object({}),
  handler: (_args, { signal }) =>
    new Promise((resolve) => signal.addEventListener('abort', resolve)),
});

/** A ToolProvider of `tool` on an rtc-node room as `robot`, connected; closed after the test. */
async function robotOffering(server: FakeLiveKitServer, tool: typeof wave | typeof hold) {
  const provider = new ToolProvider({ tools: [tool] });
  await provider.connect(rtcProviderChannel(await providerRoom(server, 'robot')));
  cleanups.push(() => provider.close());
  return provider;
}

/** A raw participant speaking JSON frames as a hermes-livekit v0.3 client does. */
async function rawClient(
  server: FakeLiveKitServer,
  identity: string,
  attributes: Record<string, string> = { 'toolproxy.provider': 'true' },
) {
  const room = new FakeRtcRoom(server);
  await room.connect(server.url, await server.createToken({ identity, room: ROOM, attributes }));
  cleanups.push(() => room.disconnect());
  const received: Array<{
    frame: Record<string, unknown>;
    topic: string | undefined;
    from: string | undefined;
  }> = [];
  room.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
    received.push({
      frame: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>,
      topic,
      from: participant?.identity,
    });
  });
  const publish = (frame: object, topic: string | undefined = 'hermes-control') =>
    room.localParticipant?.publishData(new TextEncoder().encode(JSON.stringify(frame)), {
      reliable: true,
      destination_identities: [AGENT],
      ...(topic === undefined ? {} : { topic }),
    });
  return { room, received, publish };
}

const register = (name: string) => ({
  type: 'client:tool-register',
  name,
  description: `${name} tool`,
  input_schema: { type: 'object', properties: {} },
});

describe('LiveKit bridge, agent side', () => {
  it('serves an unmodified hermes-livekit v0.3 client: it publishes on hermes-control and reads untopiced replies', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    const client = await rawClient(server, 'desktop');
    await client.publish(register('desktop_notify'));
    await settle(server);
    expect(client.received).toContainEqual({
      frame: {
        type: 'agent:tool-registered',
        name: 'desktop_notify',
        success: true,
        sent_at_ms: expect.any(Number),
      },
      topic: undefined,
      from: AGENT,
    });
    const call = proxy.call('desktop_notify');
    await settle(server);
    const callFrame = client.received.find((r) => r.frame.type === 'agent:tool-call');
    expect(callFrame?.topic).toBeUndefined();
    await client.publish({
      type: 'client:tool-result',
      call_id: callFrame?.frame.call_id,
      result: { shown: true },
    });
    await expect(call).resolves.toEqual({ shown: true });
  });

  it('ignores frames on other topics and packets the server sent (no participant)', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    const client = await rawClient(server, 'desktop');
    await client.publish(register('elsewhere'), 'chat');
    server.sendData(ROOM, new TextEncoder().encode(JSON.stringify(register('from_server'))), {
      topic: 'hermes-control',
    });
    await settle(server);
    expect(proxy.tools()).toEqual([]);
    expect(proxy.stats().frames.received).toBe(0);
  });

  it('only participants whose token says toolproxy.provider=true may offer tools (by default)', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    const stranger = await rawClient(server, 'stranger', {});
    await stranger.publish(register('exfiltrate'));
    await settle(server);
    expect(stranger.received.map((r) => r.frame)).toContainEqual(
      expect.objectContaining({
        type: 'agent:tool-registered',
        name: 'exfiltrate',
        success: false,
        reason: 'not-allowed',
      }),
    );
    expect(proxy.tools()).toEqual([]);
  });

  it("with providers: 'any', any participant that is not an agent may", async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server, { providers: 'any' });
    const client = await rawClient(server, 'page', {});
    await client.publish(register('click'));
    await settle(server);
    expect(proxy.tools().map((t) => t.name)).toEqual(['click']);
  });

  it("a participant named toolproxy (the WebSocket bridge's name for the proxy) may not offer tools, even with providers: 'any'", async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server, { providers: 'any' });
    const impostor = await rawClient(server, 'toolproxy');
    await impostor.publish(register('open_door'));
    await settle(server);
    expect(impostor.received.map((r) => r.frame)).toContainEqual(
      expect.objectContaining({
        type: 'agent:tool-registered',
        success: false,
        reason: 'not-allowed',
      }),
    );
    expect(proxy.tools()).toEqual([]);
  });

  it('greets providers already in the room when it joins (they fire no join event), and they register', async () => {
    const server = new FakeLiveKitServer();
    const robotRoom = await providerRoom(server, 'robot');
    const provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'wave',
          description: 'wave',
          input: z.object({}),
          handler: () => 'waved',
        }),
      ],
    });
    await provider.connect(rtcProviderChannel(robotRoom));
    cleanups.push(() => provider.close());
    const { proxy } = await startProxy(server);
    await settle(server);
    await expect(proxy.call('wave')).resolves.toBe('waved');
  });

  // The real server does not order a joiner's data after its join
  // (test/bridge/livekit/testing/livekit-doubles.test.ts): the proxy sees the registrations
  // without a sender, drops them, and greets the joiner so it registers again.
  it('a provider whose registrations arrive before its join is greeted, registers again, and serves', async () => {
    const server = new FakeLiveKitServer({ dataBeforeJoin: true });
    const { proxy } = await startProxy(server);
    await robotOffering(server, wave);
    await settle(server);
    expect(proxy.tools().map((t) => t.name)).toEqual(['wave']);
    await expect(proxy.call('wave')).resolves.toBe('waved');
  });

  // The real server tells the room of a killed process only when ICE gives up (about 20 s); the
  // proxy's own ping (agent:ping / client:pong) gives such a provider up within 4 s.
  it('a provider whose process dies mid-call fails its calls within seconds, not after the 20 s ICE timeout', async () => {
    vi.useFakeTimers();
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    await robotOffering(server, hold);
    await settle(server);
    await proxy.waitForTool('hold');
    const left = vi.fn();
    proxy.hooks.on('tool:unregistered', left);
    const call = proxy.call('hold');
    const failed = expect(call).rejects.toMatchObject({
      code: 'PROVIDER_GONE',
      reason: 'provider-unresponsive',
    });
    await vi.advanceTimersByTimeAsync(1_500);
    server.crash(ROOM, 'robot');
    await vi.advanceTimersByTimeAsync(5_000);
    await failed;
    expect(left).toHaveBeenCalledTimes(1);
    expect(server.participants(ROOM).map((p) => p.identity)).toContain('robot'); // the room still has it
    await vi.advanceTimersByTimeAsync(20_000);
    expect(server.participants(ROOM).map((p) => p.identity)).not.toContain('robot');
  });

  it('frames over one packet travel as text streams; no packet exceeds the reliable limit', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    const robotRoom = await providerRoom(server, 'robot');
    const provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'echo',
          description: 'echo',
          input: z.object({ text: z.string() }),
          handler: ({ text }) => text,
        }),
      ],
    });
    await provider.connect(rtcProviderChannel(robotRoom));
    cleanups.push(() => provider.close());
    await settle(server);
    const big = 'é'.repeat(200_000); // 400 KB of UTF-8 each way
    await expect(proxy.call('echo', { text: big })).resolves.toBe(big);
    expect(server.largestPacketBytes).toBeLessThanOrEqual(15_000);
  });

  it('a packet past the frame limit is dropped on receipt', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server, { maxFrameBytes: 1_000 });
    const robot = await rawClient(server, 'robot');
    await settle(server);
    await robot.publish({ ...register('big'), description: 'd'.repeat(2_000) });
    await robot.publish(register('small'));
    await settle(server);
    expect(proxy.stats().frames.received).toBe(1);
    expect(proxy.tools().map((tool) => tool.name)).toEqual(['small']);
  });

  it('a text stream past the frame limit is dropped while it arrives, never read whole', async () => {
    const server = new FakeLiveKitServer();
    const readers: FakeTextStreamReader[] = [];
    const { proxy } = await startProxy(server, {
      maxFrameBytes: 50_000,
      runtime: {
        createRoom: () => {
          const room = new FakeRtcRoom(server);
          const register = room.registerTextStreamHandler.bind(room);
          room.registerTextStreamHandler = (topic, handler) => {
            register(topic, (reader, participant) => {
              readers.push(reader as FakeTextStreamReader);
              handler(reader, participant);
            });
          };
          return room;
        },
        port: rtcRoomPort,
        dispose: () => Promise.resolve(),
      },
    });
    const stranger = await rawClient(server, 'stranger', {});
    await settle(server);
    const huge = JSON.stringify({
      type: 'client:tool-register',
      name: 'x',
      pad: 'y'.repeat(300_000),
    });
    await stranger.room.localParticipant?.sendText(huge, {
      topic: 'hermes-control',
      destinationIdentities: [AGENT],
    });
    await settle(server);
    expect(readers).toHaveLength(1);
    expect(readers[0]?.closedEarly).toBe(true);
    expect(proxy.stats().frames.received).toBe(0);
  });

  it('a configured topic carries both directions (new deployments)', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server, {
      topic: 'toolproxy.v1',
      replyTopic: 'toolproxy.v1',
    });
    const client = await rawClient(server, 'desktop');
    await client.publish(register('legacy')); // on hermes-control: not read
    await client.publish(register('modern'), 'toolproxy.v1');
    await settle(server);
    expect(proxy.tools().map((t) => t.name)).toEqual(['modern']);
    expect(client.received.find((r) => r.frame.name === 'modern')?.topic).toBe('toolproxy.v1');
  });

  it('when the room is lost, providers count as gone; the proxy rejoins with backoff and they register again', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    const client = await rawClient(server, 'desktop');
    await client.publish(register('desktop_notify'));
    await settle(server);
    const call = expect(proxy.call('desktop_notify')).rejects.toMatchObject({
      code: 'PROVIDER_GONE',
    });
    await settle(server);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.removeParticipant(ROOM, AGENT);
    await settle(server);
    await call;
    expect(proxy.tools()).toEqual([]);
    await vi.advanceTimersByTimeAsync(100); // first rejoin attempt
    await settle(server);
    expect(client.received.filter((r) => r.frame.type === 'agent:hello')).toHaveLength(1);
    await client.publish(register('desktop_notify'));
    await settle(server);
    expect(proxy.tools().map((t) => t.name)).toEqual(['desktop_notify']);
  });

  // Seen on the real server (test/live/browser-contract.live.test.ts): rtc-node can report
  // Reconnected on a connection that then carries no data for some 30 s.
  it('a resume that carries no frames is taken for lost: the proxy rejoins and providers register again', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    await robotOffering(server, wave);
    await settle(server);
    await proxy.waitForTool('wave');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.interrupt(ROOM, AGENT);
    await settle(server);
    server.resume(ROOM, AGENT, { carriesData: false });
    await settle(server);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(proxy.tools().map((t) => t.name)).toEqual(['wave']); // not before the check
    await vi.advanceTimersByTimeAsync(100); // no frame within 5 s of the resume: rejoin
    await settle(server);
    await vi.advanceTimersByTimeAsync(100); // the first rejoin attempt
    await settle(server);
    await vi.advanceTimersByTimeAsync(0);
    await settle(server);
    expect(proxy.tools().map((t) => t.name)).toEqual(['wave']);
    vi.useRealTimers();
    await expect(proxy.call('wave')).resolves.toBe('waved');
  });

  it('a resume that carries frames stays: no rejoin', async () => {
    const server = new FakeLiveKitServer();
    const { proxy } = await startProxy(server);
    await robotOffering(server, wave);
    await settle(server);
    await proxy.waitForTool('wave');
    const joins = server.participants(ROOM).find((p) => p.identity === AGENT)?.sid;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    server.interrupt(ROOM, AGENT);
    await settle(server);
    server.resume(ROOM, AGENT);
    await settle(server);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle(server);
    expect(server.participants(ROOM).find((p) => p.identity === AGENT)?.sid).toBe(joins);
    vi.useRealTimers();
    await expect(proxy.call('wave')).resolves.toBe('waved');
  });

  it('close() cancels calls (notices sent), leaves the room and disposes rtc-node', async () => {
    const server = new FakeLiveKitServer();
    const { proxy, disposed } = await startProxy(server);
    const client = await rawClient(server, 'desktop');
    await client.publish(register('slow'));
    await settle(server);
    const call = expect(proxy.call('slow')).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'proxy-shutting-down',
    });
    await settle(server);
    await proxy.close();
    await settle(server);
    await call;
    expect(client.received.map((r) => r.frame.type)).toContain('agent:tool-call-cancelled');
    expect(server.participants(ROOM).map((p) => p.identity)).toEqual(['desktop']);
    expect(disposed).toHaveBeenCalledTimes(1);
  });

  it('an unreachable URL fails start with a clear error, and rtc-node is disposed', async () => {
    const server = new FakeLiveKitServer();
    const disposed = vi.fn(() => Promise.resolve());
    const channel = new LiveKitAgentChannel({
      url: 'ws://127.0.0.1:9',
      room: ROOM,
      apiKey: server.apiKey,
      apiSecret: server.apiSecret,
      runtime: { createRoom: () => new FakeRtcRoom(server), port: rtcRoomPort, dispose: disposed },
    });
    await expect(new ToolProxy().start(channel)).rejects.toThrow(
      /could not join LiveKit room "lab" at ws:\/\/127\.0\.0\.1:9/,
    );
    expect(disposed).toHaveBeenCalledTimes(1);
  });

  it('mints an agent token with data-only grants, and provider tokens marked toolproxy.provider', async () => {
    const verifier = new TokenVerifier('devkey', 'secret');
    const agent = await verifier.verify(
      await mintAgentToken({ apiKey: 'devkey', apiSecret: 'secret', room: ROOM, identity: AGENT }),
    );
    expect(agent).toMatchObject({
      sub: AGENT,
      kind: 'agent',
      video: {
        roomJoin: true,
        room: ROOM,
        canPublish: false,
        canPublishData: true,
        canSubscribe: true,
      },
    });
    const robot = await verifier.verify(
      await mintProviderToken({
        apiKey: 'devkey',
        apiSecret: 'secret',
        room: ROOM,
        identity: 'robot',
      }),
    );
    expect(robot).toMatchObject({
      sub: 'robot',
      attributes: { 'toolproxy.provider': 'true' },
      video: { canUpdateOwnMetadata: false },
    });
  });
});
