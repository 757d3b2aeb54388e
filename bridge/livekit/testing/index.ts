/**
 * Test doubles of LiveKit for code that cannot reach a LiveKit server: an in-process server
 * (`FakeLiveKitServer`) and rooms in the two SDKs' flavours (`FakeRtcRoom` for `@livekit/rtc-node`,
 * `FakeClientRoom` for `livekit-client`) that connect to it with real access tokens.
 *
 * ```ts
 * const server = new FakeLiveKitServer();
 * const agent = new FakeRtcRoom(server);
 * await agent.connect(server.url, await server.createToken({ identity: 'agent', room: 'r', kind: 'agent' }));
 * const browser = new FakeClientRoom(server);
 * await browser.connect(server.url, await server.createToken({ identity: 'user', room: 'r' }));
 * await browser.localParticipant.publishData(bytes, { reliable: true, topic: 't' });
 * await server.settle(); // every pending delivery done
 * ```
 */
export { FakeLiveKitServer, type FakeLiveKitServerOptions } from './fake-sfu.js';
export type { FakeTokenOptions } from './fake-sfu-tokens.js';
export {
  DEFAULT_MAX_PACKET_BYTES,
  FakeConnectError,
  PacketTooLargeError,
  STREAM_CHUNK_BYTES,
  type FakeDisconnectReason,
  type FakeParticipantInfo,
} from './fake-protocol.js';
export { FakeTextStreamReader, type FakeTextStreamHandler } from './fake-text-stream.js';
export {
  FakeRtcLocalParticipant,
  FakeRtcRemoteParticipant,
  FakeRtcRoom,
  dispose,
  type FakeRtcRoomEvents,
} from './fake-rtc-room.js';
export {
  FakeClientLocalParticipant,
  FakeClientRemoteParticipant,
  FakeClientRoom,
  type FakeClientRoomEvents,
} from './fake-client-room.js';
