/** What a ToolProvider is given, and the events it emits. */
import type { PeerInfo } from '../shared/channel.js';
import type { ToolProxyError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Timers } from '../shared/timers.js';
import type { ToolDefinition } from './define-tool.js';

export interface ProviderEvents {
  registered: { proxy: string; name: string; exposedName: string };
  'registration-failed': {
    proxy: string;
    name: string;
    reason: string | undefined;
    detail: string | undefined;
    /** Set when the tool will be sent again (a `rate-limited` refusal): in this many ms. */
    retryAfterMs: number | undefined;
  };
  'call:started': { proxy: string; callId: string; name: string };
  /** The proxy cancelled or timed out a running call; its handler's signal was aborted. */
  'call:aborted': { proxy: string; callId: string; name: string; reason: ToolProxyError };
  'call:finished': { proxy: string; callId: string; name: string; ok: boolean };
  /**
   * A call reached this provider later than the proxy vouched for it (`stale_after_ms`): it was
   * answered CALL_STALE and its handler never ran. `ageMs` is its age on the proxy's clock, as
   * estimated here (PROTOCOL.md section 3.5); `remainingMs`, what was left of its deadline then.
   */
  'call:stale': {
    proxy: string;
    callId: string;
    name: string;
    ageMs: number;
    staleAfterMs: number;
    remainingMs: number | undefined;
  };
  /** The proxy is dropping this provider's frames: send less (results are still taken). */
  'rate-limited': {
    proxy: string;
    limit: string;
    retryAfterMs: number;
    detail: string | undefined;
  };
}

export interface ToolProviderOptions {
  tools: readonly ToolDefinition[];
  /** Which peers are proxies to register with. Default: peers the transport marks as agents. */
  isProxy?: (peer: PeerInfo) => boolean;
  logger?: Logger;
  /** Largest frame the proxy accepts (its `maxFrameChars`). Default 1 MiB of text. */
  maxFrameChars?: number;
  /** The clock for registration retries and the proxy watch. Default: the global timers. */
  timers?: Timers;
}
