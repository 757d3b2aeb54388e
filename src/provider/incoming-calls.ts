/**
 * The calls a provider runs for its proxies: each `agent:tool-call` validated and run with an
 * AbortSignal, answered once (or, once the proxy gave up on it, not at all), refused unrun when it
 * arrived stale or too deep to parse, and stopped when the proxy cancels, times out, leaves or goes
 * silent. The ToolProvider (runtime.ts) decodes the frames and owns the channel.
 */
import type { HookBus } from '../shared/bus.js';
import { describeUnknown, ErrorCode, ToolProxyError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { formatIssues } from '../shared/zod-issues.js';
import type { OutboundProviderFrame, ProxyFrame } from '../protocol/frames.js';
import { type Answer, DEEP_CALL_ERROR, deepCallId, encodeAnswer, runHandler } from './answers.js';
import type { ToolDefinition } from './define-tool.js';
import type { ProviderEvents } from './provider-options.js';
import { callStaleMessage, staleness } from './proxy-clock.js';
import { toolContext } from './tool-context.js';
import { type RunningCall, RunningCalls } from './running-calls.js';

type CallFrame = Extract<ProxyFrame, { type: 'agent:tool-call' }>;

export interface IncomingCallsOptions {
  tools: ReadonlyMap<string, ToolDefinition>;
  events: HookBus<ProviderEvents>;
  logger: Logger;
  maxFrameChars: number;
  /** A call is about to run (or be answered `unknown tool`): the proxy watch counts it. */
  callStarted: (proxy: string) => void;
  /** Encodes and sends a frame; a failure is logged, never thrown. */
  send: (to: string, frame: OutboundProviderFrame) => void;
  /** Sends an encoded frame; a failure is logged, never thrown. */
  sendText: (to: string, text: string, type: string) => void;
}

export class IncomingCalls {
  readonly #running = new RunningCalls();
  readonly #options: IncomingCallsOptions;

  constructor(options: IncomingCallsOptions) {
    this.#options = options;
  }

  /** Handlers running now. */
  get size(): number {
    return this.#running.size;
  }

  /** Calls running now for one proxy. */
  runningFor(proxy: string): number {
    return this.#running.list(proxy).length;
  }

  start(proxy: string, frame: CallFrame, ageMs: number | undefined): void {
    const { tools, logger, events } = this.#options;
    const tool = tools.get(frame.name);
    const call = this.#running.begin(proxy, frame.call_id, frame.name);
    if (call === undefined) return; // a repeated call frame: running or already ended
    const stale = staleness(ageMs, frame.stale_after_ms);
    if (stale !== undefined) {
      // The proxy may have failed this call already (and the agent retried): running it now could
      // do the action twice. Answered, for a proxy that still waits; it must not run.
      this.#running.end(call);
      const { call_id: callId, name, timeout_ms: timeoutMs } = frame;
      logger.warn({ proxy, callId, name, ...stale }, 'call arrived stale: not run');
      this.#answer(call, { error: callStaleMessage(name, stale), code: ErrorCode.CallStale });
      const remainingMs = timeoutMs === undefined ? undefined : timeoutMs - stale.ageMs;
      events.emit('call:stale', { proxy, callId, name, ...stale, remainingMs });
      return;
    }
    this.#options.callStarted(proxy);
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
  refuseDeep(proxy: string, text: string): void {
    const callId = deepCallId(text);
    const call = callId === undefined ? undefined : this.#running.begin(proxy, callId, '');
    if (call === undefined) return;
    this.#running.end(call);
    this.#answer(call, { error: DEEP_CALL_ERROR });
  }

  abort(proxy: string, callId: string, reason: ToolProxyError): void {
    const call = this.#running.abort(proxy, callId, reason);
    if (call !== undefined)
      this.#options.events.emit('call:aborted', { proxy, callId, name: call.name, reason });
  }

  /**
   * The proxy went silent past its own timeout (crashed, or cut off): its calls stop, and each is
   * answered with an error, which a proxy that was only stalled gets when it comes back.
   */
  proxySilent(proxy: string, silentMs: number): void {
    const detail = `nothing from the proxy for ${silentMs} ms`;
    this.#options.logger.warn(
      { proxy, silentMs },
      'proxy stopped answering: its calls are stopped',
    );
    const reason = new ToolProxyError(ErrorCode.Cancelled, `The call was abandoned: ${detail}.`, {
      detail,
    });
    for (const call of this.#running.list(proxy)) {
      this.abort(proxy, call.callId, reason);
      this.#answer(call, { error: `the provider stopped the call: ${detail}` });
    }
  }

  /** Aborts every running call, or those of one proxy; none is answered. */
  abortAll(detail: string, proxy?: string): void {
    const reason = new ToolProxyError(ErrorCode.Cancelled, `The call was abandoned: ${detail}.`, {
      detail,
    });
    for (const call of this.#running.list(proxy)) this.abort(call.proxy, call.callId, reason);
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
    const { events, send, logger } = this.#options;
    events.emit('call:started', { proxy, callId, name });
    const answer = await runHandler(tool, parsed.data, toolContext(call, send, logger));
    events.emit('call:finished', { proxy, callId, name, ok: answer.error === undefined });
    return answer;
  }

  /** Sends the one result of a call (see `encodeAnswer`). */
  #answer(call: RunningCall, answer: Answer): void {
    const text = encodeAnswer(call.callId, answer, this.#options.maxFrameChars);
    this.#options.sendText(call.proxy, text, 'client:tool-result');
  }
}
