/**
 * What the bridge contract needs from a transport: a proxy channel and provider channels in one
 * room, a way for a provider to leave, and (where the transport has it) a resumed connection.
 */
import type { ToolChannel } from '../../src/index.js';

export interface BridgeWorld {
  readonly name: string;
  /** The proxy's channel, not started. */
  proxyChannel(): ToolChannel;
  /** The identity providers address the proxy by. */
  proxyIdentity(): string;
  /** A provider's channel, joined to the room and allowed to offer tools; not started. */
  providerChannel(identity: string): Promise<ToolChannel>;
  /** Another participant's channel (allowed too), for spoofing; not started. */
  strangerChannel(identity: string): Promise<ToolChannel>;
  /** Largest frame the bridge carries, in bytes of UTF-8. */
  readonly maxFrameBytes: number;
  /** The provider's connection drops: the proxy sees it leave. */
  dropProvider(identity: string): Promise<void>;
  /**
   * The proxy's connection is interrupted and resumes (frames in between may be lost). Absent when
   * the transport has no such thing (the WebSocket bridge is the server: it has no connection of
   * its own to resume); the contract's resume test is then skipped.
   */
  resumeProxy?(): Promise<void>;
  /** Lets queued deliveries happen. */
  settle(): Promise<void>;
  teardown(): Promise<void>;
}
