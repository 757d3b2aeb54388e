/**
 * The seam between the core and a transport (LiveKit, WebSocket, in-memory).
 * A channel is one participant's view of a room: it sends text frames to a peer by identity, and
 * delivers frames tagged with the sender's identity as the transport authenticated it (never as
 * the payload claims). Both the proxy and the provider runtime sit on this interface.
 */

export interface PeerInfo {
  /** Identity as the transport authenticated it (LiveKit participant identity, token subject). */
  readonly identity: string;
  /** True when the transport marks the peer as an agent (LiveKit participant kind AGENT). */
  readonly isAgent?: boolean;
  /** Attributes the transport vouches for (LiveKit: from the participant's token). */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * The transport's provider policy on this peer: false means it may not register tools. Undefined
   * when the transport has no opinion (the proxy's own registration policy still applies).
   */
  readonly mayProvide?: boolean;
  /**
   * On a join: frames from a sender the transport could not name arrived just before (a LiveKit
   * room delivers data and joins unordered, and data from a participant not yet known comes
   * without one). Some may have been this peer's, so the proxy greets it to have them sent again.
   */
  readonly framesLost?: boolean;
}

export interface ConnectedInfo {
  /**
   * The connection was interrupted and resumed (LiveKit's Reconnected): frames sent meanwhile may
   * have been lost, in either direction.
   */
  readonly resumed?: boolean;
}

export interface ChannelHandlers {
  /** A frame from `from`. Must not throw; the core's handlers never do. */
  onFrame(from: PeerInfo, text: string): void;
  onPeerJoined(peer: PeerInfo): void;
  onPeerLeft(peer: PeerInfo): void;
  /** This side joined (after `start`), rejoined after a lost connection, or resumed one. */
  onConnected(info?: ConnectedInfo): void;
  /** The channel is gone for good; `error` when it was not closed on purpose. */
  onClosed(error?: Error): void;
}

export interface ToolChannel {
  /** This side's own identity. */
  readonly identity: string;
  /** Wire up handlers and connect. Peers already present are reported by `peers()`. */
  start(handlers: ChannelHandlers): Promise<void>;
  /** Peers present now (LiveKit fires no join event for participants present at connect). */
  peers(): readonly PeerInfo[];
  /**
   * Hand one frame to the transport for `to`. Resolves when handed over, not when delivered;
   * rejects (or throws) if it could not be: with a `FrameTooLargeError` when the frame is over the
   * transport's maximum (the proxy then tells the caller to send less, not to retry).
   */
  send(to: string, text: string): Promise<void> | void;
  close(): Promise<void>;
  /**
   * True when the transport learns of a crashed peer late (LiveKit: when ICE gives up, about 20 s):
   * the proxy then pings providers with calls in flight itself (`agent:ping`).
   */
  readonly livenessProbes?: boolean;
  /**
   * How much longer the transport keeps `identity` present if nothing more comes from it (the
   * WebSocket bridge drops a peer that misses a ping). Calls sent to it carry no longer a
   * `stale_after_ms`; undefined when the transport cannot tell.
   */
  silenceLeftMs?(identity: string): number | undefined;
}

/**
 * A frame over a transport's maximum size. Sending it again cannot succeed; `code` lets a channel
 * that does not import this class say the same with any Error whose `code` is `FRAME_TOO_LARGE`.
 */
export class FrameTooLargeError extends Error {
  readonly code = 'FRAME_TOO_LARGE';
  readonly bytes: number;
  readonly maxBytes: number;

  constructor(bytes: number, maxBytes: number) {
    super(`frame of ${bytes} bytes exceeds the maximum of ${maxBytes} bytes`);
    this.name = 'FrameTooLargeError';
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}
