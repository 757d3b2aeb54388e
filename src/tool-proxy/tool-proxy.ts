/**
 * The agent side: tools registered by providers over a channel, called under a deadline, cancelled
 * at once when the agent loop stops. A facade: the parts are the registry, the provider link, the
 * call runner and the hook bus.
 */
import type PCancelable from 'p-cancelable';
import { type CallLimits, resolveCallLimits } from './calls/call-limits.js';
import { callInfo } from './calls/call-life.js';
import { CancellableCalls } from './calls/cancellable-calls.js';
import { type CallOptions, CallRunner } from './calls/call-runner.js';
import { resolveStaleCallMs, staleWindow } from './calls/stale-window.js';
import { cancelledError, proxyClosedError } from './calls/messages.js';
import type { ToolChannel } from '../shared/channel.js';
import type { CancelReason } from '../shared/errors.js';
import { HookBus } from '../shared/bus.js';
import type { HookEvents, LifecycleEventName, LifecycleEvents } from './hooks/events.js';
import { waitForTool } from './hooks/wait-for-tool.js';
import { resolveLimits } from './limits/limit-options.js';
import { ProviderLimits } from './limits/provider-limits.js';
import { LogThrottle } from '../shared/log-throttle.js';
import { type Logger, silentLogger } from '../shared/logger.js';
import { DEFAULT_MAX_FRAME_CHARS } from '../protocol/codec.js';
import { ProviderLink } from './providers/provider-link.js';
import { ProviderPresence } from './providers/provider-presence.js';
import { type ExposedTool, exposeTool } from './registry/exposed-tool.js';
import { announceRegistryChange } from './registry-change.js';
import { handleProviderFrame, type InboundContext } from './providers/inbound.js';
import {
  DEFAULT_MAX_TOOLS_PER_PROVIDER,
  type RegisteredTool,
  type RegistryChange,
  ToolRegistry,
} from './registry/registry.js';
import { emptyStats, type ProxyStats, snapshotStats } from './stats.js';
import {
  applyLifecycle,
  type LifecycleOptions,
  type LifecycleOutcome,
  raisedAt,
} from './sessions/lifecycle.js';
import type { BindingResult, SessionEvidence } from './sessions/session-router.js';
import { systemTimers, type Timers } from '../shared/timers.js';
import type { ToolProxyOptions } from './tool-proxy-options.js';

export type { CallOptions } from './calls/call-runner.js';
export type { ExposedTool } from './registry/exposed-tool.js';
export type { ToolProxyOptions } from './tool-proxy-options.js';

/** How long close() waits for cancel notices to be handed over before closing the channel. */
const CLOSE_DRAIN_MS = 1_000;

/**
 * Where the proxy is: `idle` until `start`, `running` from then, `closing` while `close` tells
 * providers and drains, `closed` for good. Calls are refused from `closing` on.
 */
type ProxyState = 'idle' | 'running' | 'closing' | 'closed';

export class ToolProxy {
  /**
   * For watching: the proxy's own events, and each lifecycle event after `lifecycle()` has acted on
   * it. Emitting a lifecycle event here cancels nothing: call `lifecycle()`.
   */
  readonly hooks: HookBus<HookEvents>;
  readonly #registry: ToolRegistry;
  readonly #link: ProviderLink;
  readonly #calls: CallRunner;
  readonly #stats = emptyStats();
  readonly #timers: Timers;
  readonly #logger: Logger;
  readonly #limits: CallLimits;
  readonly #inbound: InboundContext;
  readonly #providerLimits: ProviderLimits;
  readonly #presence: ProviderPresence;
  readonly #staleCallMs: number | undefined;
  readonly #cancellable: CancellableCalls;
  #state: ProxyState = 'idle';

  constructor(options: ToolProxyOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    this.hooks = new HookBus<HookEvents>(this.#logger);
    this.#registry = new ToolRegistry({
      ...options,
      onChange: (change) => this.#registryChanged(change),
    });
    this.#limits = resolveCallLimits(options);
    this.#staleCallMs = resolveStaleCallMs(options.staleCallMs, options.liveness);
    this.#link = new ProviderLink(this.#logger, this.#stats, () => this.#timers.now());
    this.#calls = new CallRunner({
      registry: this.#registry,
      link: this.#link,
      hooks: this.hooks,
      stats: this.#stats,
      timers: this.#timers,
      limits: this.#limits,
      accepting: () => !this.#shuttingDown,
      liveness: { callStarted: () => this.#presence.liveness?.callStarted() },
      staleAfterMs: (provider) =>
        staleWindow(this.#staleCallMs, [
          this.#presence.liveness?.silenceLeftMs(provider),
          this.#link.silenceLeftMs(provider),
        ]),
    });
    this.#cancellable = new CancellableCalls(this.#calls);
    const maxFrameChars = options.maxFrameChars ?? DEFAULT_MAX_FRAME_CHARS;
    const maxToolsPerProvider = options.maxToolsPerProvider ?? DEFAULT_MAX_TOOLS_PER_PROVIDER;
    this.#providerLimits = new ProviderLimits(
      resolveLimits(options, { maxFrameChars, maxToolsPerProvider }),
      () => this.#timers.now(),
    );
    this.#presence = new ProviderPresence(
      {
        link: this.#link,
        calls: this.#calls,
        registry: this.#registry,
        providerLimits: this.#providerLimits,
        limits: this.#limits,
        timers: this.#timers,
        logger: this.#logger,
        closed: () => this.#shuttingDown,
      },
      options.liveness,
    );
    this.#inbound = {
      registry: this.#registry,
      calls: this.#calls.table,
      life: this.#calls.life,
      stats: this.#stats,
      logger: this.#logger,
      maxFrameChars,
      limits: this.#providerLimits,
      droppedResults: new LogThrottle(() => this.#timers.now()),
      reply: (to, frame) => this.#link.reply(to, frame),
      progressed: (call, update) =>
        this.hooks.emit('call:progress', { ...callInfo(call), ...update }),
      heard: (provider, pong) => this.#presence.liveness?.heard(provider, pong),
    };
  }

  /** Connects to providers through `channel`; resolves once the channel is up. */
  async start(channel: ToolChannel): Promise<void> {
    if (this.#shuttingDown) throw proxyClosedError();
    this.#state = 'running';
    if (channel.livenessProbes === true) this.#presence.liveness?.enable();
    await this.#link.start(channel, {
      frame: (from, text) => handleProviderFrame(this.#inbound, from, text),
      ...this.#presence.events(),
    });
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
    return this.#cancellable.start(name, args, options);
  }

  /**
   * An agent lifecycle event, as a command: `agent_loop_stopped`, `session:end` and `session:reset`
   * cancel that session's calls at once (each caller rejects synchronously, then each provider is
   * told); the event is then emitted on `hooks` for watchers. Says what was cancelled and why.
   * `options.ageMs`: the event was raised that long ago (a hook delivered late), so it cancels only
   * the calls that had started by then.
   */
  lifecycle<K extends LifecycleEventName>(
    name: K,
    event: LifecycleEvents[K],
    options: LifecycleOptions = {},
  ): LifecycleOutcome {
    const startedBy = raisedAt(options, this.#timers.now());
    const outcome = applyLifecycle(this.#calls.sessions, name, event, startedBy);
    if (outcome.cancelled > 0) {
      const { session, reason, rule, scoped, unscoped } = outcome;
      this.#logger.info(
        { event: name, session, reason, rule, scoped, unscoped },
        'calls cancelled',
      );
    }
    this.hooks.emit(name, event);
    return outcome;
  }

  /**
   * A hook's word that the call carrying `evidence.correlation` belongs to `evidence.session`
   * (Claude Code's PreToolUse, docker-agent's pre_tool_use): places that call, or the one that
   * will carry it, and binds its channel to the session.
   */
  bindSession(evidence: SessionEvidence): BindingResult {
    return this.#calls.sessions.bind(evidence);
  }

  /**
   * Cancels, at once, the calls of `sessionKey` (and, if nothing was ever placed in that session,
   * the unbound ones); with no key, every call. Returns the count. Prefer `lifecycle()`.
   */
  cancelSession(sessionKey: string | undefined, reason: CancelReason, detail?: string): number {
    const { scoped, unscoped } = this.#calls.sessions.cancel(
      sessionKey,
      cancelledError(reason, detail),
      false,
    );
    return scoped + unscoped;
  }

  /**
   * The caller behind `channel` went away (its connection or MCP session closed): its calls are
   * cancelled at once (default reason `caller-gone`) and their providers told. Returns the count.
   */
  cancelChannel(channel: string, reason: CancelReason = 'caller-gone', detail?: string): number {
    const cancelled = this.#calls.sessions.cancelChannel(channel, cancelledError(reason, detail));
    if (cancelled > 0) this.#logger.info({ channel, reason, detail, cancelled }, 'calls cancelled');
    return cancelled;
  }

  /** The tools agents can call, in a stable order. */
  tools(): ExposedTool[] {
    return this.#registry.list().map((tool) => this.#expose(tool));
  }

  getTool(name: string): ExposedTool | undefined {
    const tool = this.#registry.get(name);
    return tool === undefined ? undefined : this.#expose(tool);
  }

  /**
   * Resolves when a tool named `name` is registered (at once if it is). Rejects with CANCELLED if
   * `signal` aborts first; the subscription is removed either way.
   */
  waitForTool(name: string, options: { signal?: AbortSignal } = {}): Promise<ExposedTool> {
    return waitForTool(this.hooks, name, (wanted) => this.getTool(wanted), options.signal);
  }

  get pendingCalls(): number {
    return this.#calls.table.size;
  }

  /** Caller signals the proxy listens to now (one listener each); zero when nothing is pending. */
  get watchedSignals(): number {
    return this.#calls.watchedSignals;
  }

  /** What the proxy remembers of sessions now (bounded: see src/tool-proxy/sessions/session-scopes.ts). */
  get sessionBindings(): { channels: number; correlations: number; sessions: number } {
    return this.#calls.scopes.size;
  }

  /** Providers the proxy keeps rate-limit state for now; zero once every provider has left. */
  get trackedProviders(): number {
    return this.#providerLimits.size;
  }

  stats(): ProxyStats {
    return snapshotStats(this.#stats);
  }

  /** Cancels every call (reason `proxy-shutting-down`), tells providers, closes the channel. */
  async close(): Promise<void> {
    if (this.#shuttingDown) return;
    this.#state = 'closing';
    this.#presence.liveness?.stop();
    this.#link.beginDrain();
    const { life, table } = this.#calls;
    life.settleAll(table.all(), 'cancelled', cancelledError('proxy-shutting-down'));
    await this.#link.close(CLOSE_DRAIN_MS, this.#timers);
    this.#state = 'closed';
  }

  get #shuttingDown(): boolean {
    return this.#state === 'closing' || this.#state === 'closed';
  }

  #registryChanged(change: RegistryChange): void {
    announceRegistryChange(change, { link: this.#link, calls: this.#calls, hooks: this.hooks });
  }

  #expose(tool: RegisteredTool): ExposedTool {
    return exposeTool(tool, this.#calls.timeoutFor(tool, undefined));
  }
}
