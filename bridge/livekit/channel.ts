/**
 * A ToolChannel over a LiveKit room, for either side. Frames travel as reliable data packets
 * addressed to one participant; a frame too big for a packet (about 15 KiB) travels as a text
 * stream on the protocol topic; a frame over the configured maximum is refused whole.
 *
 * Topics, by default compatible with hermes-livekit v0.3: providers publish on `hermes-control`,
 * the proxy replies without a topic. Configure `topic` (and `replyTopic`) for new deployments.
 */
import {
  type ChannelHandlers,
  FrameTooLargeError,
  type PeerInfo,
  type ToolChannel,
} from '../../src/seam.js';
import type { RoomPort, RoomPortListeners } from './room-port.js';

export const DEFAULT_TOPIC = 'hermes-control';
/** LiveKit documents ≤ 15 KiB of user data per reliable packet; keep clear of it. */
export const DEFAULT_PACKET_LIMIT_BYTES = 15_000;
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;
/** A join this soon after an unattributable frame is marked `framesLost`. */
const SENDERLESS_WINDOW_MS = 5_000;

export interface LiveKitChannelOptions {
  /** Which side this channel is: the proxy (`agent`) or a tool provider. */
  role: 'agent' | 'provider';
  /** Topic providers publish on, and the topic of text streams both ways. Default `hermes-control`. */
  topic?: string;
  /** Topic the proxy replies on. Default: none (what hermes-livekit v0.3 clients read). */
  replyTopic?: string;
  packetLimitBytes?: number;
  maxFrameBytes?: number;
}

export class LiveKitChannel implements ToolChannel {
  readonly #port: RoomPort;
  readonly #role: 'agent' | 'provider';
  readonly #topic: string;
  readonly #replyTopic: string | undefined;
  readonly #packetLimit: number;
  readonly #maxFrame: number;
  readonly #encoder = new TextEncoder();
  /** When the last frame without a sender arrived (ms since the epoch). */
  #senderlessAt = Number.NEGATIVE_INFINITY;
  readonly #decoder = new TextDecoder();
  /** A participant's crash reaches the room only when ICE gives up (about 20 s). */
  readonly livenessProbes = true;
  #detach: (() => void) | undefined;

  constructor(port: RoomPort, options: LiveKitChannelOptions) {
    this.#port = port;
    this.#role = options.role;
    this.#topic = options.topic ?? DEFAULT_TOPIC;
    this.#replyTopic = options.replyTopic;
    this.#packetLimit = options.packetLimitBytes ?? DEFAULT_PACKET_LIMIT_BYTES;
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  get identity(): string {
    return this.#port.localIdentity();
  }

  /** Listens on a room that is already connected; reports it as connected. */
  start(handlers: ChannelHandlers): Promise<void> {
    if (this.#detach !== undefined)
      return Promise.reject(new Error('LiveKitChannel: already started'));
    this.#detach = this.#port.listen(this.#listeners(handlers), this.#topic);
    queueMicrotask(() => handlers.onConnected());
    return Promise.resolve();
  }

  peers(): readonly PeerInfo[] {
    return this.#port.peers();
  }

  async send(to: string, text: string): Promise<void> {
    const bytes = this.#encoder.encode(text);
    if (bytes.length > this.#maxFrame) {
      throw new FrameTooLargeError(bytes.length, this.#maxFrame);
    }
    if (bytes.length <= this.#packetLimit) {
      await this.#port.publish(bytes, to, this.#outboundTopic());
    } else {
      await this.#port.sendText(text, to, this.#topic);
    }
  }

  /** Stops listening. The room itself belongs to whoever created it. */
  close(): Promise<void> {
    this.#detach?.();
    this.#detach = undefined;
    return Promise.resolve();
  }

  #outboundTopic(): string | undefined {
    return this.#role === 'agent' ? this.#replyTopic : this.#topic;
  }

  /** Data on the topic this side reads: the protocol topic for the proxy, the reply topic for providers. */
  #accepts(topic: string | undefined): boolean {
    if (this.#role === 'agent') return topic === this.#topic;
    return (topic ?? '') === (this.#replyTopic ?? '');
  }

  #listeners(handlers: ChannelHandlers): RoomPortListeners {
    return {
      data: (payload, sender, topic) => {
        if (!this.#accepts(topic)) return;
        // No participant: sent by the server, or by a participant whose join has not reached us
        // yet (data and joins are not ordered). Either way it cannot be attributed: dropped, and
        // the next joiner is told its frames may have been lost.
        if (sender === undefined) {
          this.#senderlessAt = Date.now();
          return;
        }
        if (payload.length > this.#maxFrame) return;
        handlers.onFrame(sender, this.#decoder.decode(payload));
      },
      text: (read, sender) => {
        if (sender === undefined) {
          this.#senderlessAt = Date.now();
          return;
        }
        // Chars, not bytes, while reading (a char is at least one byte): a cheap bound that stops
        // a stream far past the limit early; the core checks frames against its own limit.
        void read(this.#maxFrame).then((whole) => {
          if (whole !== undefined) handlers.onFrame(sender, whole);
        });
      },
      joined: (peer) =>
        handlers.onPeerJoined(
          Date.now() - this.#senderlessAt <= SENDERLESS_WINDOW_MS
            ? { ...peer, framesLost: true }
            : peer,
        ),
      left: (peer) => handlers.onPeerLeft(peer),
      disconnected: (reason) =>
        handlers.onClosed(new Error(`disconnected from the LiveKit room (${reason})`)),
      reconnecting: () => {},
      reconnected: () => handlers.onConnected({ resumed: true }),
    };
  }
}
