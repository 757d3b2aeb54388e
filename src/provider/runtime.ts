/**
 * The provider side (browser-safe: no Node built-ins). Registers its tools with every proxy it
 * sees, once per connection, retrying the ones refused as `rate-limited` (registrations.ts); runs
 * calls with an AbortSignal, and stops a handler the moment the proxy cancels or times the call
 * out (incoming-calls.ts). It sends nothing for a call the proxy already gave up on, and runs none
 * that reached it after the proxy may have (proxy-clock.ts).
 */
import type { ChannelHandlers, ConnectedInfo, PeerInfo, ToolChannel } from '../shared/channel.js';
import { describeUnknown } from '../shared/errors.js';
import { HookBus } from '../shared/bus.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { DEFAULT_MAX_FRAME_CHARS, decodeFrame, encodeFrame } from '../protocol/codec.js';
import {
  type OutboundProviderFrame,
  type ProxyFrame,
  ProxyFrameSchemas,
} from '../protocol/frames.js';
import { systemTimers, type Timers } from '../shared/timers.js';
import { cancelledByProxy, timedOutByProxy } from './answers.js';
import { IncomingCalls } from './incoming-calls.js';
import { type ToolDefinition, toRegistration } from './define-tool.js';
import type { ProviderEvents, ToolProviderOptions } from './provider-options.js';
import { ProxyClock } from './proxy-clock.js';
import { ProxyWatch } from './proxy-watch.js';
import { Registrations } from './registrations.js';
import { withdrawTools } from './withdraw.js';

export type { ProviderEvents, ToolProviderOptions } from './provider-options.js';

type Frame<T extends ProxyFrame['type']> = Extract<ProxyFrame, { type: T }>;

/**
 * Where a provider is in its life, as one field so no two flags can disagree. Only `connecting`
 * and `open` hold a channel, and frames go out only through it: a channel may report peers and
 * frames before its `start` settles, and one whose `start` failed stays held (`close()` still
 * closes it). Withdrawing the tools while `closing` goes straight to the channel. As before,
 * `connect()` is refused only while a channel is held.
 */
type Lifecycle =
  | { readonly state: 'idle' }
  | { readonly state: 'connecting' | 'open'; readonly channel: ToolChannel }
  | { readonly state: 'closing' | 'closed' };

export class ToolProvider {
  readonly events: HookBus<ProviderEvents>;
  readonly #registrations: Registrations;
  readonly #isProxy: (peer: PeerInfo) => boolean;
  readonly #logger: Logger;
  readonly #proxies = new Set<string>();
  readonly #calls: IncomingCalls;
  readonly #watch: ProxyWatch;
  readonly #timers: Timers;
  readonly #clock: ProxyClock;
  #life: Lifecycle = { state: 'idle' };

  constructor(options: ToolProviderOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.events = new HookBus<ProviderEvents>(this.#logger);
    this.#isProxy = options.isProxy ?? ((peer) => peer.isAgent === true);
    // Registration frames, built once (z.toJSONSchema is not free).
    const frames = new Map<string, OutboundProviderFrame>();
    const tools = new Map<string, ToolDefinition>();
    for (const tool of options.tools) {
      // Throws INVALID_TOOL here, at construction, for a tool that cannot be registered.
      frames.set(tool.name, { type: 'client:tool-register', ...toRegistration(tool) });
      tools.set(tool.name, tool);
    }
    const send = (proxy: string, frame: OutboundProviderFrame) =>
      this.#guard(() => this.#send(proxy, frame));
    const timers = options.timers ?? systemTimers;
    this.#timers = timers;
    this.#clock = new ProxyClock(() => timers.now());
    this.#registrations = new Registrations(frames, timers, send);
    this.#calls = new IncomingCalls({
      tools,
      events: this.events,
      logger: this.#logger,
      maxFrameChars: options.maxFrameChars ?? DEFAULT_MAX_FRAME_CHARS,
      callStarted: (proxy) => this.#watch.callStarted(proxy),
      send: (to, frame) => this.#send(to, frame),
      sendText: (to, text, type) => this.#sendText(to, text, type),
    });
    this.#watch = new ProxyWatch({
      timers,
      running: (proxy) => this.#calls.runningFor(proxy),
      silent: (proxy, silentMs) => this.#calls.proxySilent(proxy, silentMs),
    });
  }

  async connect(channel: ToolChannel): Promise<void> {
    if (this.#channel !== undefined) throw new Error('ToolProvider.connect: already connected');
    const connecting: Lifecycle = { state: 'connecting', channel };
    this.#life = connecting;
    await channel.start(this.#handlers());
    // Unless closed (or closed and connected again) meanwhile.
    if (this.#life === connecting) this.#life = { state: 'open', channel };
  }

  /** Handlers running now. */
  get runningCalls(): number {
    return this.#calls.size;
  }

  /**
   * Aborts running handlers, withdraws the tools from every proxy (a LiveKit room reports a leave
   * up to 3 s late: this ends the callers' wait at once), stops registration retries and closes the
   * channel.
   */
  async close(): Promise<void> {
    this.#calls.abortAll('the provider is closing');
    this.#registrations.clear();
    this.#watch.clear();
    const channel = this.#channel;
    if (this.#life.state === 'closing') return; // the first close() finishes the work
    const closing: Lifecycle = { state: 'closing' };
    this.#life = closing;
    try {
      if (channel !== undefined) await withdrawTools(channel, this.#proxies, this.#timers);
      await channel?.close();
    } finally {
      if (this.#life === closing) this.#life = { state: 'closed' };
    }
  }

  /** The channel frames go out through: held while `connecting` or `open` only. */
  get #channel(): ToolChannel | undefined {
    const life = this.#life;
    return life.state === 'connecting' || life.state === 'open' ? life.channel : undefined;
  }

  #handlers(): ChannelHandlers {
    return {
      onFrame: (from, text) => this.#guard(() => this.#onFrame(from, text)),
      onPeerJoined: (peer) => this.#guard(() => this.#proxyAppeared(peer)),
      onPeerLeft: (peer) => this.#guard(() => this.#proxyLeft(peer.identity)),
      onConnected: (info) => this.#guard(() => this.#connected(info)),
      onClosed: () =>
        this.#guard(() => {
          this.#registrations.clear();
          this.#watch.clear();
          this.#calls.abortAll('the connection to the proxy was lost');
        }),
    };
  }

  /**
   * Proxies present get our tools, unless they did in this connection (a channel may report one
   * joining just before being connected); after a resume, which may have lost frames, all again.
   */
  #connected(info: ConnectedInfo | undefined): void {
    if (info?.resumed === true) this.#registrations.clear();
    for (const peer of this.#channel?.peers() ?? []) this.#proxyAppeared(peer);
  }

  #proxyAppeared(peer: PeerInfo): void {
    if (!this.#isProxy(peer)) return;
    this.#proxies.add(peer.identity);
    this.#registrations.open(peer.identity);
  }

  #proxyLeft(identity: string): void {
    this.#registrations.forget(identity);
    this.#watch.forget(identity);
    this.#clock.forget(identity);
    if (!this.#proxies.delete(identity)) return;
    this.#calls.abortAll('the proxy left', identity);
  }

  #onFrame(from: PeerInfo, text: string): void {
    if (!this.#proxies.has(from.identity) && !this.#isProxy(from)) return; // only proxies may call
    const decoded = decodeFrame(text, ProxyFrameSchemas);
    if (!decoded.ok) {
      if (decoded.problem === 'too-deep') this.#calls.refuseDeep(from.identity, text);
      this.#logger.debug(
        { from: from.identity, problem: decoded.problem, error: decoded.error },
        'frame ignored',
      );
      return;
    }
    const frame = decoded.frame;
    const proxy = from.identity;
    this.#watch.heard(proxy);
    const ageMs = this.#clock.observe(proxy, 'sent_at_ms' in frame ? frame.sent_at_ms : undefined);
    switch (frame.type) {
      case 'agent:ping':
        this.#proxies.add(proxy);
        this.#watch.pinged(proxy, frame.timeout_ms);
        this.#send(proxy, { type: 'client:pong' });
        return;
      case 'agent:hello':
        this.#proxies.add(proxy);
        // A proxy greets after it started over (joined, rejoined, resumed): it waits for none of
        // the calls it sent before, so any still running here would run for no one.
        this.#calls.abortAll(
          'the proxy started over (agent:hello) and no longer waits for it',
          proxy,
        );
        this.#registrations.hello(proxy);
        return;
      case 'agent:tool-call':
        this.#calls.start(proxy, frame, ageMs);
        return;
      case 'agent:tool-call-cancelled':
        this.#calls.abort(proxy, frame.call_id, cancelledByProxy(frame));
        return;
      case 'agent:tool-call-timeout':
        this.#calls.abort(proxy, frame.call_id, timedOutByProxy(frame));
        return;
      case 'agent:tool-registered':
        this.#registrationAnswered(proxy, frame);
        return;
      case 'agent:tool-unregistered':
        return;
      case 'agent:rate-limited':
        this.#logger.warn({ proxy, limit: frame.limit, dropped: frame.dropped }, 'rate limited');
        this.events.emit('rate-limited', {
          proxy,
          limit: frame.limit,
          retryAfterMs: frame.retry_after_ms,
          detail: frame.detail,
        });
        return;
    }
  }

  #registrationAnswered(proxy: string, frame: Frame<'agent:tool-registered'>): void {
    const retryAfterMs = this.#registrations.answered(proxy, frame);
    if (frame.success) {
      this.events.emit('registered', {
        proxy,
        name: frame.name,
        exposedName: frame.exposed_name ?? frame.name,
      });
      return;
    }
    const { name: tool, reason, detail } = frame;
    // A refusal that will be retried is the budget working as meant: not worth a warning each.
    if (retryAfterMs === undefined)
      this.#logger.warn({ proxy, tool, reason, detail }, 'registration refused');
    else this.#logger.debug({ proxy, tool, reason, retryAfterMs }, 'registration to be retried');
    this.events.emit('registration-failed', { proxy, name: tool, reason, detail, retryAfterMs });
  }

  #send(to: string, frame: OutboundProviderFrame): void {
    let text: string;
    try {
      text = encodeFrame(frame);
    } catch (error) {
      this.#logger.warn(
        { to, type: frame.type, error: describeUnknown(error) },
        'frame not serialisable',
      );
      return;
    }
    this.#sendText(to, text, frame.type);
  }

  /** Hands text to the channel; a failure is logged, never thrown. */
  #sendText(to: string, text: string, type: string): void {
    const channel = this.#channel;
    if (channel === undefined) return;
    const failed = (error: unknown) =>
      this.#logger.warn({ to, type, error: describeUnknown(error) }, 'send failed');
    try {
      // A channel that hands over synchronously returns nothing: no promise per frame then.
      channel.send(to, text)?.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  #guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#logger.error({ error: describeUnknown(error) }, 'internal error in channel handler');
    }
  }
}
