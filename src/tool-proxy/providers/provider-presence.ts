/**
 * What the proxy does as providers come and go: a provider that leaves (or, on transports that
 * learn of a crash late, stops answering pings) takes its calls and tools with it; a lost channel
 * takes everyone's; a resumed one cancels the calls whose frames may be lost and greets providers
 * so they register again, as does a joiner whose first frames may be lost.
 */
import type { CallLimits } from '../calls/call-limits.js';
import type { CallRunner } from '../calls/call-runner.js';
import { type LivenessOptions, ProviderLiveness } from '../calls/liveness.js';
import { cancelledError, providerGoneError, providerUnresponsiveError } from '../calls/messages.js';
import type { PeerInfo } from '../../shared/channel.js';
import type { ProviderLimits } from '../limits/provider-limits.js';
import type { Logger } from '../../shared/logger.js';
import { type OutboundProxyFrame, PROTOCOL_VERSION } from '../../protocol/frames.js';
import type { LinkEvents, ProviderLink } from './provider-link.js';
import type { ToolRegistry } from '../registry/registry.js';
import type { Timers } from '../../shared/timers.js';

export interface PresenceDeps {
  readonly link: ProviderLink;
  readonly calls: CallRunner;
  readonly registry: ToolRegistry;
  readonly providerLimits: ProviderLimits;
  readonly limits: CallLimits;
  readonly timers: Timers;
  readonly logger: Logger;
  /** Whether the proxy is closed (a channel closing then is expected). */
  closed(): boolean;
}

export class ProviderPresence {
  readonly #deps: PresenceDeps;
  readonly liveness: ProviderLiveness | undefined;

  constructor(deps: PresenceDeps, liveness: LivenessOptions | false = {}) {
    this.#deps = deps;
    this.liveness = liveness === false ? undefined : this.#probe(liveness);
  }

  /** The link's events, but for frames. */
  events(): Omit<LinkEvents, 'frame'> {
    return {
      providerJoined: (peer) => this.#joined(peer),
      providerLeft: (peer) => this.#left(peer.identity),
      connected: (info) => this.#connected(info?.resumed === true),
      closed: (error) => this.#channelClosed(error),
    };
  }

  #left(provider: string): void {
    const { calls, registry, providerLimits } = this.#deps;
    const pending = calls.table.forProvider(provider);
    if (pending.length > 0)
      calls.life.settleAll(pending, 'provider-gone', providerGoneError(provider));
    registry.removeProvider(provider);
    providerLimits.forget(provider);
    this.liveness?.forget(provider);
  }

  #probe(options: LivenessOptions): ProviderLiveness {
    const { link, calls, registry, timers, logger } = this.#deps;
    return new ProviderLiveness(
      {
        timers,
        busy: () => calls.table.providers(),
        ping: (provider, timeoutMs) =>
          link.reply(provider, { type: 'agent:ping', timeout_ms: timeoutMs }),
        unresponsive: (provider, silentMs) => {
          logger.warn({ provider, silentMs }, 'provider stopped answering: its calls fail');
          const error = providerUnresponsiveError(provider, silentMs);
          calls.life.settleAll(calls.table.forProvider(provider), 'provider-gone', error);
          registry.removeProvider(provider);
        },
        revived: (provider) => link.reply(provider, this.#hello()),
      },
      options,
    );
  }

  #channelClosed(error: Error | undefined): void {
    if (this.#deps.closed()) return;
    const { calls, registry, providerLimits, logger } = this.#deps;
    logger.warn({ error: error?.message }, 'channel closed: every pending call fails');
    calls.life.settleAll(calls.table.all(), 'provider-gone', providerGoneError('*', true));
    for (const tool of [...registry.list()]) registry.removeProvider(tool.provider);
    providerLimits.clear();
  }

  /**
   * On a resumed connection, frames of pending calls may have been lost either way: each such call
   * is cancelled honestly (its provider told to stop) rather than left to hang. Then providers are
   * greeted so they re-register.
   */
  #connected(resumed: boolean): void {
    const { calls, link, logger } = this.#deps;
    if (resumed) {
      const error = cancelledError('connection-interrupted');
      const { scoped, unscoped } = calls.sessions.cancel(undefined, error, false);
      if (scoped + unscoped > 0)
        logger.info({ cancelled: scoped + unscoped }, 'calls cancelled: connection resumed');
    }
    link.hello(this.#hello());
  }

  /**
   * A joiner whose first frames (its registrations) may have been lost (see `framesLost`) is
   * greeted, so it sends them again.
   */
  #joined(peer: PeerInfo): void {
    if (peer.framesLost !== true || peer.mayProvide === false) return;
    this.#deps.link.reply(peer.identity, this.#hello());
  }

  #hello(): OutboundProxyFrame {
    const { limits } = this.#deps;
    return {
      type: 'agent:hello',
      protocol_version: PROTOCOL_VERSION,
      default_timeout_ms: limits.defaultMs,
      max_tool_timeout_ms: limits.maxToolMs,
    };
  }
}
