/**
 * Starts calls: validation before anything is sent, the deadline, the call frame. How calls end
 * is calls/call-life.ts.
 */
import { newCallId } from './call-id.js';
import { ErrorCode, ToolProxyError } from '../../shared/errors.js';
import type { HookBus } from '../../shared/bus.js';
import type { HookEvents } from '../hooks/events.js';
import type { ProviderLink } from '../providers/provider-link.js';
import type { ToolLogEntry } from '../../protocol/frames.js';
import type { RegisteredTool, ToolRegistry } from '../registry/registry.js';
import type { ProxyStats } from '../stats.js';
import { SessionRouter } from '../sessions/session-router.js';
import { SessionScopes } from '../sessions/session-scopes.js';
import type { Timers } from '../../shared/timers.js';
import { AbortFanIn } from './abort-fan-in.js';
import type { CallLimits } from './call-limits.js';
import { CallTable } from './call-table.js';
import { CallLife, callInfo } from './call-life.js';
import {
  cancelledError,
  invalidArgumentsError,
  proxyClosedError,
  toolNotFoundError,
} from './messages.js';
import { type CallerSettle, PendingCall, type ProgressUpdate } from './pending-call.js';
import { sendFailure } from './send-failure.js';

export interface CallOptions {
  /** Aborting it cancels the call (reason `caller-aborted`) and tells the provider. */
  signal?: AbortSignal;
  /** The agent session this call belongs to; a stop or reset of that session cancels it. */
  sessionKey?: string;
  /**
   * The caller's connection (e.g. `mcp:<Mcp-Session-Id>`): `cancelChannel` ends its calls when the
   * caller goes away, and once a call on it is placed in a session, its later calls are too.
   */
  channel?: string;
  /**
   * Ids a hook may name to place this call in its session (`toolUseCorrelation`,
   * `inputCorrelation` from the core's sessions module).
   */
  correlations?: readonly string[];
  /** This call's deadline, overriding the tool's and the default. */
  timeoutMs?: number;
  onProgress?: (update: ProgressUpdate) => void;
  /** The provider's `client:tool-log` messages while the call is pending (they move no deadline). */
  onLog?: (entry: ToolLogEntry) => void;
}

export interface CallRunnerDeps {
  readonly registry: ToolRegistry;
  readonly link: ProviderLink;
  readonly hooks: HookBus<HookEvents>;
  readonly stats: ProxyStats;
  readonly timers: Timers;
  readonly limits: CallLimits;
  /** False once the proxy is closing: every call is then refused with PROXY_CLOSED. */
  readonly accepting: () => boolean;
  /** Told of every call sent (the liveness probe runs while calls are pending). */
  readonly liveness?: { callStarted(): void };
  /** The call's `stale_after_ms` for `provider` (PROTOCOL.md section 3.5); undefined: not sent. */
  readonly staleAfterMs?: (provider: string) => number | undefined;
}

export class CallRunner {
  readonly table = new CallTable();
  /** How calls end: every trigger settles through it. */
  readonly life: CallLife;
  readonly scopes: SessionScopes;
  readonly sessions: SessionRouter;
  readonly #signals = new AbortFanIn();
  readonly #deps: CallRunnerDeps;

  constructor(deps: CallRunnerDeps) {
    this.#deps = deps;
    const { link, hooks, stats, timers } = deps;
    this.life = new CallLife({ table: this.table, link, hooks, stats, timers });
    this.scopes = new SessionScopes(() => timers.now());
    this.sessions = new SessionRouter(this.table, this.scopes, (calls, error) =>
      this.life.settleAll(calls, 'cancelled', error),
    );
  }

  get watchedSignals(): number {
    return this.#signals.size;
  }

  /** Starts a call, or settles it at once when it cannot start (then nothing is sent). */
  start(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
    settle: CallerSettle,
  ): PendingCall | undefined {
    const { link, stats, timers, limits, hooks } = this.#deps;
    const tool = this.#refuse(name, args, options);
    if (tool instanceof ToolProxyError) {
      stats.calls.rejectedBeforeSend++;
      settle.reject(tool);
      return undefined;
    }
    const timeoutMs = this.timeoutFor(tool, options.timeoutMs);
    const pinned = options.sessionKey !== undefined && options.sessionKey !== '';
    const session = this.sessions.resolve(options, tool.exposedName);
    const spec = {
      callId: this.#freshCallId(),
      tool,
      channel: options.channel,
      correlations: options.correlations ?? NO_CORRELATIONS,
      sessionPinned: pinned,
      timeoutMs,
      maxTotalMs: Math.max(timeoutMs, limits.maxTotalMs),
      resetOnProgress: limits.resetOnProgress,
      onProgress: options.onProgress,
      onLog: options.onLog,
    };
    const call = new PendingCall(spec, session, settle, timers, this.#signals, this.life);
    this.table.add(call);
    this.sessions.started(call);
    call.arm(options.signal);
    stats.calls.started++;
    if (hooks.listenerCount('call:started') > 0)
      hooks.emit('call:started', { ...callInfo(call), timeoutMs });
    // `sent_at_ms` is stamped by the link as the frame is handed over.
    const frame = {
      type: 'agent:tool-call',
      call_id: spec.callId,
      name: tool.name,
      arguments: args,
      timeout_ms: timeoutMs,
      stale_after_ms: this.#deps.staleAfterMs?.(tool.provider),
    } as const;
    link.send(tool.provider, frame).catch((error: unknown) => {
      this.life.settle(call, 'send-failed', sendFailure(tool.exposedName, spec.callId, error));
    });
    this.#deps.liveness?.callStarted();
    return call;
  }

  /**
   * The deadline a call of `tool` gets: the caller's (up to the hard maximum), else the tool's
   * (clamped by the per-tool maximum), else the default. Whole milliseconds.
   */
  timeoutFor(tool: RegisteredTool, perCall: number | undefined): number {
    const { limits } = this.#deps;
    if (perCall !== undefined) return Math.min(Math.ceil(perCall), limits.maxTotalMs);
    if (tool.timeoutMs !== undefined) return Math.min(tool.timeoutMs, limits.maxToolMs);
    return limits.defaultMs;
  }

  #refuse(
    name: string,
    args: Record<string, unknown>,
    options: CallOptions,
  ): RegisteredTool | ToolProxyError {
    const { registry } = this.#deps;
    if (!this.#deps.accepting()) return proxyClosedError();
    const tool = registry.get(name);
    if (tool === undefined)
      return toolNotFoundError(
        name,
        registry.list().map((t) => t.exposedName),
      );
    if (options.signal?.aborted)
      return cancelledError('caller-aborted', undefined, options.signal.reason);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      const message = `timeoutMs must be a positive number of milliseconds, not ${timeoutMs}; the tool was not called.`;
      return new ToolProxyError(ErrorCode.InvalidArguments, message, { tool: name });
    }
    const check = tool.validator.check(args);
    return check.ok ? tool : invalidArgumentsError(name, check.problems);
  }

  #freshCallId(): string {
    let id = newCallId();
    while (this.table.has(id)) id = newCallId();
    return id;
  }
}

const NO_CORRELATIONS: readonly string[] = [];
