import {
  ConnectError,
  ConnectionState as RtcConnectionState,
  DataPacketKind,
  DisconnectReason,
  ParticipantKind,
  RoomEvent,
} from '@livekit/rtc-node';
import {
  RoomEvent as ClientEvent,
  ConnectionError,
  DataPacket_Kind,
  DataStreamError,
  DisconnectReason as ClientDisconnectReason,
  Encryption_Type,
  PublishDataError,
  UnexpectedConnectionState,
} from 'livekit-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FakeClientRoom,
  FakeLiveKitServer,
  FakeRtcRoom,
  dispose,
  type FakeTokenOptions,
} from '../../../../bridge/livekit/testing/index.js';

const ROOM = 'room-1';
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

interface Connectable {
  connect(url: string, token: string): Promise<void>;
}

async function join<R extends Connectable>(
  server: FakeLiveKitServer,
  room: R,
  identity: string,
  options: Partial<FakeTokenOptions> = {},
): Promise<R> {
  await room.connect(server.url, await server.createToken({ identity, room: ROOM, ...options }));
  return room;
}

/** Two rtc-node rooms, `a` and `b`, plus a server. */
async function rtcPair() {
  const server = new FakeLiveKitServer();
  const a = await join(server, new FakeRtcRoom(server), 'a');
  const b = await join(server, new FakeRtcRoom(server), 'b');
  await server.settle();
  return { server, a, b, alp: a.localParticipant!, blp: b.localParticipant! };
}

/** Records every DataReceived of an rtc room as [text, sender identity, kind, topic]. */
function rtcInbox(room: FakeRtcRoom) {
  const got: [string, string | undefined, DataPacketKind, string | undefined][] = [];
  room.on(RoomEvent.DataReceived, (payload, p, kind, topic) =>
    got.push([text(payload), p?.identity, kind, topic]),
  );
  return got;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('FakeLiveKitServer: tokens and URLs', () => {
  it('takes identity, kind, name, metadata and attributes from the token', async () => {
    const { server, a } = await rtcPair();
    const agent = await join(server, new FakeRtcRoom(server), 'bot', {
      kind: 'agent',
      name: 'Bot',
      metadata: 'm',
      attributes: { role: 'assistant' },
    });
    await server.settle();
    expect(agent.localParticipant?.identity).toBe('bot');
    const seen = a.remoteParticipants.get('bot');
    expect(seen).toMatchObject({ name: 'Bot', metadata: 'm', attributes: { role: 'assistant' } });
    expect(seen?.kind).toBe(ParticipantKind.AGENT);
    expect(a.remoteParticipants.get('b')?.kind).toBe(ParticipantKind.STANDARD);
    expect(server.participants(ROOM).map((p) => [p.identity, p.kind])).toEqual([
      ['a', ''],
      ['b', ''],
      ['bot', 'agent'],
    ]);
  });

  it('rejects a token signed with another secret, and accepts its own key pair', async () => {
    const server = new FakeLiveKitServer({ apiKey: 'k1', apiSecret: 's1' });
    const other = new FakeLiveKitServer();
    const forged = await other.createToken({ identity: 'x', room: ROOM });
    await expect(new FakeRtcRoom(server).connect(server.url, forged)).rejects.toThrow(ConnectError);
    await expect(join(server, new FakeRtcRoom(server), 'x')).resolves.toBeDefined();
  });

  it('rejects an expired token', async () => {
    vi.useFakeTimers();
    const server = new FakeLiveKitServer();
    const token = await server.createToken({ identity: 'x', room: ROOM, ttl: 60 });
    vi.advanceTimersByTime(71_000); // ttl + the verifier's 10 s clock tolerance
    await expect(new FakeRtcRoom(server).connect(server.url, token)).rejects.toThrow(
      /401 Unauthorized/,
    );
  });

  it('rejects a token without a roomJoin grant', async () => {
    const server = new FakeLiveKitServer();
    const token = await server.createToken({
      identity: 'x',
      room: ROOM,
      grant: { roomJoin: false },
    });
    await expect(new FakeRtcRoom(server).connect(server.url, token)).rejects.toThrow(
      /no roomJoin grant/,
    );
  });

  it('connects on any registered ws:// or wss:// URL', async () => {
    const server = new FakeLiveKitServer({ url: 'wss://lk.example/' });
    server.listenOn('ws://localhost:7880');
    const token = await server.createToken({ identity: 'x', room: ROOM });
    await new FakeRtcRoom(server).connect('wss://lk.example', token);
    const token2 = await server.createToken({ identity: 'y', room: ROOM });
    await new FakeRtcRoom(server).connect('ws://localhost:7880/', token2);
    expect(server.participants(ROOM)).toHaveLength(2);
    expect(() => server.listenOn('http://lk.example')).toThrow(/ws:\/\//);
  });

  it('rejects an unknown URL after a setTimeout delay, with a ConnectError naming the URL', async () => {
    vi.useFakeTimers();
    const server = new FakeLiveKitServer();
    const token = await server.createToken({ identity: 'x', room: ROOM });
    let outcome: unknown;
    new FakeRtcRoom(server).connect('ws://nowhere.test', token).catch((e: unknown) => {
      outcome = e;
    });
    await vi.advanceTimersByTimeAsync(89);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toBeInstanceOf(ConnectError);
    expect(String(outcome)).toContain('ws://nowhere.test');
    expect(server.participants(ROOM)).toEqual([]);
  });
});

describe('FakeLiveKitServer: routing', () => {
  it('delivers asynchronously, never inside publishData or sendData', async () => {
    const { server, a, blp } = await rtcPair();
    const got = rtcInbox(a);
    const sent = blp.publishData(bytes('x'), { reliable: true });
    server.sendData(ROOM, bytes('y'));
    expect(got).toEqual([]);
    await sent;
    await server.settle();
    expect(got.map(([t]) => t).sort()).toEqual(['x', 'y']);
  });

  it('keeps order per sender and receiver', async () => {
    const { server, a, blp } = await rtcPair();
    const got = rtcInbox(a);
    const sent = Array.from({ length: 50 }, (_, i) =>
      blp.publishData(bytes(String(i)), { reliable: true }),
    );
    await Promise.all(sent);
    await server.settle();
    expect(got.map(([t]) => Number(t))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  // Seen on livekit-server v1.13.5 (test/live/contract.live.test.ts): a joiner's first packets
  // can reach the others before its join does, and rtc-node then reports them without a
  // participant. The double does so when asked (`dataBeforeJoin`).
  it("dataBeforeJoin: a joiner's first packet arrives without a participant, then its join", async () => {
    const server = new FakeLiveKitServer({ dataBeforeJoin: true });
    const a = await join(server, new FakeRtcRoom(server), 'a');
    const got = rtcInbox(a);
    const joins: string[] = [];
    a.on(RoomEvent.ParticipantConnected, (p) => joins.push(`${p.identity}@${got.length}`));
    const b = await join(server, new FakeRtcRoom(server), 'b');
    await b.localParticipant!.publishData(bytes('first'), { reliable: true });
    await b.localParticipant!.publishData(bytes('second'), { reliable: true });
    await server.settle();
    expect(got.map(([t, from]) => [t, from])).toEqual([
      ['first', undefined],
      ['second', 'b'],
    ]);
    expect(joins).toEqual(['b@1']);
  });

  it('dataBeforeJoin: a silent joiner is announced a little later; a leave never precedes its join', async () => {
    const server = new FakeLiveKitServer({ dataBeforeJoin: true });
    const a = await join(server, new FakeRtcRoom(server), 'a');
    const events: string[] = [];
    a.on(RoomEvent.ParticipantConnected, (p) => events.push(`joined ${p.identity}`));
    a.on(RoomEvent.ParticipantDisconnected, (p) => events.push(`left ${p.identity}`));
    await join(server, new FakeRtcRoom(server), 'b');
    await server.settle();
    expect(events).toEqual(['joined b']);
    const c = await join(server, new FakeRtcRoom(server), 'c');
    await c.disconnect();
    await server.settle();
    expect(events).toEqual(['joined b', 'joined c', 'left c']);
  });

  it('sends to the listed identities only, else to everyone but the sender', async () => {
    const { server, a, b, alp } = await rtcPair();
    const c = await join(server, new FakeRtcRoom(server), 'c');
    await server.settle();
    const [gotA, gotB, gotC] = [rtcInbox(a), rtcInbox(b), rtcInbox(c)];
    await alp.publishData(bytes('to-c'), { reliable: true, destination_identities: ['c', 'a'] });
    await alp.publishData(bytes('all'), { reliable: true, destination_identities: [] });
    await server.settle();
    expect(gotA).toEqual([]);
    expect(gotB.map(([t]) => t)).toEqual(['all']);
    expect(gotC.map(([t]) => t)).toEqual(['to-c', 'all']);
  });

  it('drops packets to a departed identity silently', async () => {
    const { server, a, b, blp } = await rtcPair();
    const got = rtcInbox(a);
    await a.disconnect();
    await server.settle();
    await expect(
      blp.publishData(bytes('lost'), { reliable: true, destination_identities: ['a'] }),
    ).resolves.toBeUndefined();
    await server.settle();
    expect(got).toEqual([]);
    expect(b.remoteParticipants.has('a')).toBe(false);
  });

  it('rejects packets above maxPacketBytes and records the largest packet', async () => {
    const { server, alp } = await rtcPair();
    expect(server.maxPacketBytes).toBe(15 * 1024);
    await alp.publishData(new Uint8Array(15 * 1024), { reliable: true });
    await expect(alp.publishData(new Uint8Array(20_000), { reliable: true })).rejects.toThrow(
      'data packet size (20000 bytes) exceeds the negotiated maximum message size (15360 bytes)',
    );
    expect(server.largestPacketBytes).toBe(20_000);
    const small = new FakeLiveKitServer({ maxPacketBytes: 100 });
    const room = await join(small, new FakeClientRoom(small), 'c');
    await expect(room.localParticipant.publishData(new Uint8Array(101))).rejects.toThrow(
      PublishDataError,
    );
  });

  it('delivers text streams to the handler of their topic, with the sender identity', async () => {
    const { server, a, blp } = await rtcPair();
    const received: Promise<string>[] = [];
    const senders: string[] = [];
    a.registerTextStreamHandler('docs', (reader, { identity }) => {
      senders.push(identity);
      received.push(reader.readAll());
    });
    const long = 'é'.repeat(20_000) + '🎉'.repeat(5_000); // 60000 bytes: several chunks
    const info = await blp.sendText(long, { topic: 'docs', destinationIdentities: ['a'] });
    await blp.sendText('short', { topic: 'docs' });
    await server.settle();
    expect(info).toMatchObject({ topic: 'docs', totalSize: 60_000, mimeType: 'text/plain' });
    expect(senders).toEqual(['b', 'b']);
    expect(await Promise.all(received)).toEqual([long, 'short']);
  });

  it('drops a text stream on a topic without a handler', async () => {
    const { server, a, blp } = await rtcPair();
    const seen = vi.fn();
    a.registerTextStreamHandler('other', seen);
    await expect(blp.sendText('lost', { topic: 'nobody' })).resolves.toBeDefined();
    await server.settle();
    a.registerTextStreamHandler('nobody', seen);
    await server.settle();
    expect(seen).not.toHaveBeenCalled();
  });

  it("fails an open reader's readAll when the receiver disconnects", async () => {
    const { server, a, blp } = await rtcPair();
    let all: Promise<string> | undefined;
    a.registerTextStreamHandler('t', (reader) => {
      all = reader.readAll();
      void a.disconnect(); // mid-stream: 10 chunks still to come
    });
    await blp.sendText('x'.repeat(150_000), { topic: 't' });
    await server.settle();
    await expect(all).rejects.toThrow('Disconnected while receiving');
  });
});

describe('FakeLiveKitServer: controls', () => {
  it('removeParticipant: Disconnected(PARTICIPANT_REMOVED) for it, a leave for the others', async () => {
    const { server, a, b } = await rtcPair();
    const reasons: DisconnectReason[] = [];
    b.on(RoomEvent.Disconnected, (r) => reasons.push(r));
    const left: [string, DisconnectReason | undefined][] = [];
    a.on(RoomEvent.ParticipantDisconnected, (p) => left.push([p.identity, p.disconnectReason]));
    server.removeParticipant(ROOM, 'b');
    await server.settle();
    expect(reasons).toEqual([DisconnectReason.PARTICIPANT_REMOVED]);
    expect(left).toEqual([['b', DisconnectReason.PARTICIPANT_REMOVED]]);
    expect(b.isConnected).toBe(false);
    expect(server.participants(ROOM).map((p) => p.identity)).toEqual(['a']);
  });

  it('sendData: server packets arrive without a participant, to the listed identities', async () => {
    const { server, a, b } = await rtcPair();
    const [gotA, gotB] = [rtcInbox(a), rtcInbox(b)];
    server.sendData(ROOM, bytes('hi'), { topic: 'sys', destinationIdentities: ['b'] });
    await server.settle();
    expect(gotA).toEqual([]);
    expect(gotB).toEqual([['hi', undefined, DataPacketKind.KIND_RELIABLE, 'sys']]);
  });

  it('interrupt/resume: Reconnecting, packets lost both ways, then Reconnected', async () => {
    const { server, a, b, alp, blp } = await rtcPair();
    const [gotA, gotB] = [rtcInbox(a), rtcInbox(b)];
    const events: string[] = [];
    b.on(RoomEvent.Reconnecting, () => events.push('reconnecting'));
    b.on(RoomEvent.Reconnected, () => events.push('reconnected'));
    server.interrupt(ROOM, 'b');
    await server.settle();
    expect(events).toEqual(['reconnecting']);
    await alp.publishData(bytes('to-b'), { reliable: true });
    await blp.publishData(bytes('from-b'), { reliable: true });
    await server.settle();
    expect([gotA, gotB]).toEqual([[], []]);
    server.sendData(ROOM, bytes('in-flight'), { destinationIdentities: ['b'] });
    server.resume(ROOM, 'b'); // too late for the packet sent while interrupted
    await alp.publishData(bytes('again'), { reliable: true });
    await server.settle();
    expect(events).toEqual(['reconnecting', 'reconnected']);
    expect(gotB.map(([t]) => t)).toEqual(['again']);
  });

  it('closeRoom: everyone gets Disconnected(ROOM_DELETED)', async () => {
    const { server, a, b } = await rtcPair();
    const reasons: DisconnectReason[] = [];
    for (const room of [a, b]) room.on(RoomEvent.Disconnected, (r) => reasons.push(r));
    const left = vi.fn();
    a.on(RoomEvent.ParticipantDisconnected, left);
    server.closeRoom(ROOM);
    await server.settle();
    expect(reasons).toEqual([DisconnectReason.ROOM_DELETED, DisconnectReason.ROOM_DELETED]);
    expect(left).not.toHaveBeenCalled();
    expect(server.participants(ROOM)).toEqual([]);
  });

  it('a second connection with the same identity replaces the first (DUPLICATE_IDENTITY)', async () => {
    const { server, b } = await rtcPair();
    const reasons: DisconnectReason[] = [];
    b.on(RoomEvent.Disconnected, (r) => reasons.push(r));
    await join(server, new FakeRtcRoom(server), 'b');
    await server.settle();
    expect(reasons).toEqual([DisconnectReason.DUPLICATE_IDENTITY]);
    expect(server.participants(ROOM).map((p) => p.identity)).toEqual(['a', 'b']);
  });
});

describe('FakeRtcRoom (rtc-node flavour)', () => {
  it('has no localParticipant until connect() resolves', async () => {
    const server = new FakeLiveKitServer();
    const room = new FakeRtcRoom(server);
    const connecting = room.connect(
      server.url,
      await server.createToken({ identity: 'x', room: ROOM }),
    );
    expect(room.localParticipant).toBeUndefined();
    expect(room.isConnected).toBe(false);
    await connecting;
    expect(room.localParticipant?.identity).toBe('x');
    expect(room.isConnected).toBe(true);
    expect(room.connectionState).toBe(RtcConnectionState.CONN_CONNECTED);
  });

  it('puts participants already present into remoteParticipants without ParticipantConnected', async () => {
    const { server } = await rtcPair();
    const c = new FakeRtcRoom(server);
    const joined = vi.fn();
    c.on(RoomEvent.ParticipantConnected, joined);
    await join(server, c, 'c');
    await server.settle();
    expect([...c.remoteParticipants.keys()]).toEqual(['a', 'b']);
    expect(joined).not.toHaveBeenCalled();
  });

  it('emits joins after insertion into the map and leaves after removal', async () => {
    const { server, a, b } = await rtcPair();
    const seen: [string, boolean, DisconnectReason | undefined][] = [];
    a.on(RoomEvent.ParticipantConnected, (p) =>
      seen.push(['join', a.remoteParticipants.get(p.identity) === p, p.disconnectReason]),
    );
    a.on(RoomEvent.ParticipantDisconnected, (p) =>
      seen.push(['leave', a.remoteParticipants.has(p.identity), p.disconnectReason]),
    );
    await join(server, new FakeRtcRoom(server), 'c');
    await server.settle();
    await b.disconnect();
    await server.settle();
    expect(seen).toEqual([
      ['join', true, undefined],
      ['leave', false, DisconnectReason.CLIENT_INITIATED],
    ]);
  });

  it('emits DataReceived(payload, participant, kind, topic) with rtc-node kinds', async () => {
    const { server, a, blp } = await rtcPair();
    const args: unknown[][] = [];
    a.on(RoomEvent.DataReceived, (...rest) => args.push(rest));
    await blp.publishData(bytes('r'), { reliable: true, topic: 't' });
    await blp.publishData(bytes('l'), {});
    await server.settle();
    expect(args).toEqual([
      [bytes('r'), a.remoteParticipants.get('b'), 1, 't'],
      [bytes('l'), a.remoteParticipants.get('b'), 0, undefined],
    ]);
    expect(DataPacketKind.KIND_RELIABLE).toBe(1);
  });

  it('throws on a second text stream handler for one topic', async () => {
    const server = new FakeLiveKitServer();
    const room = new FakeRtcRoom(server);
    room.registerTextStreamHandler('t', () => undefined);
    expect(() => room.registerTextStreamHandler('t', () => undefined)).toThrow(/already been set/);
    room.unregisterTextStreamHandler('t');
    expect(() => room.registerTextStreamHandler('t', () => undefined)).not.toThrow();
  });

  it('disconnect(): Disconnected(CLIENT_INITIATED) once, then removeAllListeners', async () => {
    const { server, a } = await rtcPair();
    const reasons: DisconnectReason[] = [];
    a.on(RoomEvent.Disconnected, (r) => reasons.push(r));
    a.on(RoomEvent.Reconnected, () => undefined);
    await a.disconnect();
    await a.disconnect();
    await server.settle();
    expect(reasons).toEqual([DisconnectReason.CLIENT_INITIATED]);
    expect(a.eventNames()).toEqual([]);
    expect(a.isConnected).toBe(false);
  });

  it('rejects sends pending at a disconnect, or made after it, with AbortError', async () => {
    const { server, a, alp, blp } = await rtcPair();
    const streaming = alp.sendText('x'.repeat(100_000), { topic: 't' });
    const disconnecting = a.disconnect();
    const late = alp.publishData(bytes('late'), { reliable: true });
    await disconnecting;
    const after = alp.publishData(bytes('after'), { reliable: true });
    for (const p of [streaming, late, after]) {
      const error: unknown = await p.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DOMException);
      expect(error).toMatchObject({ name: 'AbortError', message: 'This operation was aborted' });
    }
    server.removeParticipant(ROOM, 'b');
    const kicked = blp.publishData(bytes('kicked'), { reliable: true });
    await expect(kicked).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('exports a dispose() that resolves', async () => {
    await expect(dispose()).resolves.toBeUndefined();
  });
});

describe('FakeClientRoom (livekit-client flavour)', () => {
  it('has a localParticipant with identity "" before connect, and emits Connected', async () => {
    const server = new FakeLiveKitServer();
    const room = new FakeClientRoom(server);
    expect(room.localParticipant.identity).toBe('');
    await expect(room.localParticipant.publishData(bytes('x'))).rejects.toThrow(
      UnexpectedConnectionState,
    );
    const connected = vi.fn();
    room.on(ClientEvent.Connected, connected);
    await join(server, room, 'u');
    expect(connected).toHaveBeenCalledOnce();
    expect(room.localParticipant.identity).toBe('u');
  });

  it('emits the 6-argument DataReceived with livekit-client kinds', async () => {
    const server = new FakeLiveKitServer();
    const agent = await join(server, new FakeRtcRoom(server), 'agent', { kind: 'agent' });
    const user = await join(server, new FakeClientRoom(server), 'user');
    const args: unknown[][] = [];
    user.on(ClientEvent.DataReceived, (...rest) => args.push(rest));
    await agent.localParticipant!.publishData(bytes('r'), { reliable: true, topic: 't' });
    await agent.localParticipant!.publishData(bytes('l'), {});
    server.sendData(ROOM, bytes('s'));
    await server.settle();
    const p = user.remoteParticipants.get('agent');
    const { NONE } = Encryption_Type;
    expect(args).toEqual([
      [bytes('r'), p, DataPacket_Kind.RELIABLE, 't', NONE, 'agent'],
      [bytes('l'), p, DataPacket_Kind.LOSSY, undefined, NONE, 'agent'],
      [bytes('s'), undefined, DataPacket_Kind.RELIABLE, undefined, NONE, ''],
    ]);
    expect(p?.isAgent).toBe(true);
  });

  it('talks to an rtc-node room both ways, camelCase options optional', async () => {
    const server = new FakeLiveKitServer();
    const agent = await join(server, new FakeRtcRoom(server), 'agent');
    const user = await join(server, new FakeClientRoom(server), 'user');
    const got = rtcInbox(agent);
    const texts: Promise<string>[] = [];
    user.registerTextStreamHandler('t', (reader) => texts.push(reader.readAll()));
    await user.localParticipant.publishData(bytes('hello'), {
      reliable: true,
      destinationIdentities: ['agent'],
    });
    await agent.localParticipant!.sendText('reply', { topic: 't' });
    await server.settle();
    expect(got).toEqual([['hello', 'user', DataPacketKind.KIND_RELIABLE, undefined]]);
    expect(await Promise.all(texts)).toEqual(['reply']);
    expect(server.largestPacketBytes).toBe(5);
  });

  it('Disconnected(reason) and ParticipantDisconnected(participant, reason); map cleared', async () => {
    const server = new FakeLiveKitServer();
    const user = await join(server, new FakeClientRoom(server), 'user');
    const other = await join(server, new FakeClientRoom(server), 'other');
    await server.settle();
    const left: [string, ClientDisconnectReason][] = [];
    user.on(ClientEvent.ParticipantDisconnected, (p, r) => left.push([p.identity, r]));
    const reasons: (ClientDisconnectReason | undefined)[] = [];
    other.on(ClientEvent.Disconnected, (r) => reasons.push(r));
    server.removeParticipant(ROOM, 'other');
    await server.settle();
    expect(left).toEqual([['other', ClientDisconnectReason.PARTICIPANT_REMOVED]]);
    expect(reasons).toEqual([ClientDisconnectReason.PARTICIPANT_REMOVED]);
    await user.disconnect();
    expect(user.remoteParticipants.size).toBe(0);
    expect(user.listenerCount(ClientEvent.ParticipantDisconnected)).toBe(1);
    await expect(user.localParticipant.publishData(bytes('x'))).resolves.toBeUndefined();
  });

  it('emits nothing after Disconnected, even for packets already in flight', async () => {
    const server = new FakeLiveKitServer();
    const agent = await join(server, new FakeRtcRoom(server), 'agent');
    const user = await join(server, new FakeClientRoom(server), 'user');
    const events: string[] = [];
    user.on(ClientEvent.DataReceived, () => events.push('data'));
    user.on(ClientEvent.Disconnected, () => events.push('disconnected'));
    const sent = agent.localParticipant!.publishData(bytes('x'), { reliable: true });
    await user.disconnect();
    await sent;
    await server.settle();
    expect(events).toEqual(['disconnected']);
  });

  it('fails readers with a DataStreamError when the sender leaves mid-stream', async () => {
    const server = new FakeLiveKitServer();
    const sender = await join(server, new FakeRtcRoom(server), 'sender');
    const user = await join(server, new FakeClientRoom(server), 'user');
    let all: Promise<string> | undefined;
    user.registerTextStreamHandler('t', (reader) => {
      all = reader.readAll();
      server.removeParticipant(ROOM, 'sender');
    });
    await sender.localParticipant!.sendText('x'.repeat(150_000), { topic: 't' }).catch(() => null);
    await server.settle();
    await expect(all).rejects.toThrow(DataStreamError);
  });

  it('rejects an unknown URL with a ConnectionError', async () => {
    const server = new FakeLiveKitServer({ connectFailureDelayMs: 0 });
    const room = new FakeClientRoom(server);
    const token = await server.createToken({ identity: 'u', room: ROOM });
    await expect(room.connect('ws://elsewhere.test', token)).rejects.toThrow(ConnectionError);
  });
});
