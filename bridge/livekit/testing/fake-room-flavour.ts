/** How one SDK's fake room turns the fake server's events into its own events, enums and errors. */
import type { FakeDisconnectReason, FakeParticipantInfo } from './fake-protocol.js';

export interface RoomFlavour<P> {
  participant(info: FakeParticipantInfo): P;
  /** After insertion into `remoteParticipants`. */
  joined(participant: P): void;
  /** After removal from `remoteParticipants`. */
  left(participant: P, reason: FakeDisconnectReason): void;
  data(
    payload: Uint8Array<ArrayBuffer>,
    participant: P | undefined,
    from: string | undefined,
    reliable: boolean,
    topic: string | undefined,
  ): void;
  reconnecting(): void;
  reconnected(): void;
  /** After readers failed and pending sends were cut short. */
  disconnected(reason: FakeDisconnectReason): void;
  /** Turns a server-side send error (`PacketTooLargeError`) into the SDK's. */
  sendError(error: Error): Error;
  duplicateHandlerError(topic: string): Error;
  /** Fails readers still open when the room disconnects. */
  readerDisconnectedError(): Error;
  /** Fails readers whose sender leaves mid-stream; undefined: they stay open (rtc-node). */
  readerSenderLeftError?(identity: string): Error;
  /** livekit-client clears `remoteParticipants` on disconnect; rtc-node keeps them. */
  readonly clearParticipantsOnDisconnect: boolean;
  /**
   * A send cut short by a disconnect, or made after one: 'abort' rejects with the DOMException
   * 'AbortError' (rtc-node), 'drop' resolves and sends nothing (livekit-client).
   */
  readonly sendsWhenDisconnected: 'abort' | 'drop';
}
