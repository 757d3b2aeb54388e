/**
 * One shape for both LiveKit SDKs (rtc-node for the agent and for Node providers, livekit-client
 * for browsers), so the channel logic is written once. Each adapter is a thin translation.
 */
import type { PeerInfo } from '../../src/seam.js';

export interface RoomPortListeners {
  /** A data packet; `sender` is undefined when the server sent it (no participant). */
  data(payload: Uint8Array, sender: PeerInfo | undefined, topic: string | undefined): void;
  /**
   * A text stream on the channel's stream topic: `read(maxChars)` resolves with its text, or
   * undefined once it grows past `maxChars` (then the rest is never read) or is cut short.
   */
  text(read: (maxChars: number) => Promise<string | undefined>, sender: PeerInfo | undefined): void;
  joined(peer: PeerInfo): void;
  left(peer: PeerInfo): void;
  disconnected(reason: string): void;
  reconnecting(): void;
  reconnected(): void;
}

export interface RoomPort {
  /** This participant's identity ('' before the room is connected). */
  localIdentity(): string;
  /** Remote participants present now. */
  peers(): PeerInfo[];
  /** A reliable data packet to one participant; `topic` undefined means no topic. */
  publish(payload: Uint8Array, to: string, topic: string | undefined): Promise<void>;
  /** A text stream to one participant. */
  sendText(text: string, to: string, topic: string): Promise<void>;
  /** Starts listening; the returned function stops (removes every listener and the stream handler). */
  listen(listeners: RoomPortListeners, streamTopic: string): () => void;
}

/** What a provider policy sees of a participant, and its verdict. */
export type ProviderPolicy = (peer: PeerInfo) => boolean;

/** Builds the PeerInfo the core sees, with the provider policy's verdict attached. */
export function peerInfo(
  identity: string,
  isAgent: boolean,
  attributes: Readonly<Record<string, string>>,
  policy: ProviderPolicy | undefined,
): PeerInfo {
  const peer: PeerInfo = { identity, isAgent, attributes: { ...attributes } };
  return policy === undefined ? peer : { ...peer, mayProvide: policy(peer) };
}

/**
 * The room events both LiveKit SDKs emit under the same names, with the arguments the bridge reads.
 * Both SDKs' narrow room interfaces (rtc-room.ts, client-room.ts) fit it.
 */
export interface EventRoom<P extends { identity: string }> {
  readonly remoteParticipants: ReadonlyMap<string, P>;
  on(
    event: 'dataReceived',
    listener: (payload: Uint8Array, participant?: P, kind?: number, topic?: string) => void,
  ): unknown;
  on(
    event: 'participantConnected' | 'participantDisconnected',
    listener: (participant: P) => void,
  ): unknown;
  on(event: 'disconnected', listener: (reason?: number) => void): unknown;
  on(event: 'reconnecting' | 'reconnected', listener: () => void): unknown;
  off(
    event: 'dataReceived',
    listener: (payload: Uint8Array, participant?: P, kind?: number, topic?: string) => void,
  ): unknown;
  off(
    event: 'participantConnected' | 'participantDisconnected',
    listener: (participant: P) => void,
  ): unknown;
  off(event: 'disconnected', listener: (reason?: number) => void): unknown;
  off(event: 'reconnecting' | 'reconnected', listener: () => void): unknown;
  registerTextStreamHandler(
    topic: string,
    handler: (reader: AsyncIterable<string>, participant: { identity: string }) => void,
  ): void;
  unregisterTextStreamHandler(topic: string): void;
}

/** Subscribes `listeners` to a room of either SDK; returns the function that unsubscribes everything. */
export function listenToRoom<P extends { identity: string }>(
  room: EventRoom<P>,
  listeners: RoomPortListeners,
  streamTopic: string,
  toPeer: (participant: P) => PeerInfo,
  describeReason: (reason: number | undefined) => string,
): () => void {
  const onData = (payload: Uint8Array, participant?: P, _kind?: number, topic?: string) =>
    listeners.data(payload, participant === undefined ? undefined : toPeer(participant), topic);
  const onJoined = (participant: P) => listeners.joined(toPeer(participant));
  const onLeft = (participant: P) => listeners.left(toPeer(participant));
  const onDisconnected = (reason?: number) => listeners.disconnected(describeReason(reason));
  const onReconnecting = () => listeners.reconnecting();
  const onReconnected = () => listeners.reconnected();
  room.on('dataReceived', onData);
  room.on('participantConnected', onJoined);
  room.on('participantDisconnected', onLeft);
  room.on('disconnected', onDisconnected);
  room.on('reconnecting', onReconnecting);
  room.on('reconnected', onReconnected);
  room.registerTextStreamHandler(streamTopic, (reader, { identity }) => {
    const sender = room.remoteParticipants.get(identity);
    listeners.text(
      (maxChars) => readCapped(reader, maxChars),
      sender === undefined ? undefined : toPeer(sender),
    );
  });
  return () => {
    room.off('dataReceived', onData);
    room.off('participantConnected', onJoined);
    room.off('participantDisconnected', onLeft);
    room.off('disconnected', onDisconnected);
    room.off('reconnecting', onReconnecting);
    room.off('reconnected', onReconnected);
    room.unregisterTextStreamHandler(streamTopic);
  };
}

/**
 * Reads a text stream chunk by chunk, giving up as soon as it is longer than `maxChars`: any
 * participant can send a stream, and reading it whole first would let one hold as much memory as
 * it cares to send. Leaving the loop early closes the reader (both SDKs), so the rest is dropped.
 */
export async function readCapped(
  reader: AsyncIterable<string>,
  maxChars: number,
): Promise<string | undefined> {
  let text = '';
  try {
    for await (const chunk of reader) {
      text += chunk;
      if (text.length > maxChars) return undefined;
    }
  } catch {
    return undefined; // cut short: the sender left, or the room closed
  }
  return text;
}
