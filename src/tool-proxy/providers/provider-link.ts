/**
 * The proxy's side of a channel: who is present, sending frames (never throwing), best-effort
 * notices, and the hello that makes providers (re)register. Frames a provider dates calls by are
 * stamped with the proxy's clock as they are handed over (PROTOCOL.md section 3.5).
 */
import type {
  ChannelHandlers,
  ConnectedInfo,
  PeerInfo,
  ToolChannel,
} from '../../shared/channel.js';
import { describeUnknown } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { encodeFrame } from '../../protocol/codec.js';
import type { OutboundProxyFrame } from '../../protocol/frames.js';
import type { ProxyStats } from '../stats.js';
import type { Timers } from '../../shared/timers.js';

/** What the proxy does when the channel reports something; each is called inside a guard. */
export interface LinkEvents {
  frame(from: PeerInfo, text: string): void;
  providerJoined(peer: PeerInfo): void;
  providerLeft(peer: PeerInfo): void;
  connected(info: ConnectedInfo | undefined): void;
  closed(error: Error | undefined): void;
}

/** Stamped with `sent_at_ms`: the call itself, and frames that keep a provider's estimate fresh. */
const STAMPED: ReadonlySet<OutboundProxyFrame['type']> = new Set([
  'agent:hello',
  'agent:ping',
  'agent:tool-registered',
  'agent:tool-call',
]);

/**
 * Where the link is. `idle`: no channel (not started yet, or the transport closed under it; a new
 * start may follow). `open`: frames go out. `draining`: the proxy is closing and `close` waits for
 * the notices sent since (the channel may already be gone). `closed`: for good.
 */
type LinkState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'open'; readonly channel: ToolChannel }
  | {
      readonly kind: 'draining';
      readonly channel: ToolChannel | undefined;
      readonly notices: Promise<void>[];
    }
  | { readonly kind: 'closed' };

const IDLE: LinkState = { kind: 'idle' };

export class ProviderLink {
  readonly #peers = new Set<string>();
  readonly #logger: Logger;
  readonly #stats: ProxyStats;
  /** The proxy's clock (epoch ms), for `sent_at_ms`. */
  readonly #now: () => number;
  #state: LinkState = IDLE;

  constructor(logger: Logger, stats: ProxyStats, now: () => number = Date.now) {
    this.#logger = logger;
    this.#stats = stats;
    this.#now = now;
  }

  /** The channel frames go to now, if any. */
  get #channel(): ToolChannel | undefined {
    const state = this.#state;
    return state.kind === 'open' || state.kind === 'draining' ? state.channel : undefined;
  }

  async start(channel: ToolChannel, events: LinkEvents): Promise<void> {
    const { kind } = this.#state;
    if (kind !== 'idle')
      throw new Error(`ToolProxy.start: already ${kind === 'open' ? 'started' : 'closed'}`);
    this.#state = { kind: 'open', channel };
    await channel.start(this.#handlers(events));
    for (const peer of channel.peers()) this.#peers.add(peer.identity);
  }

  isPresent(identity: string): boolean {
    return this.#peers.has(identity);
  }

  /** Encodes and hands a frame to the channel; a failure is logged and becomes a rejection. */
  send(to: string, frame: OutboundProxyFrame): Promise<void> {
    return this.#handOver(to, frame) ?? Promise.resolve();
  }

  /** Sends and forgets (the failure is already logged). */
  reply(to: string, frame: OutboundProxyFrame): void {
    this.send(to, frame).catch(() => {});
  }

  /**
   * A cancel or timeout notice, already encoded: best effort, counted. A stop sends one per pending
   * call, so this costs one promise per notice at most, none when the channel hands over at once.
   */
  notice(to: string, type: OutboundProxyFrame['type'], text: string): void {
    const channel = this.#channel;
    let handed: Promise<void> | void;
    try {
      if (channel === undefined) throw new Error('not connected');
      handed = channel.send(to, text);
    } catch (error) {
      this.#noticeFailed(to, type, error);
      return;
    }
    if (handed === undefined) {
      this.#stats.notices.sent++;
      return;
    }
    const counted = handed.then(this.#noticeSent, (error: unknown) => {
      this.#noticeFailed(to, type, error);
    });
    if (this.#state.kind === 'draining') this.#state.notices.push(counted);
  }

  // Made once, not per notice.
  readonly #noticeSent = (): void => {
    this.#stats.notices.sent++;
  };

  #noticeFailed(to: string, type: string, error: unknown): void {
    this.#stats.notices.failed++;
    this.#logger.warn({ to, type, error: describeUnknown(error) }, 'send failed');
  }

  /**
   * Encodes `frame` and hands it to the channel: undefined when the channel took it synchronously.
   * Encoding is inside the guard: arguments nested past what JSON.stringify can recurse through
   * throw a RangeError, which must become this call's ARGUMENTS_UNSENDABLE, not escape into the caller.
   */
  #handOver(to: string, frame: OutboundProxyFrame): Promise<void> | undefined {
    const failed = (error: unknown): Promise<never> => {
      this.#logger.warn({ to, type: frame.type, error: describeUnknown(error) }, 'send failed');
      return Promise.reject(error instanceof Error ? error : new Error(describeUnknown(error)));
    };
    const channel = this.#channel;
    if (channel === undefined) return failed(new Error('not connected'));
    try {
      const stamped = STAMPED.has(frame.type) ? { ...frame, sent_at_ms: this.#now() } : frame;
      const handed = channel.send(to, encodeFrame(stamped));
      return handed === undefined ? undefined : handed.catch(failed);
    } catch (error) {
      return failed(error);
    }
  }

  /**
   * How much longer the transport would keep `identity` if it heard nothing more from it (the
   * WebSocket bridge's ping window); undefined when the transport cannot say.
   */
  silenceLeftMs(identity: string): number | undefined {
    return this.#channel?.silenceLeftMs?.(identity);
  }

  /** Tells every peer present that the proxy is (back) here. */
  hello(frame: OutboundProxyFrame): void {
    for (const peer of this.#channel?.peers() ?? []) {
      this.#peers.add(peer.identity);
      this.reply(peer.identity, frame);
    }
  }

  /** Starts collecting notices, so `close` can wait for the ones sent during shutdown. */
  beginDrain(): void {
    this.#state = { kind: 'draining', channel: this.#channel, notices: [] };
  }

  /** Waits up to `ms` for the drained notices, then closes the channel. */
  async close(ms: number, timers: Timers): Promise<void> {
    const state = this.#state;
    const pending = Promise.allSettled(state.kind === 'draining' ? state.notices : []);
    let timer: unknown;
    const limit = new Promise<void>((resolve) => {
      timer = timers.setTimeout(resolve, ms);
    });
    await Promise.race([pending, limit]);
    timers.clearTimeout(timer);
    const channel = this.#channel;
    this.#state = { kind: 'closed' };
    this.#peers.clear();
    await channel?.close();
  }

  #handlers(events: LinkEvents): ChannelHandlers {
    return {
      onFrame: (from, text) => this.#guard('frame', () => events.frame(from, text)),
      onPeerJoined: (peer) =>
        this.#guard('peer joined', () => {
          this.#peers.add(peer.identity);
          events.providerJoined(peer);
        }),
      onPeerLeft: (peer) =>
        this.#guard('peer left', () => {
          this.#peers.delete(peer.identity);
          events.providerLeft(peer);
        }),
      onConnected: (info) => this.#guard('connected', () => events.connected(info)),
      onClosed: (error) =>
        this.#guard('closed', () => {
          this.#peers.clear();
          const state = this.#state;
          if (state.kind === 'open') this.#state = IDLE;
          else if (state.kind === 'draining') this.#state = { ...state, channel: undefined };
          events.closed(error);
        }),
    };
  }

  /** Nothing from a transport's event may throw back into it. */
  #guard(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#logger.error(
        { what, error: describeUnknown(error) },
        'internal error in channel handler',
      );
    }
  }
}
