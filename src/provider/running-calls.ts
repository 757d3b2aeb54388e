/**
 * The calls a provider is running, keyed by (proxy, call id), plus the ids that recently ended,
 * so a repeated `agent:tool-call` frame (a retransmission, a replay) never runs a handler twice.
 */
import type { ToolProxyError } from '../shared/errors.js';
import { RecentKeys } from '../shared/recent-keys.js';

/** One call a provider is running; aborted at most once, with the proxy's reason. */
export class RunningCall {
  readonly proxy: string;
  readonly callId: string;
  readonly name: string;
  /** (proxy, call id) as one string, built once. */
  readonly key: string;
  #controller: AbortController | undefined;
  #reason: ToolProxyError | undefined;

  constructor(proxy: string, callId: string, name: string, key: string) {
    this.proxy = proxy;
    this.callId = callId;
    this.name = name;
    this.key = key;
  }

  get aborted(): boolean {
    return this.#reason !== undefined;
  }

  /**
   * Made on first read (already aborted if the call was): a handler that never looks at its
   * signal costs no AbortController, the largest single cost of a short call on Node 20.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: ToolProxyError): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export class RunningCalls {
  readonly #running = new Map<string, RunningCall>();
  /** A key enters once: from `#running` (which `begin` keeps ended keys out of) or unseen. */
  readonly #ended: RecentKeys<true>;

  constructor(endedLimit = 1_024) {
    this.#ended = new RecentKeys(endedLimit);
  }

  get size(): number {
    return this.#running.size;
  }

  /** Starts tracking a call; undefined if this (proxy, call id) is running or ended recently. */
  begin(proxy: string, callId: string, name: string): RunningCall | undefined {
    const key = keyOf(proxy, callId);
    if (this.#running.has(key) || this.#ended.has(key)) return undefined;
    const call = new RunningCall(proxy, callId, name, key);
    this.#running.set(key, call);
    return call;
  }

  /** Stops tracking a call (idempotent); remembers its id. */
  end(call: RunningCall): void {
    const { key } = call;
    if (this.#running.get(key) !== call) return;
    this.#running.delete(key);
    this.#ended.remember(key, true);
  }

  /**
   * Aborts a running call with `reason`; returns it, or undefined if it was not running. A cancel
   * for an id not seen yet is remembered as ended: its call frame can arrive after it (on LiveKit a
   * large call frame travels as a stream, a cancel as one packet) and must then never start.
   */
  abort(proxy: string, callId: string, reason: ToolProxyError): RunningCall | undefined {
    const key = keyOf(proxy, callId);
    const call = this.#running.get(key);
    if (call === undefined) {
      if (!this.#ended.has(key)) this.#ended.remember(key, true);
      return undefined;
    }
    this.end(call);
    call.abort(reason);
    return call;
  }

  /** Every running call, or those of one proxy. */
  list(proxy?: string): RunningCall[] {
    return [...this.#running.values()].filter(
      (call) => proxy === undefined || call.proxy === proxy,
    );
  }
}

function keyOf(proxy: string, callId: string): string {
  return `${proxy}\u0000${callId}`;
}
