/**
 * Ordering around joins on the real server, where toolproxy relies on it: reliable packets
 * addressed to an identity that is not in the room are dropped, not kept for its next join (the
 * server's 2 s replay serves a participant resuming its own session). So a call frame for a
 * provider that left never reaches its restarted process, whose calls the proxy already failed.
 */
import { dispose, Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, afterEach, expect, inject, it } from 'vitest';
import { mintAgentToken, mintProviderToken } from '../../bridge/livekit/index.js';

const server = inject('livekit');
/** Past the server's replay window for reliable packets (2 s). */
const REPLAY_WINDOW_MS = 2_500;
const rooms: Room[] = [];
const encode = (text: string) => new TextEncoder().encode(text);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  for (const room of rooms.splice(0)) await room.disconnect().catch(() => {});
});
afterAll(() => dispose());

async function join(room: string, identity: string, agent = false): Promise<Room> {
  const token = agent
    ? await mintAgentToken({ ...server, room, identity })
    : await mintProviderToken({ ...server, room, identity });
  const participant = new Room();
  await participant.connect(server.url, token, { autoSubscribe: false, dynacast: false });
  rooms.push(participant);
  return participant;
}

it('a packet to an identity that left reaches neither it nor its next connection', async () => {
  const room = `joins-${Date.now().toString(36)}`;
  const agent = await join(room, 'toolproxy-agent', true);
  const seen = new Promise<void>((resolve) =>
    agent.on(RoomEvent.ParticipantConnected, () => resolve()),
  );
  const first = await join(room, 'robot');
  await seen; // joins reach others late; its leave would not be reported before its join
  const delivered = new Promise<string>((resolve) =>
    first.on(RoomEvent.DataReceived, (payload) => resolve(new TextDecoder().decode(payload))),
  );
  const send = (text: string) =>
    agent.localParticipant!.publishData(encode(text), {
      reliable: true,
      destination_identities: ['robot'],
    });
  await send('while-present');
  expect(await delivered).toBe('while-present'); // the path works
  const left = new Promise<void>((resolve) =>
    agent.on(RoomEvent.ParticipantDisconnected, () => resolve()),
  );
  await first.disconnect();
  await left;
  await send('while-absent');
  const second = new Room();
  const late: string[] = [];
  second.on(RoomEvent.DataReceived, (payload) => late.push(new TextDecoder().decode(payload)));
  rooms.push(second);
  await second.connect(
    server.url,
    await mintProviderToken({ ...server, room, identity: 'robot' }),
    { autoSubscribe: false, dynacast: false },
  );
  await sleep(REPLAY_WINDOW_MS);
  expect(late).toEqual([]);
  await send('after-rejoin');
  await expect.poll(() => late, { timeout: 5_000, interval: 50 }).toEqual(['after-rejoin']);
}, 30_000);
