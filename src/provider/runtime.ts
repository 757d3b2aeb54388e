/**
 * The provider side (browser-safe: no Node built-ins). Registers its tools with every proxy it
 * sees, once per connection, retrying the ones refused as `rate-limited` (registrations.ts); runs
 * calls with an AbortSignal, and stops a handler the moment the proxy cancels or times the call
 * out. It sends nothing for a call the proxy already gave up on, and runs none that reached it after
 * the proxy may have (proxy-clock.ts).
 */
import type { ChannelHandlers, ConnectedInfo, PeerInfo, ToolChannel } from '../shared/channel.js';
import { describeUnknown, ErrorCode, ToolProxyError } from '../shared/errors.js';
import { HookBus } from '../shared/bus.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import {
  DEFAULT_MAX_FRAME_CHARS,
  decodeFrame,
  encodeFrame,
  formatIssues,
} from '../protocol/codec.js';
import {
  type OutboundProviderFrame,
  type ProxyFrame,
  ProxyFrameSchemas,
} from '../protocol/frames.js';
import { systemTimers, type Timers } from '../shared/timers.js';
import {
  type Answer,
  cancelledByProxy,
  DEEP_CALL_ERROR,
  deepCallId,
  encodeAnswer,
  runHandler,
  timedOutByProxy,
} from './answers.js';
import { type ToolDefinition, toRegistration } from './define-tool.js';
import type { ProviderEvents, ToolProviderOptions } from './provider-options.js';
import { callStaleMessage, ProxyClock, staleness } from './proxy-clock.js';
import { ProxyWatch } from './proxy-watch.js';
import { toolContext } from './tool-context.js';
import { Registrations } from './registrations.js';
import { type RunningCall, RunningCalls } from './running-calls.js';
import { withdrawTools } from './withdraw.js';

export type { ProviderEvents, ToolProviderOptions } from './provider-options.js';

type Frame<T extends ProxyFrame['type']> = Extract<ProxyFrame, { type: T }>;

export class ToolProvider {
  readonly events: HookBus<ProviderEvents>;
  readonly #tools = new Map<string, ToolDefinition>();
  readonly #registrations: Registrations;
  readonly #isProxy: (peer: PeerInfo) => boolean;
  readonly #logger: Logger;
  readonly #maxFrameChars: number;
  readonly #proxies = new Set<string>();
  readonly #running = new RunningCalls();
  readonly #watch: ProxyWatch;
  readonly #timers: Timers;
  readonly #clock: ProxyClock;
  #channel: ToolChannel | undefined;

  constructor(options: ToolProviderOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.#maxFrameChars = options.maxFrameChars ?? DEFAULT_MAX_FRAME_CHARS;
    this.events = new HookBus<ProviderEvents>(this.#logger);
    this.#isProxy = options.isProxy ?? ((peer) => peer.isAgent === true);
    // Registration frames, built once (z.toJSONSchema is not free).
    const frames = new Map<string, OutboundProviderFrame>();
    for (const tool of options.tools) {
      // Throws INVALID_TOOL here, at construction, for a tool that cannot be registered.
      frames.set(tool.name, { type: 'client:tool-register', ...toRegistration(tool) });
      this.#tools.set(tool.name, tool);
    }
    const send = (proxy: string, frame: OutboundProviderFrame) =>
      this.#guard(() => this.#send(proxy, frame));
    const timers = options.timers ?? systemTimers;
    this.#timers = timers;
    this.#clock = new ProxyClock(() => timers.now());
    this.#registrations = new Registrations(frames, timers, send);
    this.#watch = new ProxyWatch({
      timers,
      running: (proxy) => this.#running.list(proxy).length,
      silent: (proxy, silentMs) => this.#proxySilent(proxy, silentMs),
    });
  }

  async connect(channel: ToolChannel): Promise<void> {
    if (this.#channel !== undefined) throw new Error('ToolProvider.connect: already connected');
    this.#channel = channel;
    await channel.start(this.#handlers());
  }

  /** Handlers running now. */
  get runningCalls(): number {
    return this.#running.size;
  }

  /**
   * Aborts running handlers, withdraws the tools from every proxy (a LiveKit room reports a leave
   * up to 3 s late: this ends the callers' wait at once), stops registration retries and closes the
   * channel.
   */
  async close(): Promise<void> {
    this.#abortAll('the provider is closing');
    this.#registrations.clear();
    this.#watch.clear();
    const channel = this.#channel;
    this.#channel = undefined;
    if (channel !== undefined) await withdrawTools(channel, this.#proxies, this.#timers);
    await channel?.close();
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
          this.#abortAll('the connection to the proxy was lost');
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
    this.#abortAll('the proxy left', identity);
  }

  #onFrame(from: PeerInfo, text: string): void {
    if (!this.#proxies.has(from.identity) && !this.#isProxy(from)) return; // only proxies may call
    const decoded = decodeFrame(text, ProxyFrameSchemas);
    if (!decoded.ok) {
      if (decoded.problem === 'too-deep') this.#refuseDeepCall(from.identity, text);
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
        this.#abortAll('the proxy started over (agent:hello) and no longer waits for it', proxy);
        this.#registrations.hello(proxy);
        return;
      case 'agent:tool-call':
        this.#startCall(proxy, frame, ageMs);
        return;
      case 'agent:tool-call-cancelled':
        this.#abort(proxy, frame.call_id, cancelledByProxy(frame));
        return;
      case 'agent:tool-call-timeout':
        this.#abort(proxy, frame.call_id, timedOutByProxy(frame));
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

  #startCall(proxy: string, frame: Frame<'agent:tool-call'>, ageMs: number | undefined): void {
    const tool = this.#tools.get(frame.name);
    const call = this.#running.begin(proxy, frame.call_id, frame.name);
    if (call === undefined) return; // a repeated call frame: running or already ended
    const stale = staleness(ageMs, frame.stale_after_ms);
    if (stale !== undefined) {
      // The proxy may have failed this call already (and the agent retried): running it now could
      // do the action twice. Answered, for a proxy that still waits; it must not run.
      this.#running.end(call);
      const { call_id: callId, name, timeout_ms: timeoutMs } = frame;
      this.#logger.warn({ proxy, callId, name, ...stale }, 'call arrived stale: not run');
      this.#answer(call, { error: callStaleMessage(name, stale), code: ErrorCode.CallStale });
      const remainingMs = timeoutMs === undefined ? undefined : timeoutMs - stale.ageMs;
      this.events.emit('call:stale', { proxy, callId, name, ...stale, remainingMs });
      return;
    }
    this.#watch.callStarted(proxy);
    if (tool === undefined) {
      this.#running.end(call);
      this.#answer(call, { error: `unknown tool "${frame.name}"` });
      return;
    }
    void this.#execute(tool, call, frame.arguments).then((answer) => {
      this.#running.end(call);
      // The proxy gave up on an aborted call: it wants nothing more for it.
      if (!call.aborted) this.#answer(call, answer);
    });
  }

  /**
   * A call nested too deep to parse is still answered, from its head, so the agent learns why at
   * once instead of at its deadline. Nothing else about it is trusted: it never runs.
   */
  #refuseDeepCall(proxy: string, text: string): void {
    const callId = deepCallId(text);
    const call = callId === undefined ? undefined : this.#running.begin(proxy, callId, '');
    if (call === undefined) return;
    this.#running.end(call);
    this.#answer(call, { error: DEEP_CALL_ERROR });
  }

  /** Validates (async refinements and throwing transforms included), then runs the handler. */
  async #execute(tool: ToolDefinition, call: RunningCall, args: unknown): Promise<Answer> {
    let parsed: Awaited<ReturnType<ToolDefinition['input']['safeParseAsync']>>;
    try {
      parsed = await tool.input.safeParseAsync(args);
    } catch (error) {
      return { error: `invalid arguments: ${describeUnknown(error)}` };
    }
    if (!parsed.success)
      return { error: `invalid arguments: ${formatIssues(parsed.error.issues)}` };
    if (call.aborted) return { error: 'cancelled before it started' };
    const { proxy, callId, name } = call;
    this.events.emit('call:started', { proxy, callId, name });
    const answer = await runHandler(
      tool,
      parsed.data,
      toolContext(call, (to, frame) => this.#send(to, frame), this.#logger),
    );
    this.events.emit('call:finished', { proxy, callId, name, ok: answer.error === undefined });
    return answer;
  }

  /** Sends the one result of a call (see `encodeAnswer`). */
  #answer(call: RunningCall, answer: Answer): void {
    const text = encodeAnswer(call.callId, answer, this.#maxFrameChars);
    this.#sendText(call.proxy, text, 'client:tool-result');
  }

  #abort(proxy: string, callId: string, reason: ToolProxyError): void {
    const call = this.#running.abort(proxy, callId, reason);
    if (call !== undefined)
      this.events.emit('call:aborted', { proxy, callId, name: call.name, reason });
  }

  /**
   * The proxy went silent past its own timeout (crashed, or cut off): its calls stop, and each is
   * answered with an error, which a proxy that was only stalled gets when it comes back.
   */
  #proxySilent(proxy: string, silentMs: number): void {
    const detail = `nothing from the proxy for ${silentMs} ms`;
    this.#logger.warn({ proxy, silentMs }, 'proxy stopped answering: its calls are stopped');
    const reason = new ToolProxyError(ErrorCode.Cancelled, `The call was abandoned: ${detail}.`, {
      detail,
    });
    for (const call of this.#running.list(proxy)) {
      this.#abort(proxy, call.callId, reason);
      this.#answer(call, { error: `the provider stopped the call: ${detail}` });
    }
  }

  #abortAll(detail: string, proxy?: string): void {
    const reason = new ToolProxyError(ErrorCode.Cancelled, `The call was abandoned: ${detail}.`, {
      detail,
    });
    for (const call of this.#running.list(proxy)) this.#abort(call.proxy, call.callId, reason);
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
