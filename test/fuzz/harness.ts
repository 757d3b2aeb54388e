/**
 * The two decoders under fuzzing, each with an oracle that says, frame by frame, what must come
 * back:
 *
 * - the proxy (`handleProviderFrame` in a real ToolProxy), fed raw text by WirePeers playing
 *   providers: every register frame that is a JSON object under the cap gets exactly one
 *   `agent:tool-registered` (a refusal with a known reason and a detail), every parseable batch one
 *   per item, every parseable unregister one `agent:tool-unregistered`, anything else nothing;
 *   tools registered from fuzzed schemas are called with fuzzed arguments and must answer with a
 *   ToolProxyError, never throw or reject with anything else.
 * - the provider runtime (a ToolProvider), fed raw text by a WirePeer playing the proxy: every
 *   parseable `agent:tool-call` with a new id is answered exactly once (except by a tool that waits
 *   for its cancel), a hello brings the registrations, anything else brings nothing.
 *
 * Both: every frame sent back follows the protocol; no internal error (the channel guards log
 * those with `logger.error`); no prototype polluted; bounded state.
 */
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import {
  decodeFrame,
  defineTool,
  isToolProxyError,
  type Logger,
  ToolProvider,
  ToolProxy,
} from '../../src/index.js';
import {
  ProviderFrameSchemas,
  ProxyFrameSchemas,
  ToolCallFrame,
} from '../../src/protocol/frames.js';
import { DEFAULT_MAX_FRAME_CHARS } from '../../src/protocol/codec.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';
import { type JsonObject, WirePeer } from '../support/wire-peer.js';
import {
  hugeString,
  inputSchema,
  type Json,
  mutated,
  nestedArrays,
  nestedObjects,
  notAFrame,
  Obj,
  obj,
  pollution,
  randomString,
  randomValue,
  Raw,
  schemaBomb,
  write,
} from './frames.js';
import type { Rng } from '../support/rng.js';

export interface FuzzSummary {
  frames: number;
  /** How each frame was made: valid, mutated, text-mutated, special, oversize, not-a-frame. */
  made: Record<string, number>;
  /** What came back: `registered:ok`, `registered:schema-invalid`, `result:echo`, ... */
  replies: Record<string, number>;
  /** How the calls the harness made ended (proxy side): `CANCELLED`, `INVALID_ARGUMENTS`, ... */
  calls: Record<string, number>;
  /** Internal errors caught by a channel guard (`logger.error`): crashes, had they not been caught. */
  crashes: number;
  /** Frames the room refused to carry (over its size limit). */
  refusedByRoom: number;
  violations: string[];
  violationCount: number;
  slowestFrameMs: number;
  slowestCallMs: number;
}

export function emptySummary(): FuzzSummary {
  return {
    frames: 0,
    made: {},
    replies: {},
    calls: {},
    crashes: 0,
    refusedByRoom: 0,
    violations: [],
    violationCount: 0,
    slowestFrameMs: 0,
    slowestCallMs: 0,
  };
}

function count(tally: Record<string, number>, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

function violation(summary: FuzzSummary, what: string, text: string): void {
  summary.violationCount++;
  if (summary.violations.length < 20) {
    const shown = text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text;
    summary.violations.push(`${what} — frame: ${JSON.stringify(shown)}`);
  }
}

/**
 * Lets everything the room queued be delivered, and whatever that sets off. The room and both
 * runtimes only ever queue microtasks, so draining enough rounds of them is enough (and much
 * cheaper than a turn of the event loop per frame). Were a reply ever to come later, the oracle of
 * the next frame would see it as unexpected.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await Promise.resolve();
}

/** A logger that counts errors (what the channel guards log when a handler throws). */
function countingLogger(summary: FuzzSummary): Logger {
  const ignore = () => {};
  return {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: () => {
      summary.crashes++;
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Nesting of JSON text, found another way than the scanner under test (strings cut out by a
 * regex, then brackets counted): the cap is on the text, so a deep member a duplicate key hides
 * from JSON.parse still counts, and so does text that is not JSON at all. An unterminated string
 * runs to the end.
 */
function textDepth(text: string): number {
  const bare = text.replace(/"(?:[^"\\]|\\[\s\S])*"/g, '0').replace(/".*$/s, '');
  let depth = 0;
  let deepest = 0;
  for (const char of bare) {
    if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if ((char === ']' || char === '}') && depth > 0) depth--;
  }
  return deepest;
}

/** How a proxy writes a call's head: `type`, then `call_id`, read from the first 512 chars. */
const DEEP_CALL_HEAD =
  /^\s*\{\s*"type"\s*:\s*"agent:tool-call"\s*,\s*"call_id"\s*:\s*"([\w.:-]{1,128})"/;

function tooDeep(text: string): boolean {
  return textDepth(text) > DEFAULT_MAX_JSON_DEPTH;
}

/** JSON.parse that says undefined instead of throwing. */
function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---- prototypes ----------------------------------------------------------------------------------

const PROTOTYPES: object[] = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
  Promise.prototype,
  Error.prototype,
];

/** The own keys of the built-in prototypes: must be the same after fuzzing as before. */
export function prototypeKeys(): string {
  return PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort().join(',')).join('|');
}

/** True if a fresh object sees something a pollution payload would have planted. */
export function prototypePolluted(): boolean {
  const probe: Record<string, unknown> = {};
  return (
    probe.polluted !== undefined ||
    probe.isAdmin !== undefined ||
    Object.getPrototypeOf(probe) !== Object.prototype ||
    typeof probe.toString !== 'function'
  );
}

// ---- the proxy -----------------------------------------------------------------------------------

const REGISTRATION_REASONS = new Set([
  'name-invalid',
  'schema-invalid',
  'description-invalid',
  'metadata-invalid',
  'too-many-tools',
  'not-allowed',
  'name-taken',
  'registry-collision',
  'register-failed',
]);

const TOOL_NAMES = ['t0', 't1', 't2', 't3', 't4', 't5', 'move_arm', 'target', 'grip-2', '_x'];

function toolName(rng: Rng): Json {
  if (rng.chance(0.75)) return rng.pick(TOOL_NAMES);
  if (rng.chance(0.1)) return hugeString(rng, 200 + rng.int(200));
  return randomString(rng, 70);
}

function registrationBody(rng: Rng): Obj {
  const body = obj({
    name: toolName(rng),
    description: rng.chance(0.95) ? randomString(rng, 40) : hugeString(rng, 3_000 + rng.int(3_000)),
    input_schema: inputSchema(rng),
  });
  if (rng.chance(0.3)) {
    body.set(
      'metadata',
      obj({
        max_execution_time_ms: rng.chance(0.7) ? 1 + rng.int(200_000) : randomValue(rng, 0),
        annotations: obj({ title: randomString(rng, 30), readOnlyHint: rng.chance(0.5) }),
      }),
    );
  }
  return body;
}

/** A frame a provider might send, valid by construction (the mutations come after). */
function providerFrameTree(rng: Rng, liveCallIds: readonly string[]): Obj {
  const callId = () =>
    liveCallIds.length > 0 && rng.chance(0.8) ? rng.pick(liveCallIds) : randomString(rng, 20);
  const roll = rng.int(100);
  if (roll < 24)
    return new Obj([['type', 'client:tool-register'], ...registrationBody(rng).entries]);
  if (roll < 32) {
    const tools: Json[] = Array.from({ length: rng.int(4) }, () =>
      rng.chance(0.9) ? registrationBody(rng) : randomValue(rng, 1),
    );
    const batch = obj({ type: 'client:tool-register-batch', tools });
    if (rng.chance(0.3)) batch.set('replace', rng.chance(0.7));
    return batch;
  }
  if (roll < 48) return obj({ type: 'client:tool-unregister', name: toolName(rng) });
  if (roll < 75) {
    const frame = obj({ type: 'client:tool-result', call_id: callId() });
    if (rng.chance(0.7)) frame.set('result', randomValue(rng, 3));
    if (rng.chance(0.4)) {
      frame.set(
        'error',
        rng.pick<Json>([
          null,
          'it broke',
          '',
          obj({ message: 'joint limit', code: 'E_LIMIT', data: randomValue(rng, 2) }),
          obj({ message: randomString(rng) }),
        ]),
      );
    }
    return frame;
  }
  if (roll < 90) {
    const frame = obj({ type: 'client:tool-progress', call_id: callId(), progress: rng.int(100) });
    if (rng.chance(0.5)) frame.set('total', 100);
    if (rng.chance(0.5)) frame.set('message', randomString(rng, 30));
    return frame;
  }
  if (roll < 92) {
    const level = rng.pick(['debug', 'info', 'warning', 'error', 'emergency', 'verbose', '']);
    const frame = obj({ type: 'client:tool-log', call_id: callId(), level });
    if (rng.chance(0.9)) frame.set('data', randomValue(rng, 2));
    if (rng.chance(0.3)) frame.set('logger', randomString(rng, 30));
    return frame;
  }
  return obj({
    type: rng.pick([
      'client:message',
      'agent:hello',
      'client:tool-call',
      '',
      'constructor',
      'toString',
    ]),
    call_id: callId(),
  });
}

/** Frames built to hurt a decoder, one of each kind in turn. */
function providerSpecial(rng: Rng, liveCallIds: readonly string[]): string {
  const callId = liveCallIds.length > 0 ? rng.pick(liveCallIds) : 'tc_000000000000';
  const register = (schema: Json, name: Json = rng.pick(TOOL_NAMES)) =>
    write(obj({ type: 'client:tool-register', name, description: 'bomb', input_schema: schema }));
  switch (rng.int(12)) {
    case 0:
      return register(schemaBomb(rng));
    case 1:
      return write(
        obj({ type: 'client:tool-result', call_id: callId, result: nestedArrays(100_000) }),
      );
    case 2:
      return write(
        obj({
          type: 'client:tool-result',
          call_id: callId,
          error: obj({ message: 'deep', data: nestedObjects(50_000) }),
        }),
      );
    case 3:
      return register(obj({ type: 'object' }), hugeString(rng, 100_000));
    case 4:
      return write(
        obj({ type: 'client:tool-result', call_id: callId, error: hugeString(rng, 9_000) }),
      );
    case 5:
      return write(
        obj({
          type: 'client:tool-progress',
          call_id: callId,
          progress: new Raw('1e999'),
          message: hugeString(rng, 2_000),
        }),
      );
    case 6:
      return nestedArrays(100_000).text;
    case 7:
      return write(
        new Obj([
          ['type', 'client:tool-register'],
          ...pollution(rng).entries,
          ['name', 't0'],
          ['input_schema', pollution(rng)],
        ]),
      );
    case 8:
      return write(
        obj({
          type: 'client:tool-register-batch',
          tools: Array.from({ length: 257 }, () =>
            obj({ name: 't0', input_schema: obj({ type: 'object' }) }),
          ),
        }),
      );
    case 9:
      // lone surrogates, raw, in every string
      return `{"type":"client:tool-register","name":"t\ud800","description":"\udc00\ud800","input_schema":{"type":"object","properties":{"\ud800":{"type":"string","pattern":"\ud800"}}}}`;
    case 10:
      return write(
        obj({
          type: 'client:tool-result',
          call_id: callId,
          result: obj({ big: hugeString(rng, 150_000) }),
        }),
      );
    default:
      return write(
        obj({
          type: 'client:tool-register',
          name: 't1',
          input_schema: obj({ type: 'object', properties: obj({ x: nestedObjects(30) }) }),
          metadata: pollution(rng),
        }),
      );
  }
}

/** Over the proxy's 1,048,576-char cap, with a result head naming a live call half of the time. */
function oversize(rng: Rng, liveCallIds: readonly string[]): string {
  // Just over the cap: what matters is the length, not what it is made of.
  const body = 'x'.repeat(DEFAULT_MAX_FRAME_CHARS + 10);
  if (rng.chance(0.5) && liveCallIds.length > 0) {
    return `{"type":"client:tool-result","call_id":${JSON.stringify(rng.pick(liveCallIds))},"result":${JSON.stringify(body)}}`;
  }
  return write(
    obj({
      type: 'client:tool-register',
      name: 't0',
      description: body,
      input_schema: obj({ type: 'object' }),
    }),
  );
}

export interface Made {
  readonly text: string;
  readonly kind: string;
}

function make(
  rng: Rng,
  tree: () => Obj,
  special: () => string,
  oversized: (() => string) | undefined,
): Made {
  const roll = rng.next();
  if (oversized !== undefined && roll < 0.0004) return { text: oversized(), kind: 'oversize' };
  if (roll < 0.004) return { text: special(), kind: 'special' };
  if (roll < 0.2) return { text: write(tree()), kind: 'valid' };
  if (roll < 0.62) return { text: mutated(rng, tree(), 1 + rng.int(3), 0), kind: 'mutated' };
  if (roll < 0.96) return { text: mutated(rng, tree(), rng.int(3), 1), kind: 'text-mutated' };
  return { text: notAFrame(rng), kind: 'not-a-frame' };
}

interface ExpectedReply {
  readonly type: 'agent:tool-registered' | 'agent:tool-unregistered';
  /** The names the reply may carry: as sent, or cut to 256 chars when the item did not parse. */
  readonly names: readonly string[];
}

/** zod counts string lengths in code points (PROTOCOL.md's other caps are UTF-16 units). */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return count;
}

function replyNames(item: unknown): string[] {
  const name = isObject(item) ? item.name : undefined;
  return typeof name === 'string' ? [name, name.slice(0, 256)] : [''];
}

/** What the proxy must answer to `text` (PROTOCOL.md 3.1, 4.6, 10). */
function expectedProxyReplies(text: string): ExpectedReply[] {
  if (text.length > DEFAULT_MAX_FRAME_CHARS || tooDeep(text)) return [];
  // Only these frame types are answered. JSON can write their `type` without these words only
  // with \u escapes, so this skips parsing exactly the frames that cannot be answered.
  if (!text.includes('tool-register') && !text.includes('tool-unregister') && !text.includes('\\u'))
    return [];
  const frame = parse(text);
  if (!isObject(frame)) return [];
  switch (frame.type) {
    case 'client:tool-register':
      return [{ type: 'agent:tool-registered', names: replyNames(frame) }];
    case 'client:tool-register-batch': {
      const { tools, replace } = frame;
      if (!Array.isArray(tools) || tools.length > 256) return [];
      if (replace !== undefined && typeof replace !== 'boolean') return [];
      return tools.map((item: unknown) => ({
        type: 'agent:tool-registered',
        names: replyNames(item),
      }));
    }
    case 'client:tool-unregister':
      return typeof frame.name === 'string' && codePoints(frame.name) <= 256
        ? [{ type: 'agent:tool-unregistered', names: [frame.name] }]
        : [];
    default:
      return [];
  }
}

/** Arguments for calling a fuzzed tool: a JSON object, own `__proto__` keys and deep nesting included. */
function fuzzedArguments(rng: Rng): Record<string, unknown> {
  const tree = rng.chance(0.05)
    ? obj({ x: rng.chance(0.5) ? nestedArrays(50_000) : nestedObjects(20_000, 'children') })
    : rng.chance(0.1)
      ? pollution(rng)
      : randomValue(rng, 3);
  const value = parse(write(tree));
  return isObject(value) ? value : {};
}

export class ProxyFuzz {
  readonly summary = emptySummary();
  readonly room = new InMemoryRoom({ maxFrameBytes: 4 * DEFAULT_MAX_FRAME_CHARS });
  // Every frame's answer is checked, at thousands of frames a second from one provider: the rate
  // limits (test/limits.test.ts) would drop most of them, so they are off here.
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

// ---- the provider runtime ------------------------------------------------------------------------

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

const CALLABLE = ['echo', 'slow', 'strict', 'nope', '__proto__', 'constructor', ''];

/** A frame a proxy might send, valid by construction. */
function proxyFrameTree(rng: Rng, freshId: () => string, recentIds: readonly string[]): Obj {
  const anyId = () =>
    recentIds.length > 0 && rng.chance(0.8) ? rng.pick(recentIds) : randomString(rng, 20);
  const roll = rng.int(100);
  if (roll < 3)
    return obj({
      type: 'agent:hello',
      protocol_version: 1,
      default_timeout_ms: 30_000,
      max_tool_timeout_ms: 120_000,
    });
  // Long timeouts: the fuzz checks the pong; the watch's timing is test/liveness.test.ts's.
  if (roll < 5) return obj({ type: 'agent:ping', timeout_ms: 600_000 + rng.int(10_000) });
  if (roll < 55) {
    const args: Json = rng.chance(0.3)
      ? obj({ n: rng.int(100), tags: ['a', 'b'] })
      : rng.chance(0.9)
        ? randomValue(rng, 3)
        : pollution(rng);
    const frame = obj({
      type: 'agent:tool-call',
      call_id: rng.chance(0.9) ? freshId() : anyId(),
      name: rng.chance(0.9) ? rng.pick(CALLABLE) : randomString(rng, 10),
      arguments: args instanceof Obj ? args : obj({ value: args }),
    });
    if (rng.chance(0.7)) frame.set('timeout_ms', 1 + rng.int(60_000));
    return frame;
  }
  if (roll < 75) {
    const frame = obj({ type: 'agent:tool-call-cancelled', call_id: anyId() });
    if (rng.chance(0.7))
      frame.set(
        'reason',
        rng.pick([
          'agent-loop-stopped',
          'session-reset',
          'caller-aborted',
          'who-knows',
          '__proto__',
        ]),
      );
    if (rng.chance(0.5)) frame.set('name', rng.pick(CALLABLE));
    if (rng.chance(0.5)) frame.set('detail', randomString(rng, 30));
    return frame;
  }
  if (roll < 85) return obj({ type: 'agent:tool-call-timeout', call_id: anyId() });
  if (roll < 95) {
    return obj({
      type: rng.chance(0.7) ? 'agent:tool-registered' : 'agent:tool-unregistered',
      name: rng.pick(CALLABLE),
      success: rng.chance(0.5),
      reason: randomString(rng, 12),
      detail: randomString(rng, 30),
      exposed_name: randomString(rng, 12),
    });
  }
  return obj({
    type: rng.pick(['client:tool-result', 'agent:message', '', 'hasOwnProperty']),
    call_id: anyId(),
  });
}

function proxySpecial(rng: Rng, freshId: () => string): string {
  const call = (args: Json, name: Json = rng.pick(['echo', 'strict'])) =>
    write(obj({ type: 'agent:tool-call', call_id: freshId(), name, arguments: args }));
  switch (rng.int(8)) {
    case 0:
      return call(obj({ deep: nestedArrays(100_000) }));
    case 1:
      return call(obj({ deep: nestedObjects(50_000) }));
    case 2:
      return call(obj({ big: hugeString(rng, 200_000) }), 'echo');
    case 3:
      return call(new Obj([...pollution(rng).entries, ['n', 2]]));
    case 4:
      return call(obj({ n: 1 }), hugeString(rng, 100_000));
    case 5:
      return write(
        obj({
          type: 'agent:tool-call',
          call_id: hugeString(rng, 200),
          name: 'echo',
          arguments: obj({}),
        }),
      );
    case 6:
      return `{"type":"agent:tool-call","call_id":"${freshId()}","name":"echo","arguments":{"\ud800":"\udc00","s":"a\ud800"}}`;
    default:
      return nestedObjects(100_000, 'type').text;
  }
}

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

/** Runs `frames` frames through one target, reporting progress every `every` frames. */
export async function fuzz(
  target: { step(): Promise<void>; summary: FuzzSummary },
  frames: number,
  progress?: (done: number) => void,
  every = 10_000,
): Promise<FuzzSummary> {
  for (let i = 1; i <= frames; i++) {
    await target.step();
    if (progress !== undefined && i % every === 0) progress(i);
  }
  return target.summary;
}

/**
 * The one registration answer a provider gets unasked: its suffixed tool has its plain name back,
 * freed by another provider's frame (PROTOCOL 4.2), so the ack carries no `exposed_name`.
 */
function isReclaimNotice(frame: JsonObject): boolean {
  return (
    frame.type === 'agent:tool-registered' &&
    frame.success === true &&
    typeof frame.name === 'string' &&
    frame.exposed_name === undefined &&
    frame.reason === undefined
  );
}
