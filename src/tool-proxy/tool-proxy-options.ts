/** What a ToolProxy is built with: its own file, as the options gather from each part. */
import type { CallLimitOptions } from './calls/call-limits.js';
import type { LivenessOptions } from './calls/liveness.js';
import type { LimitOptions } from './limits/limit-options.js';
import type { RegistryOptions } from './registry/registry.js';
import type { Logger } from '../shared/logger.js';
import type { Timers } from '../shared/timers.js';

export interface ToolProxyOptions
  extends Omit<RegistryOptions, 'onChange'>, LimitOptions, CallLimitOptions {
  maxFrameChars?: number;
  /**
   * On transports that learn of a crashed provider late (LiveKit), the proxy pings providers with
   * calls in flight and gives up one that answers pings but goes silent. `false`: never.
   */
  liveness?: LivenessOptions | false;
  /**
   * How long after sending a call the proxy may give up on its provider, sent as the call's
   * `stale_after_ms`: a provider that gets the call later answers CALL_STALE without running it
   * (PROTOCOL.md section 3.5). Default: the liveness timeout (4,000 ms); a transport or the
   * liveness probe that can tell a provider's window is shorter narrows it per call. `false`: the
   * field is not sent.
   */
  staleCallMs?: number | false;
  timers?: Timers;
  logger?: Logger;
}
