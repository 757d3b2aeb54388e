/**
 * One shape for both LiveKit SDKs (rtc-node for the agent and for Node providers, livekit-client
 * for browsers), so the channel logic is written once. Each adapter is a thin translation.
 */
import type { PeerInfo } from '../../src/channel.js';

export interface RoomPortListeners {
  /** A data packet; `sender` is undefined when the server sent it (no participant). */
  data(payload: Uint8Array, sender: PeerInfo | undefined, topic: string | undefined): void;
  /** A complete text stream on the channel's stream topic. */
  text(text: Promise<string>, sender: PeerInfo | undefined): void;
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
