/**
 * The provider runtime under fuzzing (a ToolProvider), fed raw text by a WirePeer playing the
 * proxy: every parseable `agent:tool-call` with a new id is answered exactly once (except by a tool
 * that waits for its cancel), a hello brings the registrations, anything else brings nothing.
 */
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import { decodeFrame, defineTool, ToolProvider } from '../../src/index.js';
import { DEFAULT_MAX_FRAME_CHARS } from '../../src/protocol/codec.js';
import {
  ProviderFrameSchemas,
  ProxyFrameSchemas,
  ToolCallFrame,
} from '../../src/protocol/frames.js';
import type { Rng } from '../support/rng.js';
import { WirePeer } from '../support/wire-peer.js';
import { type Made, make } from './frame-mix.js';
import { DEEP_CALL_HEAD, isObject, parse, tooDeep } from './json-text.js';
import { prototypePolluted } from './prototypes.js';
import { CALLABLE, proxyFrameTree, proxySpecial } from './provider-inputs.js';
import { count, emptySummary, violation } from './summary.js';
import { countingLogger, settle } from './world.js';

const PROVIDER_TOOLS = [
  defineTool({
    name: 'echo',
    description: 'Answers with its arguments, after one progress report',
    input: z.record(z.string(), z.unknown()),
    handler: (args, { progress }) => {
      progress(1, 1, 'done');
      return { echoed: args };
    },
  }),
  defineTool({
    name: 'slow',
    description: 'Runs until cancelled',
    input: z.object({}),
    handler: (_args, { signal }) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
      ),
  }),
  defineTool({
    name: 'strict',
    description: 'Doubles n',
    input: z.object({ n: z.number().int(), tags: z.array(z.string().max(10)).max(5).optional() }),
    handler: ({ n }) => n * 2,
  }),
];

/** Mirrors the runtime's memory of call ids: running ones, and the last 1,024 that ended. */
class CallIds {
  readonly running = new Set<string>();
  readonly #ended = new Set<string>();

  known(id: string): boolean {
    return this.running.has(id) || this.#ended.has(id);
  }

  end(id: string): void {
    this.running.delete(id);
    this.#ended.add(id);
    if (this.#ended.size > 1_024) this.#ended.delete(this.#ended.values().next().value as string);
  }
}

export class ProviderFuzz {
  readonly summary = emptySummary();
  readonly room = new InMemoryRoom({ maxFrameBytes: 4 * DEFAULT_MAX_FRAME_CHARS });
  readonly provider = new ToolProvider({
    tools: PROVIDER_TOOLS,
    logger: countingLogger(this.summary),
  });
  readonly #rng: Rng;
  #proxy: WirePeer | undefined;
  #stranger: WirePeer | undefined;
  readonly #ids = new CallIds();
  #next = 0;
  #recent: string[] = [];

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  async start(): Promise<void> {
    this.#proxy = await WirePeer.join(this.room, 'fzproxy', { isAgent: true, to: 'robot' });
    this.#stranger = await WirePeer.join(this.room, 'mallory', { to: 'robot' });
    await this.provider.connect(this.room.join('robot'));
    await settle();
    const registrations = this.#proxy.frames('client:tool-register').length;
    if (registrations !== PROVIDER_TOOLS.length)
      violation(this.summary, `${registrations} registrations on connect`, '');
    this.#proxy.clear();
  }

  #freshId = (): string => {
    const id = `c${this.#next++}`;
    this.#recent.push(id);
    if (this.#recent.length > 64) this.#recent.shift();
    return id;
  };

  async step(): Promise<void> {
    const rng = this.#rng;
    const made = make(
      rng,
      () => proxyFrameTree(rng, this.#freshId, this.#recent),
      () => proxySpecial(rng, this.#freshId),
      undefined,
    );
    const fromStranger = rng.chance(0.02);
    await this.feed(made, fromStranger);
    if (this.#ids.running.size > 32) await this.#timeOutOldest();
  }

  /** What a proxy does with a call it has waited on long enough: the handler stops, unanswered. */
  async #timeOutOldest(): Promise<void> {
    const proxy = this.#proxy as WirePeer;
    const [oldest] = this.#ids.running;
    if (oldest === undefined) return;
    await proxy.timeout('robot', oldest);
    this.#ids.end(oldest);
    await settle();
    if (proxy.received.length > 0)
      violation(
        this.summary,
        `frames after a timeout: ${proxy.received[0]?.text.slice(0, 200) ?? ''}`,
        '',
      );
    proxy.clear();
    if (this.provider.runningCalls !== this.#ids.running.size)
      violation(this.summary, `${this.provider.runningCalls} handlers running after a timeout`, '');
  }

  async feed(made: Made, fromStranger = false): Promise<void> {
    const { summary } = this;
    const proxy = this.#proxy as WirePeer;
    const stranger = this.#stranger as WirePeer;
    summary.frames++;
    count(summary.made, made.kind);

    // What must come back, by the protocol (only proxies are heard).
    let registrations = 0;
    let pongs = 0;
    let answer: string | undefined;
    const unread = fromStranger || made.text.length > DEFAULT_MAX_FRAME_CHARS;
    const deep = !unread && tooDeep(made.text);
    const frame = unread || deep ? undefined : parse(made.text);
    // A call too deep to parse is answered (an error) from its head, once per id, and never runs.
    const deepCall = deep ? DEEP_CALL_HEAD.exec(made.text.slice(0, 512))?.[1] : undefined;
    if (deepCall !== undefined && !this.#ids.known(deepCall)) {
      this.#ids.running.add(deepCall);
      answer = deepCall;
    }
    const type = isObject(frame) && typeof frame.type === 'string' ? frame.type : undefined;
    const schema =
      type !== undefined && Object.hasOwn(ProxyFrameSchemas, type)
        ? ProxyFrameSchemas[type as keyof typeof ProxyFrameSchemas]
        : undefined;
    const parsed = schema?.safeParse(frame);
    if (parsed?.success === true) {
      const data = parsed.data;
      if (data.type === 'agent:hello') {
        registrations = PROVIDER_TOOLS.length;
        // A proxy that greets has started over: the calls it sent before are stopped, unanswered.
        for (const id of [...this.#ids.running]) {
          count(summary.replies, 'aborted');
          this.#ids.end(id);
        }
      }
      if (data.type === 'agent:ping') pongs = 1;
      if (data.type === 'agent:tool-call' && !this.#ids.known(data.call_id)) {
        this.#ids.running.add(data.call_id);
        if (data.name === 'slow') count(summary.replies, 'running:slow');
        else answer = data.call_id;
      }
      if (data.type === 'agent:tool-call-cancelled' || data.type === 'agent:tool-call-timeout') {
        // A cancel for an id not seen yet is remembered too: that call must never start.
        if (this.#ids.running.has(data.call_id)) count(summary.replies, 'aborted');
        if (!this.#ids.known(data.call_id) || this.#ids.running.has(data.call_id))
          this.#ids.end(data.call_id);
      }
    }

    const started = performance.now();
    const carried = await (fromStranger ? stranger : proxy).sendText(made.text).then(
      () => true,
      () => false,
    );
    await settle();
    summary.slowestFrameMs = Math.max(summary.slowestFrameMs, performance.now() - started);
    if (!carried) {
      summary.refusedByRoom++;
      if (answer !== undefined) this.#ids.end(answer);
      answer = undefined;
      registrations = 0;
      pongs = 0;
    }
    if (answer !== undefined) this.#ids.end(answer);

    let results = 0;
    let registered = 0;
    let ponged = 0;
    for (const received of proxy.received) {
      const decoded = decodeFrame(received.text, ProviderFrameSchemas);
      if (!decoded.ok) {
        violation(
          summary,
          `the provider sent a frame that breaks the protocol: ${received.text.slice(0, 200)}`,
          made.text,
        );
        continue;
      }
      const sent = decoded.frame;
      if (sent.type === 'client:tool-register') registered++;
      else if (sent.type === 'client:pong') ponged++;
      else if (sent.type === 'client:tool-result') {
        results++;
        if (sent.call_id !== answer)
          violation(
            summary,
            `an answer for ${sent.call_id.slice(0, 40)}, which was not asked`,
            made.text,
          );
        const name = ToolCallFrame.safeParse(frame).data?.name ?? '?';
        const tool = deepCall !== undefined ? 'too-deep' : CALLABLE.includes(name) ? name : 'other';
        count(
          summary.replies,
          `result:${tool}:${sent.error === undefined || sent.error === null ? 'ok' : 'error'}`,
        );
      } else if (sent.type !== 'client:tool-progress') {
        violation(summary, `unexpected ${sent.type}`, made.text);
      }
    }
    if (results !== (answer === undefined ? 0 : 1))
      violation(summary, `${results} answers, expected ${answer === undefined ? 0 : 1}`, made.text);
    if (ponged !== pongs) violation(summary, `${ponged} pongs, expected ${pongs}`, made.text);
    if (registered !== registrations)
      violation(summary, `${registered} registrations, expected ${registrations}`, made.text);
    if (stranger.received.length > 0)
      violation(summary, 'the provider answered a stranger', made.text);
    proxy.clear();
    stranger.clear();
    if (this.provider.runningCalls !== this.#ids.running.size)
      violation(
        summary,
        `${this.provider.runningCalls} handlers running, expected ${this.#ids.running.size}`,
        made.text,
      );
    if (summary.frames % 1_000 === 0 && prototypePolluted())
      violation(summary, 'a prototype was polluted', made.text);
  }

  /** Cancels whatever still runs (as a proxy would), so the handlers end. */
  async cancelRunning(): Promise<void> {
    const proxy = this.#proxy as WirePeer;
    for (const id of [...this.#ids.running]) {
      await proxy.cancel('robot', id, 'session-reset');
      this.#ids.end(id);
    }
    await settle();
    proxy.clear();
    if (this.provider.runningCalls !== 0)
      violation(this.summary, `${this.provider.runningCalls} handlers still running`, '');
  }

  async close(): Promise<void> {
    await this.provider.close();
    await this.#proxy?.channel.close();
    await this.#stranger?.channel.close();
  }
}
