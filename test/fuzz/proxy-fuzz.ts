/**
 * The proxy under fuzzing (`handleProviderFrame` in a real ToolProxy), fed raw text by WirePeers
 * playing providers: every register frame that is a JSON object under the cap gets exactly one
 * `agent:tool-registered` (a refusal with a known reason and a detail), every parseable batch one
 * per item, every parseable unregister one `agent:tool-unregistered`, anything else nothing;
 * tools registered from fuzzed schemas are called with fuzzed arguments and must answer with a
 * ToolProxyError, never throw or reject with anything else.
 */
import { InMemoryRoom } from '../../bridge/memory.js';
import { decodeFrame, isToolProxyError, ToolProxy } from '../../src/index.js';
import { DEFAULT_MAX_FRAME_CHARS } from '../../src/protocol/codec.js';
import { ProxyFrameSchemas } from '../../src/protocol/frames.js';
import type { Rng } from '../support/rng.js';
import { type JsonObject, WirePeer } from '../support/wire-peer.js';
import { type Made, make } from './frame-mix.js';
import { prototypePolluted } from './prototypes.js';
import { fuzzedArguments, oversize, providerFrameTree, providerSpecial } from './proxy-inputs.js';
import { expectedProxyReplies, isReclaimNotice, REGISTRATION_REASONS } from './proxy-oracle.js';
import { count, emptySummary, violation } from './summary.js';
import { countingLogger, settle } from './world.js';

export class ProxyFuzz {
  readonly summary = emptySummary();
  readonly room = new InMemoryRoom({ maxFrameBytes: 4 * DEFAULT_MAX_FRAME_CHARS });
  // Every frame's answer is checked, at thousands of frames a second from one provider: the rate
  // limits (test/src/tool-proxy/limits/limits.test.ts) would drop most of them, so they are off here.
  readonly proxy = new ToolProxy({
    logger: countingLogger(this.summary),
    framesPerSecond: false,
    charsPerSecond: false,
    registrationsPerSecond: false,
  });
  readonly #rng: Rng;
  /** Providers the frames come from; the last has an empty identity (its frames are dropped). */
  #peers: WirePeer[] = [];
  /** Calls the provider `fz0` was sent and that may still be pending: results name them. */
  #live: string[] = [];
  #targetCalls = 0;

  constructor(rng: Rng) {
    this.#rng = rng;
  }

  async start(): Promise<void> {
    await this.proxy.start(this.room.join('agent', { isAgent: true }));
    for (const identity of ['fz0', 'fz1', ''])
      this.#peers.push(await WirePeer.join(this.room, identity));
    await settle();
  }

  get #main(): WirePeer {
    return this.#peers[0] as WirePeer;
  }

  /** Generates one frame, sends it from one of the providers and checks what came back. */
  async step(): Promise<void> {
    const rng = this.#rng;
    if (this.summary.frames % 64 === 0) await this.#keepTargetBusy();
    const live = this.#live;
    const made = make(
      rng,
      () => providerFrameTree(rng, live),
      () => providerSpecial(rng, live),
      () => oversize(rng, live),
    );
    const roll = rng.next();
    const peer = (
      roll < 0.9 ? this.#peers[0] : roll < 0.98 ? this.#peers[1] : this.#peers[2]
    ) as WirePeer;
    await this.feed(peer, made);
  }

  async feed(peer: WirePeer, made: Made): Promise<void> {
    const { summary } = this;
    summary.frames++;
    count(summary.made, made.kind);
    const expected = peer.identity === '' ? [] : expectedProxyReplies(made.text);
    const started = performance.now();
    const carried = await peer.sendText(made.text).then(
      () => true,
      () => false,
    );
    await settle();
    summary.slowestFrameMs = Math.max(summary.slowestFrameMs, performance.now() - started);
    if (!carried) summary.refusedByRoom++;

    const replies: JsonObject[] = [];
    // Everything received since the last frame: the answers to this one, and the notices of calls
    // cancelled meanwhile.
    for (const p of this.#peers) {
      for (const received of p.received) {
        if (!decodeFrame(received.text, ProxyFrameSchemas).ok) {
          violation(
            summary,
            `the proxy sent a frame that breaks the protocol: ${received.text.slice(0, 200)}`,
            made.text,
          );
          continue;
        }
        const frame = received.frame as JsonObject;
        if (p === this.#main) this.#track(frame);
        if (
          p === peer &&
          (frame.type === 'agent:tool-registered' || frame.type === 'agent:tool-unregistered')
        )
          replies.push(frame);
        else if (isReclaimNotice(frame)) count(summary.replies, 'registered:reclaimed');
        else if (frame.type === 'agent:tool-registered' || frame.type === 'agent:tool-unregistered')
          violation(summary, `${p.identity} got an answer to a frame it did not send`, made.text);
      }
      // What a test WirePeer received is checked now; keep memory flat over a million frames.
      p.clear();
    }

    const wanted = carried ? expected : [];
    const matches =
      replies.length === wanted.length &&
      replies.every((reply, i) => {
        const want = wanted[i];
        return (
          want !== undefined && want.type === reply.type && want.names.includes(String(reply.name))
        );
      });
    if (!matches) {
      const got = replies.map((r) => ({ type: r.type, name: r.name }));
      violation(
        summary,
        `expected ${JSON.stringify(wanted).slice(0, 300)}, got ${JSON.stringify(got).slice(0, 300)}`,
        made.text,
      );
    }
    for (const reply of replies) await this.#checkReply(reply, made.text);
    if (summary.frames % 1_000 === 0 && prototypePolluted())
      violation(summary, 'a prototype was polluted', made.text);
  }

  async #checkReply(reply: JsonObject, text: string): Promise<void> {
    const { summary } = this;
    const kind = reply.type === 'agent:tool-registered' ? 'registered' : 'unregistered';
    if (reply.success === true) {
      count(summary.replies, `${kind}:ok`);
      if (reply.reason !== undefined) violation(summary, 'a success with a reason', text);
      if (kind === 'registered' && this.#rng.chance(0.5)) {
        await this.#callFuzzedTool(
          typeof reply.exposed_name === 'string' ? reply.exposed_name : String(reply.name),
        );
      }
      return;
    }
    const reason = String(reply.reason);
    count(summary.replies, `${kind}:${reason}`);
    const known =
      kind === 'registered'
        ? REGISTRATION_REASONS.has(reason)
        : reason === 'not-found' || reason === 'not-owned-by-you';
    if (!known) violation(summary, `unknown reason ${reason}`, text);
    if (kind === 'registered' && (typeof reply.detail !== 'string' || reply.detail === ''))
      violation(summary, 'a refusal without a detail', text);
  }

  /** Calls a tool registered from a fuzzed schema, then cancels: validation must answer cleanly. */
  async #callFuzzedTool(name: string): Promise<void> {
    const { summary } = this;
    const args = fuzzedArguments(this.#rng);
    let threw = false;
    const started = performance.now();
    let outcome: Promise<string> = Promise.resolve('threw');
    try {
      const call = this.proxy.call(name, args);
      outcome = call.then(
        () => 'resolved',
        (error: unknown) =>
          isToolProxyError(error) ? error.code : `not a ToolProxyError: ${String(error)}`,
      );
      call.cancel();
    } catch {
      threw = true;
    }
    summary.slowestCallMs = Math.max(summary.slowestCallMs, performance.now() - started);
    if (threw)
      violation(summary, `proxy.call threw synchronously for ${name}`, JSON.stringify(args));
    const code = await outcome;
    count(summary.calls, code);
    if (
      code !== 'CANCELLED' &&
      code !== 'INVALID_ARGUMENTS' &&
      code !== 'TOOL_NOT_FOUND' &&
      code !== 'threw'
    )
      violation(summary, `a call to ${name} ended as ${code}`, JSON.stringify(args).slice(0, 300));
  }

  #track(frame: JsonObject): void {
    const callId = String(frame.call_id);
    if (frame.type === 'agent:tool-call') {
      this.#live.push(callId);
      if (this.#live.length > 32) this.#live.shift();
    } else if (
      frame.type === 'agent:tool-call-cancelled' ||
      frame.type === 'agent:tool-call-timeout'
    ) {
      this.#live = this.#live.filter((id) => id !== callId);
    }
  }

  /** Keeps a few calls to `target` (on `fz0`) pending, so fuzzed results and progress meet real calls. */
  async #keepTargetBusy(): Promise<void> {
    const { summary } = this;
    await this.#main.send({
      type: 'client:tool-register',
      name: 'target',
      input_schema: { type: 'object' },
    });
    await settle();
    this.#main.clear();
    while (this.#targetCalls < 4 && this.proxy.getTool('target')?.provider === 'fz0') {
      this.#targetCalls++;
      const call = this.proxy.call('target', { n: summary.frames });
      void call.then(
        () => {
          this.#targetCalls--;
          count(summary.calls, 'target:result');
        },
        (error: unknown) => {
          this.#targetCalls--;
          const code = isToolProxyError(error)
            ? error.code
            : `not a ToolProxyError: ${String(error)}`;
          count(summary.calls, `target:${code}`);
          if (!isToolProxyError(error))
            violation(summary, `a call to target rejected with ${code}`, '');
        },
      );
    }
    await settle();
    for (const received of this.#main.received)
      if (received.frame !== undefined) this.#track(received.frame);
    this.#main.clear();
  }

  /** Bounded state after any number of frames. */
  checkBounds(): void {
    const { summary, proxy } = this;
    const tools = proxy.tools().length;
    if (tools > 64 * 2) violation(summary, `${tools} tools registered by two providers`, '');
    if (proxy.pendingCalls > 4) violation(summary, `${proxy.pendingCalls} calls pending`, '');
    if (proxy.watchedSignals !== 0) violation(summary, 'signals still watched', '');
  }

  async close(): Promise<void> {
    await this.proxy.close();
    for (const peer of this.#peers) await peer.channel.close();
  }
}
