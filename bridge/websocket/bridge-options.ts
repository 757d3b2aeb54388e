/** What an application configures on the embedded WebSocket bridge (`WebSocketBridge`). */
import type { Logger, Timers } from '../../src/seam.js';
import type { ProviderPolicyOption } from '../livekit/policy.js';
import type { OriginPolicy } from './auth.js';

export interface WebSocketBridgeOptions {
  /** Key and secret that sign providers' access tokens (as livekit-server-sdk mints them). */
  apiKey: string;
  apiSecret: string;
  /** Tokens must grant joining this room. Default `toolproxy`. */
  room?: string;
  /** The proxy's identity, as providers address it. Default `toolproxy`. */
  identity?: string;
  /** Upgrade requests to this path are the bridge's. Default `/bridge`. */
  path?: string;
  /**
   * Browser origins allowed to connect. Default: http(s) pages served from the host the request
   * was sent to. Requests without an `Origin` header (programs, not pages) are always allowed.
   */
  allowedOrigins?: OriginPolicy;
  /**
   * Who may offer tools, as in a LiveKit room: by default only holders of a token with the
   * attribute `toolproxy.provider=true` (what `mintProviderToken` and `toolproxy token` mint);
   * others may connect, but their registrations are refused (`not-allowed`).
   */
  providers?: ProviderPolicyOption;
  /** Largest frame either way, in bytes of UTF-8. Default 1 MiB. */
  maxFrameBytes?: number;
  /** A provider that has not answered the previous ping by the next one is dropped. Default 5,000 ms. */
  pingIntervalMs?: number;
  logger?: Logger;
  timers?: Timers;
}
