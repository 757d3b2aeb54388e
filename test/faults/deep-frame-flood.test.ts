/**
 * Parse cost is not character cost (issue 15): three provider identities flood `serve` with
 * 800 KB frames, five a second each, which is within their character budget (4 Mi chars a
 * second), while an honest provider answers an honest MCP client's calls. Two send arrays nested
 * 400,000 deep (refused unparsed past the depth cap); one sends arrays nested 64 deep, side by
 * side, which is within the cap yet as slow to parse, and so is charged for its structure and
 * kept to a frame every few seconds. The honest calls' p95 under the flood must stay within a
 * small factor of their p95 when quiet, measured in the same run. Real sockets and real parsing:
 * the figures are reported (`measured | ...`), the bound is generous for a loaded machine.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { defineTool, ToolProvider } from '../../src/index.js';
import { type ServeFixture, startServeFixture } from '../e2e/serve-fixture.js';
import { measured } from '../support/measured.js';
import { openClient, sleep } from '../support/ws-harness.js';

const FRAME_CHARS = 800_000;
const FRAMES_PER_SECOND = 5;
const QUIET_MS = 3_000;
const FLOOD_MS = 6_000;
/** How much slower the honest p95 may get; the floor absorbs scheduler noise on a busy machine. */
const FACTOR = 5;
const FLOOR_MS = 25;

let fixture: ServeFixture;
let provider: ToolProvider;

const token = (identity: string) =>
  mintProviderToken({ ...fixture.keys, room: 'toolproxy', identity });

beforeAll(async () => {
  fixture = await startServeFixture();
  provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'echo',
        description: 'echo',
        input: z.object({ text: z.string() }),
        handler: ({ text }) => text,
      }),
    ],
  });
  const url = `${fixture.serve.url.replace('http', 'ws')}/bridge`;
  await provider.connect(webSocketProviderChannel({ url, token: () => token('robot'), WebSocket }));
  await fixture.serve.proxy.waitForTool('echo');
});
afterAll(async () => {
  await provider.close();
  await fixture.close();
});

/** Honest MCP calls one after another for `ms`; their latencies in ms. */
async function honestCalls(ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const until = performance.now() + ms;
  for (let n = 0; performance.now() < until; n++) {
    const started = performance.now();
    const result = await fixture.mcp.callTool({ name: 'echo', arguments: { text: `n${n}` } });
    latencies.push(performance.now() - started);
    expect(result.content).toEqual([{ type: 'text', text: `n${n}` }]);
  }
  return latencies;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** An unregister frame of about FRAME_CHARS, its `pad` the given nesting. */
function frame(pad: string): Buffer {
  return Buffer.from(`{"type":"client:tool-unregister","name":"x","pad":${pad}}`);
}
const deep = frame(`${'['.repeat(FRAME_CHARS / 2)}${']'.repeat(FRAME_CHARS / 2)}`);
const capped = frame(
  `[${Array.from({ length: Math.ceil(FRAME_CHARS / 125) }, () => `${'['.repeat(62)}${']'.repeat(62)}`).join(',')}]`,
);

interface Sent {
  sent: number;
  /** Frames the proxy parsed and answered (each is an unregister: answered once parsed). */
  parsed: number;
}

/** Opens an attacker's socket and sends `text` FRAMES_PER_SECOND times a second until stopped. */
async function attacker(identity: string, text: Buffer): Promise<() => Sent> {
  const url = `${fixture.serve.url.replace('http', 'ws')}/bridge?token=${await token(identity)}`;
  const opened = await openClient(url);
  if (!opened.ok) throw new Error(`${identity} refused: ${opened.error}`);
  const { socket } = opened;
  let sent = 0;
  let parsed = 0;
  socket.on('message', (data: Buffer) => {
    if (data.toString().includes('"agent:tool-unregistered"')) parsed++;
  });
  const timer = setInterval(() => {
    // A sender within its character budget does not queue frames behind a slow reader.
    if (socket.bufferedAmount > 2 * text.length) return;
    socket.send(text, { binary: false });
    sent++;
  }, 1_000 / FRAMES_PER_SECOND);
  return () => {
    clearInterval(timer);
    socket.terminate();
    return { sent, parsed };
  };
}

interface FloodRun {
  quiet: number[];
  flood: number[];
  sent: number[];
  parsed: number[];
  tooLarge: number;
  rateLimited: number;
}

/** A quiet spell of honest calls, then as many again under a flood of `text` from three senders. */
async function floodRun(text: Buffer): Promise<FloodRun> {
  await honestCalls(500); // warm up
  const quiet = await honestCalls(QUIET_MS);
  const before = fixture.serve.proxy.stats().frames;
  const stops = await Promise.all(
    ['mallory-1', 'mallory-2', 'mallory-3'].map((identity) => attacker(identity, text)),
  );
  await sleep(200); // the first frames land
  const flood = await honestCalls(FLOOD_MS);
  const counts = stops.map((stop) => stop());
  const after = fixture.serve.proxy.stats().frames;
  await sleep(500); // the rest drains before the next run
  return {
    quiet,
    flood,
    sent: counts.map((count) => count.sent),
    parsed: counts.map((count) => count.parsed),
    tooLarge: after.tooLarge - before.tooLarge,
    rateLimited: after.rateLimited - before.rateLimited,
  };
}

function figures(run: FloodRun): string {
  const { quiet, flood } = run;
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return (
    `quiet p50 ${ms(percentile(quiet, 50))}, p95 ${ms(percentile(quiet, 95))} (${quiet.length} calls); ` +
    `flood p50 ${ms(percentile(flood, 50))}, p95 ${ms(percentile(flood, 95))}, ` +
    `max ${ms(Math.max(...flood))} (${flood.length} calls); attacker frames sent ` +
    `${run.sent.join('/')}, parsed ${run.parsed.join('/')}, too large or deep ${run.tooLarge}, ` +
    `rate-limited ${run.rateLimited}`
  );
}

/** The flood was really sent: each sender kept up at least half its rate. */
function expectSent(run: FloodRun): void {
  const least = (FRAMES_PER_SECOND * FLOOD_MS) / 1_000 / 2;
  expect(run.sent.every((count) => count >= least)).toBe(true);
}

it('honest calls keep their p95 while three identities flood frames nested 400,000 deep', async (context) => {
  expect(deep.length).toBeGreaterThan(FRAME_CHARS);
  const run = await floodRun(deep);
  await measured(context, figures(run));
  expectSent(run);
  // Every deep frame refused unparsed (none was over the character budget: each is 800 KB).
  expect(run.parsed).toEqual([0, 0, 0]);
  expect(run.tooLarge).toBeGreaterThanOrEqual(run.sent[0] ?? 0);
  expect(run.rateLimited).toBe(0);
  expect(percentile(run.flood, 95)).toBeLessThanOrEqual(
    Math.max(FACTOR * percentile(run.quiet, 95), FLOOR_MS),
  );
  expect(fixture.serve.proxy.getTool('echo')?.provider).toBe('robot');
}, 60_000);

// Within the cap, nesting is as slow to parse (V8: ~130 ns a bracket), so the structure is charged:
// each sender gets a frame through every ~6 s instead of 5 a second. One that does get through
// still blocks the loop for its parse (~0.1 s, more on a loaded machine): the p50 is held, the
// p95 is only reported (SECURITY.md section 5: a per-frame bound would need a structure cap).
it('honest calls keep their p50 while three identities flood 800 KB of arrays nested 64 deep', async (context) => {
  expect(capped.length).toBeGreaterThan(FRAME_CHARS - 1_000);
  const run = await floodRun(capped);
  await measured(context, figures(run));
  expectSent(run);
  // Each sender's first frame was parsed (a full bucket) and then one more at most: the next is
  // admitted only once the debt (~26 Mi chars charged against 8 Mi) is repaid at 4 Mi a second,
  // 4.4 s later, and the one after that another 6 s on.
  expect(Math.max(...run.parsed)).toBeLessThanOrEqual(2);
  expect(run.rateLimited).toBeGreaterThan(run.sent.reduce((a, b) => a + b, 0) / 2);
  expect(percentile(run.flood, 50)).toBeLessThanOrEqual(
    Math.max(FACTOR * percentile(run.quiet, 50), FLOOR_MS),
  );
}, 60_000);
