/**
 * The soak's providers. `runtimeProvider` is the real `ToolProvider` with a zod tool; `RawProvider`
 * speaks the wire protocol by hand so it can register, update, withdraw and swap tools while calls
 * are in flight (the runtime's tool set is fixed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  type ChannelHandlers,
  defineTool,
  ErrorCode,
  isToolProxyError,
  type ToolChannel,
  ToolProvider,
} from '../../src/index.js';
import type { WireObserver } from './observed-channel.js';

export const PLANS = ['result', 'error', 'hang'] as const;
/** What a tool does with a call: answer with `{ n }`, fail with `failed #n`, or wait until told to stop. */
export type Plan = (typeof PLANS)[number];

/** Arguments of every soak tool; `n` is the call's number in the ledger, echoed back to prove routing. */
export interface WorkArgs {
  n: number;
  plan: Plan;
  delayMs: number;
  /** Progress updates before the answer (result and error plans). */
  steps: number;
}

/** Settles only when `signal` aborts (rejecting with its reason): a tool that never finishes. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** How a provider's handler was stopped, in the terms of `WireObserver.workStopped`. */
function stoppedBy(reason: unknown): string {
  if (!isToolProxyError(reason)) return 'abandoned';
  if (reason.code === ErrorCode.Timeout) return 'timeout';
  return reason.reason === undefined ? 'abandoned' : `cancelled:${reason.reason}`;
}

/**
 * The runtime provider's tool: validated by zod on the provider, by its JSON Schema on the proxy.
 * It reports why its signal aborted, so a handler stopped for the wrong reason (or none the proxy
 * gave) shows up even when the call was cancelled anyway.
 */
export function workTool(observer: WireObserver) {
  return defineTool({
    name: 'work',
    description: 'Answers, fails or hangs as told',
    input: z.object({
      n: z.number().int().nonnegative(),
      plan: z.enum(PLANS),
      delayMs: z.number().int().min(0).max(10_000),
      steps: z.number().int().min(0).max(5),
    }),
    handler: async ({ n, plan, delayMs, steps }, { signal, progress, callId }) => {
      const onAbort = () => observer.workStopped(callId, stoppedBy(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (plan === 'hang') return await untilAborted(signal);
        const pause = Math.floor(delayMs / (steps + 1));
        for (let step = 1; step <= steps; step++) {
          await sleep(pause, undefined, { signal });
          progress(step, steps);
        }
        await sleep(pause, undefined, { signal });
        if (plan === 'error') throw new Error(`failed #${n}`);
        return { n };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
  });
}

export function runtimeProvider(observer: WireObserver): ToolProvider {
  return new ToolProvider({ tools: [workTool(observer)] });
}

/** The JSON Schema the raw provider registers; `version` changes it, so an update recompiles it. */
function rawSchema(version: number): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      n: { type: 'integer', minimum: 0 },
      plan: { enum: [...PLANS] },
      delayMs: { type: 'integer', minimum: 0, maximum: 10_000 + version },
      steps: { type: 'integer', minimum: 0, maximum: 5 },
    },
    required: ['n', 'plan', 'delayMs', 'steps'],
    additionalProperties: false,
  };
}

/** One registration of a raw tool; a fresh one each time the tool is registered again. */
export interface Registration {
  readonly name: string;
  state: 'live' | 'withdrawing' | 'gone';
  /** The soak's clock (`verdict.ts`) when the provider sent the withdrawal. */
  withdrawnSeq: number | undefined;
}

export const RAW_TOOLS = ['reg_a', 'reg_b', 'reg_c'] as const;

/**
 * A provider that manages its own tool set on the wire. One registry change at a time: the next
 * waits for the proxy's answer to the last, so the ledger always knows which registration a call
 * was made against.
 */
export class RawProvider {
  readonly registrations = new Map<string, Registration>();
  readonly #channel: ToolChannel;
  readonly #proxy: string;
  readonly #clock: () => number;
  readonly #observer: WireObserver;
  /** Timers of the calls being worked on; `hang` calls have none. */
  readonly #working = new Map<string, ReturnType<typeof setTimeout> | undefined>();
  #awaiting = 0;
  #version = 0;
  /** Registered with the proxy on this connection (a WebSocket reports both join and connect). */
  #registered = false;

  constructor(channel: ToolChannel, proxy: string, clock: () => number, observer: WireObserver) {
    this.#channel = channel;
    this.#proxy = proxy;
    this.#clock = clock;
    this.#observer = observer;
  }

  get running(): number {
    return this.#working.size;
  }

  get busy(): boolean {
    return this.#awaiting > 0;
  }

  async start(): Promise<void> {
    const handlers: ChannelHandlers = {
      onFrame: (_from, text) => this.#onFrame(text),
      onPeerJoined: (peer) => {
        if (peer.identity === this.#proxy) this.#registerAll();
      },
      // Other providers come and go in the same room; only the proxy leaving ends its calls.
      onPeerLeft: (peer) => {
        if (peer.identity !== this.#proxy) return;
        this.#registered = false;
        this.#stopAll();
      },
      onConnected: () => {
        if (this.#channel.peers().some((p) => p.identity === this.#proxy)) this.#registerAll();
      },
      onClosed: () => this.#stopAll(),
    };
    await this.#channel.start(handlers);
  }

  close(): Promise<void> {
    this.#stopAll();
    return this.#channel.close();
  }

  /** Updates a live tool (new schema and description; calls in flight continue). */
  update(name: string): void {
    if (this.registrations.get(name)?.state !== 'live') return;
    this.#send({ type: 'client:tool-register', ...this.#definition(name) }, 1);
  }

  /** Withdraws a live tool: its pending calls end as `tool-unregistered`. */
  unregister(name: string): void {
    const registration = this.registrations.get(name);
    if (registration?.state !== 'live') return;
    this.#withdraw(registration);
    this.#send({ type: 'client:tool-unregister', name }, 1);
  }

  /** Registers a withdrawn tool again (a fresh registration). */
  register(name: string): void {
    if (this.registrations.get(name)?.state !== 'gone') return;
    this.registrations.set(name, { name, state: 'live', withdrawnSeq: undefined });
    this.#send({ type: 'client:tool-register', ...this.#definition(name) }, 1);
  }

  /** A `replace` batch keeping only `keep` (non-empty): the others are withdrawn. */
  replace(keep: readonly string[]): void {
    for (const registration of this.registrations.values())
      if (!keep.includes(registration.name) && registration.state === 'live')
        this.#withdraw(registration);
    for (const name of keep)
      if (this.registrations.get(name)?.state !== 'live')
        this.registrations.set(name, { name, state: 'live', withdrawnSeq: undefined });
    const tools = keep.map((name) => this.#definition(name));
    this.#send({ type: 'client:tool-register-batch', replace: true, tools }, keep.length);
  }

  #registerAll(): void {
    if (this.#registered) return;
    this.#registered = true;
    for (const name of RAW_TOOLS)
      this.registrations.set(name, { name, state: 'live', withdrawnSeq: undefined });
    const tools = RAW_TOOLS.map((name) => this.#definition(name));
    this.#send({ type: 'client:tool-register-batch', replace: true, tools }, tools.length);
  }

  #withdraw(registration: Registration): void {
    registration.state = 'withdrawing';
    registration.withdrawnSeq = this.#clock();
  }

  #definition(name: string) {
    this.#version++;
    const description = `${name}, version ${this.#version}`;
    return { name, description, input_schema: rawSchema(this.#version) };
  }

  /** Sends a registry frame that `answers` replies will acknowledge. */
  #send(frame: Record<string, unknown>, answers: number): void {
    this.#awaiting += answers;
    this.#channel.send(this.#proxy, JSON.stringify(frame))?.catch(() => {
      this.#awaiting -= answers;
    });
  }

  #onFrame(text: string): void {
    const frame = JSON.parse(text) as Record<string, unknown>;
    const callId = typeof frame.call_id === 'string' ? frame.call_id : '';
    switch (frame.type) {
      case 'agent:tool-registered':
      case 'agent:tool-unregistered':
        this.#awaiting = Math.max(0, this.#awaiting - 1);
        // Every withdrawal sent before this answer has been applied by the proxy.
        for (const registration of this.registrations.values())
          if (registration.state === 'withdrawing') registration.state = 'gone';
        return;
      case 'agent:tool-call':
        this.#work(callId, String(frame.name), frame.arguments as WorkArgs);
        return;
      case 'agent:tool-call-cancelled':
      case 'agent:tool-call-timeout':
        if (!this.#working.has(callId)) return;
        clearTimeout(this.#working.get(callId));
        this.#working.delete(callId);
        this.#observer.workStopped(
          callId,
          frame.type === 'agent:tool-call-timeout'
            ? 'timeout'
            : `cancelled:${String(frame.reason)}`,
        );
        return;
    }
  }

  #work(callId: string, name: string, args: WorkArgs): void {
    if (this.registrations.get(name)?.state !== 'live') {
      this.#answer(callId, { error: `unknown tool "${name}"` });
      return;
    }
    if (args.plan === 'hang') {
      this.#working.set(callId, undefined);
      return;
    }
    const timer = setTimeout(() => {
      this.#working.delete(callId);
      this.#answer(
        callId,
        args.plan === 'error' ? { error: `failed #${args.n}` } : { result: { n: args.n } },
      );
    }, args.delayMs);
    this.#working.set(callId, timer);
  }

  #answer(callId: string, body: { result: unknown } | { error: string }): void {
    const frame = { type: 'client:tool-result', call_id: callId, ...body };
    this.#channel.send(this.#proxy, JSON.stringify(frame))?.catch(() => {});
  }

  #stopAll(): void {
    for (const [callId, timer] of this.#working) {
      clearTimeout(timer);
      this.#observer.workStopped(callId, 'abandoned');
    }
    this.#working.clear();
  }
}
