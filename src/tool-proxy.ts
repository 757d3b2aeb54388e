/**
 * The agent side: tools registered by providers over a channel, called under a deadline, cancelled
 * at once when the agent loop stops. Wiring only; the parts live in calls/, registry/, hooks/ and
 * protocol/.
 */
import PCancelable from 'p-cancelable';
import { newCallId } from './call-id.js';
import { AbortFanIn } from './calls/abort-fan-in.js';
import { CallTable } from './calls/call-table.js';
import {
  cancelledError,
  invalidArgumentsError,
  providerGoneError,
  proxyClosedError,
  sendFailedError,
  toolNotFoundError,
  toolUnregisteredError,
} from './calls/messages.js';
import { PendingCall, type ProgressUpdate, type SettleListener } from './calls/pending-call.js';
import type { ChannelHandlers, PeerInfo, ToolChannel } from './channel.js';
import { type CancelReason, describeUnknown, ToolProxyError } from './errors.js';
import { HookBus } from './hooks/bus.js';
import type { HookEvents, ToolSummary } from './hooks/events.js';
import { type Logger, silentLogger } from './logger.js';
import { DEFAULT_MAX_FRAME_CHARS, encodeFrame } from './protocol/codec.js';
import { type OutboundProxyFrame, PROTOCOL_VERSION } from './protocol/frames.js';
import { handleProviderFrame, type InboundContext } from './proxy-inbound.js';
import {
  type RegisteredTool,
  type RegistryChange,
  type RegistryOptions,
  ToolRegistry,
} from './registry/registry.js';
import { emptyStats, type ProxyStats, snapshotStats } from './stats.js';
import { systemTimers, type Timers } from './timers.js';

export interface ToolProxyOptions extends Omit<RegistryOptions, 'onChange'> {
  /** Deadline of a call when neither the caller nor the tool says otherwise. Default 30,000 ms. */
  defaultTimeoutMs?: number;
  /** Upper bound on a provider-declared per-tool deadline. Default 120,000 ms. */
  maxToolTimeoutMs?: number;
  /** Hard cap on one call, however much progress pushes its deadline. Default 600,000 ms. */
  maxTotalTimeoutMs?: number;
  /** Progress from the provider restarts the idle deadline (up to the hard cap). Default true. */
  resetTimeoutOnProgress?: boolean;
  maxFrameChars?: number;
  timers?: Timers;
  logger?: Logger;
}

export interface CallOptions {
  /** Aborting it cancels the call (reason `caller-aborted`) and tells the provider. */
  signal?: AbortSignal;
  /** The agent session this call belongs to; a stop or reset of that session cancels it. */
  sessionKey?: string;
  /** This call's deadline, overriding the tool's and the default. */
  timeoutMs?: number;
  onProgress?: (update: ProgressUpdate) => void;
}

export interface ExposedTool extends ToolSummary {
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
}

export class ToolProxy {
  /** Lifecycle events in (`agent_loop_stopped`, `session:end`, ...), the proxy's own events out. */
  readonly hooks: HookBus<HookEvents>;
  readonly #registry: ToolRegistry;
  readonly #calls = new CallTable();
  readonly #signals = new AbortFanIn();
  readonly #stats = emptyStats();
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #limits: {
    defaultMs: number;
    maxToolMs: number;
    maxTotalMs: number;
    resetOnProgress: boolean;
  };
  readonly #inbound: InboundContext;
  readonly #peers = new Set<string>();
  #channel: ToolChannel | undefined;
  #closed = false;
  #closingNotices: Promise<void>[] | undefined;

  constructor(options: ToolProxyOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    this.hooks = new HookBus<HookEvents>(this.#logger);
    this.#registry = new ToolRegistry({
      ...options,
      onChange: (change) => this.#registryChanged(change),
    });
    this.#limits = {
      defaultMs: positive(options.defaultTimeoutMs, 30_000, 'defaultTimeoutMs'),
      maxToolMs: positive(options.maxToolTimeoutMs, 120_000, 'maxToolTimeoutMs'),
      maxTotalMs: positive(options.maxTotalTimeoutMs, 600_000, 'maxTotalTimeoutMs'),
      resetOnProgress: options.resetTimeoutOnProgress ?? true,
    };
    this.#inbound = {
      registry: this.#registry,
      calls: this.#calls,
      stats: this.#stats,
      logger: this.#logger,
      maxFrameChars: options.maxFrameChars ?? DEFAULT_MAX_FRAME_CHARS,
      reply: (to, frame) => void this.#send(to, frame).catch(() => {}),
      progressed: (call, update) =>
        this.hooks.emit('call:progress', { ...callInfo(call), ...update }),
    };
    // Subscribed first, so no user handler can run before (or delay) the cancellation.
    this.hooks.on('agent_loop_stopped', (event) =>
      this.cancelSession(
        event.session_key,
        'agent-loop-stopped',
        joinDetail(event.reason, event.invalidation_reason),
      ),
    );
    this.hooks.on('session:end', (event) =>
      this.cancelSession(event.session_key, 'session-ended', event.reason),
    );
    this.hooks.on('session:reset', (event) =>
      this.cancelSession(event.session_key, 'session-reset', event.reason),
    );
  }

  /** Connects to providers through `channel`; resolves once the channel is up. */
  async start(channel: ToolChannel): Promise<void> {
    if (this.#closed) throw proxyClosedError();
    if (this.#channel !== undefined) throw new Error('ToolProxy.start: already started');
    this.#channel = channel;
    await channel.start(this.#channelHandlers());
    for (const peer of channel.peers()) this.#peers.add(peer.identity);
  }

  /**
   * Calls a registered tool. Resolves with the provider's result; rejects with a ToolProxyError.
   * The returned promise is cancellable: `.cancel()` cancels the call like aborting `signal`.
   */
  call(
    name: string,
    args: Record<string, unknown> = {},
    options: CallOptions = {},
  ): PCancelable<unknown> {
    return new PCancelable<unknown>((resolve, reject, onCancel) => {
      onCancel.shouldReject = false;
      const call = this.#startCall(name, args, options, { resolve, reject });
      if (call !== undefined) {
        onCancel(() =>
          call.cancel('caller-aborted', cancelledError('caller-aborted', 'cancel() was called')),
        );
      }
    });
  }

  /**
   * Cancels, at once, the calls of `sessionKey` and the calls made without a session key; with no
   * key, every call. Each caller rejects synchronously; each provider is then told. Returns the count.
   */
  cancelSession(sessionKey: string | undefined, reason: CancelReason, detail?: string): number {
    const calls = this.#calls.forSession(sessionKey);
    if (calls.length === 0) return 0;
    const error = cancelledError(reason, detail);
    for (const call of calls) call.cancel(reason, error);
    this.#logger.info({ sessionKey, reason, detail, cancelled: calls.length }, 'calls cancelled');
    return calls.length;
  }

  /** The tools agents can call, in a stable order. */
  tools(): ExposedTool[] {
    return this.#registry.list().map((tool) => this.#expose(tool));
  }

  /**
   * Resolves when a tool named `name` is registered (at once if it is). Rejects with CANCELLED if
   * `signal` aborts first; the subscription is removed either way.
   */
  waitForTool(name: string, options: { signal?: AbortSignal } = {}): Promise<ExposedTool> {
    const present = this.getTool(name);
    if (present !== undefined) return Promise.resolve(present);
    const { signal } = options;
    if (signal?.aborted)
      return Promise.reject(cancelledError('caller-aborted', undefined, signal.reason));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        unsubscribe();
        reject(cancelledError('caller-aborted', undefined, signal?.reason));
      };
      const unsubscribe = this.hooks.on('tool:registered', ({ tool }) => {
        if (tool.name !== name) return;
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(this.getTool(name) as ExposedTool);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  getTool(name: string): ExposedTool | undefined {
    const tool = this.#registry.get(name);
    return tool === undefined ? undefined : this.#expose(tool);
  }

  get pendingCalls(): number {
    return this.#calls.size;
  }

  /** Caller signals the proxy listens to now (one listener each); zero when nothing is pending. */
  get watchedSignals(): number {
    return this.#signals.size;
  }

  stats(): ProxyStats {
    return snapshotStats(this.#stats);
  }

  /** Cancels every call (reason `proxy-shutting-down`), tells providers, closes the channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closingNotices = [];
    const calls = this.#calls.all();
    const error = cancelledError('proxy-shutting-down');
    for (const call of calls) call.cancel('proxy-shutting-down', error);
    await this.#settleWithin(Promise.allSettled(this.#closingNotices), 1_000);
    this.#closingNotices = undefined;
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.close();
  }

  #startCall(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
    settle: { resolve: (value: unknown) => void; reject: (error: unknown) => void },
  ): PendingCall | undefined {
    const refusal = this.#refuse(name, args, options);
    if (refusal instanceof ToolProxyError) {
      this.#stats.calls.rejectedBeforeSend++;
      settle.reject(refusal);
      return undefined;
    }
    const tool = refusal;
    const timeoutMs = this.#timeoutFor(tool, options.timeoutMs);
    const call = new PendingCall(
      {
        callId: this.#freshCallId(),
        tool,
        sessionKey: options.sessionKey,
        timeoutMs,
        maxTotalMs: Math.max(timeoutMs, this.#limits.maxTotalMs),
        resetOnProgress: this.#limits.resetOnProgress,
        onProgress: options.onProgress,
      },
      settle,
      this.#timers,
      this.#signals,
      this.#callSettled,
    );
    this.#calls.add(call);
    call.arm(options.signal);
    this.#stats.calls.started++;
    this.hooks.emit('call:started', { ...callInfo(call), timeoutMs });
    const frame: OutboundProxyFrame = {
      type: 'agent:tool-call',
      call_id: call.callId,
      name: tool.name,
      arguments: args,
      timeout_ms: timeoutMs,
    };
    this.#send(tool.provider, frame).catch((error: unknown) =>
      call.fail('send-failed', sendFailedError(tool.exposedName, call.callId, error)),
    );
    return call;
  }

  /** The tool to call, or why the call cannot start (nothing is sent then). */
  #refuse(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
  ): RegisteredTool | ToolProxyError {
    if (this.#closed) return proxyClosedError();
    const tool = this.#registry.get(name);
    if (tool === undefined)
      return toolNotFoundError(
        name,
        this.#registry.list().map((t) => t.exposedName),
      );
    if (options.signal?.aborted) {
      return cancelledError('caller-aborted', undefined, options.signal.reason);
    }
    const check = tool.validator.check(args);
    return check.ok ? tool : invalidArgumentsError(name, check.problems);
  }

  #timeoutFor(tool: RegisteredTool, perCall: number | undefined): number {
    if (perCall !== undefined) return positive(perCall, this.#limits.defaultMs, 'timeoutMs');
    if (tool.timeoutMs !== undefined) return Math.min(tool.timeoutMs, this.#limits.maxToolMs);
    return this.#limits.defaultMs;
  }

  #freshCallId(): string {
    let id = newCallId();
    while (this.#calls.has(id)) id = newCallId();
    return id;
  }

  readonly #callSettled: SettleListener = (call, outcome, error) => {
    this.#calls.remove(call, outcome);
    this.#stats.calls.settled[outcome]++;
    this.hooks.emit('call:settled', {
      ...callInfo(call),
      outcome,
      durationMs: this.#timers.now() - call.startedAt,
      reason: error?.reason,
      error,
    });
    const provider = call.spec.tool.provider;
    if (!this.#peers.has(provider)) return;
    const base = { call_id: call.callId, name: call.spec.tool.name };
    if (outcome === 'timeout') {
      this.#notice(provider, { type: 'agent:tool-call-timeout', ...base });
    } else if (outcome === 'cancelled' || outcome === 'tool-unregistered') {
      const reason = error?.reason ?? 'caller-aborted';
      const detail = error?.detail === undefined ? {} : { detail: error.detail };
      this.#notice(provider, { type: 'agent:tool-call-cancelled', ...base, reason, ...detail });
    }
  };

  #notice(to: string, frame: OutboundProxyFrame): void {
    const sent = this.#send(to, frame).then(
      () => {
        this.#stats.notices.sent++;
      },
      () => {
        this.#stats.notices.failed++;
      },
    );
    this.#closingNotices?.push(sent);
  }

  /** Encodes and hands a frame to the channel; never throws (a sync throw becomes a rejection). */
  #send(to: string, frame: OutboundProxyFrame): Promise<void> {
    const channel = this.#channel;
    if (channel === undefined) return Promise.reject(new Error('no channel'));
    try {
      return Promise.resolve(channel.send(to, encodeFrame(frame))).catch((error: unknown) => {
        this.#logger.warn({ to, type: frame.type, error: describeUnknown(error) }, 'send failed');
        throw error;
      });
    } catch (error) {
      this.#logger.warn({ to, type: frame.type, error: describeUnknown(error) }, 'send failed');
      return Promise.reject(error);
    }
  }

  #channelHandlers(): ChannelHandlers {
    return {
      onFrame: (from, text) =>
        this.#guard('frame', () => handleProviderFrame(this.#inbound, from, text)),
      onPeerJoined: (peer) => this.#guard('peer joined', () => this.#peers.add(peer.identity)),
      onPeerLeft: (peer) => this.#guard('peer left', () => this.#providerLeft(peer)),
      onConnected: () => this.#guard('connected', () => this.#sayHello()),
      onClosed: (error) => this.#guard('closed', () => this.#channelClosed(error)),
    };
  }

  #providerLeft(peer: PeerInfo): void {
    this.#peers.delete(peer.identity);
    const calls = this.#calls.forProvider(peer.identity);
    if (calls.length > 0) {
      const error = providerGoneError(peer.identity);
      for (const call of calls) call.fail('provider-gone', error);
    }
    this.#registry.removeProvider(peer.identity);
  }

  #channelClosed(error: Error | undefined): void {
    if (this.#closed) return;
    this.#logger.warn({ error: error?.message }, 'channel closed: every pending call fails');
    this.#peers.clear();
    const calls = this.#calls.all();
    const gone = providerGoneError('*', true);
    for (const call of calls) call.fail('provider-gone', gone);
    for (const tool of [...this.#registry.list()]) this.#registry.removeProvider(tool.provider);
    this.#channel = undefined;
  }

  #sayHello(): void {
    const channel = this.#channel;
    if (channel === undefined) return;
    const hello: OutboundProxyFrame = {
      type: 'agent:hello',
      protocol_version: PROTOCOL_VERSION,
      default_timeout_ms: this.#limits.defaultMs,
      max_tool_timeout_ms: this.#limits.maxToolMs,
    };
    for (const peer of channel.peers()) {
      this.#peers.add(peer.identity);
      this.#send(peer.identity, hello).catch(() => {});
    }
  }

  #registryChanged(change: RegistryChange): void {
    const tool = summary(change.tool);
    if (change.kind === 'unregistered') {
      if (change.cause === 'unregistered') this.#failCallsOf(change.tool);
      this.hooks.emit('tool:unregistered', { tool, cause: change.cause });
    } else {
      this.hooks.emit('tool:registered', { tool, updated: change.kind === 'updated' });
    }
  }

  #failCallsOf(tool: RegisteredTool): void {
    const calls = this.#calls
      .forProvider(tool.provider)
      .filter((call) => call.spec.tool.name === tool.name);
    if (calls.length === 0) return;
    const error = toolUnregisteredError(tool.exposedName);
    for (const call of calls) call.fail('tool-unregistered', error);
  }

  #expose(tool: RegisteredTool): ExposedTool {
    return {
      ...summary(tool),
      inputSchema: tool.inputSchema,
      timeoutMs: this.#timeoutFor(tool, undefined),
    };
  }

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

  async #settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
    let timer: unknown;
    const limit = new Promise<void>((resolve) => {
      timer = this.#timers.setTimeout(resolve, ms);
    });
    await Promise.race([work, limit]);
    this.#timers.clearTimeout(timer);
  }
}

function summary(tool: RegisteredTool): ToolSummary {
  return {
    name: tool.exposedName,
    providerName: tool.name,
    provider: tool.provider,
    description: tool.description,
    annotations: tool.annotations,
  };
}

function callInfo(call: PendingCall) {
  const { callId, tool, sessionKey } = call.spec;
  return { callId, tool: tool.exposedName, provider: tool.provider, sessionKey };
}

function joinDetail(...parts: Array<string | undefined>): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length === 0 ? undefined : present.join('; ');
}

function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${what} must be a positive number of ms`);
  return value;
}
