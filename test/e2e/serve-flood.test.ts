/**
 * A token-less connection flood against a real `serve` with 64 connection slots: 1,200 silent TCP
 * sockets from another thread, each reopened as soon as it is closed. Meanwhile the real
 * `toolproxy hook agent_loop_stopped` command is delivered within its 1 s deadline and cancels a
 * slow call, `/healthz` answers and a new provider connects and registers.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { defineTool, ToolProvider } from '../../src/index.js';
import { measured } from '../support/measured.js';
import { deferred } from '../support/util.js';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

const SLOTS = 64;
const FLOOD_SOCKETS = 1_200;
/** The flood stops by itself after this long, or after this many sockets, whatever the test does. */
const FLOOD_MAX_MS = 45_000;
const FLOOD_MAX_OPENS = 400_000;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'toolproxy.mjs');

// Plain JavaScript run in a worker: its own event loop, as an outside attacker's would be.
const FLOOD = `
const { parentPort, workerData } = require('node:worker_threads');
const { connect } = require('node:net');
const { port, sockets, maxMs, maxOpens } = workerData;
const live = new Set();
let opens = 0, closes = 0, errors = 0, stopped = false, reported = false;
const counts = (type) => ({ type, opens, closes, errors, open: live.size });
const report = () => {
  if (reported || live.size > 0) return;
  reported = true;
  clearInterval(ticker);
  parentPort.postMessage(counts('done'));
};
const stop = () => {
  stopped = true;
  for (const socket of live) socket.destroy();
  report();
};
const one = () => {
  if (stopped || opens >= maxOpens) return report();
  opens++;
  const socket = connect(port, '127.0.0.1');
  live.add(socket);
  socket.on('error', () => { errors++; });
  socket.on('close', () => { closes++; live.delete(socket); one(); });
};
parentPort.on('message', (message) => { if (message === 'stop') stop(); });
const ticker = setInterval(() => parentPort.postMessage(counts('tick')), 50);
setTimeout(stop, maxMs);
for (let i = 0; i < sockets; i++) one();
`;

interface FloodCounts {
  opens: number;
  closes: number;
  errors: number;
}

let fixture: ServeFixture;
let provider: ToolProvider;
const aborted = deferred<string | undefined>();
const running = deferred<undefined>();

beforeAll(async () => {
  fixture = await startServeFixture({ maxConnections: SLOTS });
  provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'slow_job',
        description: 'runs 28 s unless cancelled',
        input: z.object({}),
        handler: (_input, { signal }) => {
          running.resolve(undefined);
          return new Promise((resolve) => {
            const timer = setTimeout(() => resolve('ran to the end'), 28_000);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              aborted.resolve((signal.reason as { reason?: string }).reason);
              resolve('cancelled');
            });
          });
        },
      }),
    ],
  });
  await provider.connect(providerChannel('robot'));
  await fixture.serve.proxy.waitForTool('slow_job');
});
afterAll(async () => {
  await provider.close();
  await fixture.close();
});

function providerChannel(identity: string) {
  return webSocketProviderChannel({
    url: `${fixture.serve.url.replace('http', 'ws')}/bridge`,
    token: () => mintProviderToken({ ...fixture.keys, room: 'toolproxy', identity }),
    WebSocket,
  });
}

function hookCommand(base: string, event: string, payload: object) {
  return new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve, reject) => {
    const env = { ...process.env };
    delete env.TOOLPROXY_HOOK_SECRET;
    const child = spawn(process.execPath, [bin, 'hook', event, '--url', base], {
      cwd: root,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(JSON.stringify(payload));
  });
}

function startFlood(port: number) {
  const worker = new Worker(FLOOD, {
    eval: true,
    workerData: { port, sockets: FLOOD_SOCKETS, maxMs: FLOOD_MAX_MS, maxOpens: FLOOD_MAX_OPENS },
  });
  let last: FloodCounts = { opens: 0, closes: 0, errors: 0 };
  const ended = new Promise<FloodCounts>((resolve, reject) => {
    worker.on('message', (message: FloodCounts & { type: string }) => {
      last = message;
      if (message.type === 'done') resolve(message);
    });
    worker.once('error', reject);
    worker.once('exit', () => resolve(last));
  });
  let stopping: Promise<FloodCounts> | undefined;
  return {
    counts: () => last,
    stop: () =>
      (stopping ??= (async () => {
        worker.postMessage('stop');
        const counts = await ended;
        await worker.terminate();
        return counts;
      })()),
  };
}

it('under a flood of silent sockets reopened as closed, a stop hook is delivered and cancels, /healthz answers, a provider connects', async (context) => {
  const base = fixture.serve.url;
  const mcpCall = fixture.mcp.callTool({ name: 'slow_job', arguments: {} }, CallToolResultSchema, {
    timeout: 60_000,
  });
  await running.promise;
  // The command with no flood, for comparison: most of its time is Node's start-up.
  const quietStarted = performance.now();
  const quiet = await hookCommand(base, 'session:start', { session_key: 'other' });
  const quietMs = Math.round(performance.now() - quietStarted);
  expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });

  const flood = startFlood(Number(new URL(base).port));
  try {
    // Saturated: the server has been closing flood sockets to make room, many times over.
    await expect
      .poll(() => flood.counts().closes, { timeout: 30_000, interval: 50 })
      .toBeGreaterThan(3 * FLOOD_SOCKETS);

    const healthStarted = performance.now();
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
    const healthMs = Math.round(performance.now() - healthStarted);
    expect(health.status).toBe(200);

    const hookStarted = performance.now();
    const hook = await hookCommand(base, 'agent_loop_stopped', {
      session_key: 'flood',
      reason: 'Stop requested',
    });
    const hookMs = Math.round(performance.now() - hookStarted);
    // No "not delivered: no answer within 1000 ms": the command's own 1 s deadline was met.
    expect(hook).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await aborted.promise).toBe('agent-loop-stopped');
    const result = await mcpCall;
    expect(result.isError).toBe(true);
    const cancelledMs = Math.round(performance.now() - hookStarted);

    const joinStarted = performance.now();
    const late = new ToolProvider({
      tools: [
        defineTool({
          name: 'late_echo',
          description: 'echo',
          input: z.object({ text: z.string() }),
          handler: ({ text }) => text,
        }),
      ],
    });
    try {
      await late.connect(providerChannel('late-robot'));
      await fixture.serve.proxy.waitForTool('late_echo', { signal: AbortSignal.timeout(10_000) });
      await expect(fixture.serve.proxy.call('late_echo', { text: 'in' })).resolves.toBe('in');
    } finally {
      await late.close();
    }
    const joinMs = Math.round(performance.now() - joinStarted);

    const during = flood.counts();
    const counts = await flood.stop();
    expect(counts.closes).toBeGreaterThan(3 * FLOOD_SOCKETS);
    await measured(
      context,
      `${SLOTS} slots, ${FLOOD_SOCKETS} silent sockets reopened as closed (${during.opens} opened by the time the provider had joined): ` +
        `/healthz 200 in ${healthMs} ms; \`toolproxy hook agent_loop_stopped\` delivered (command ran ${hookMs} ms, Node start-up included; ` +
        `${quietMs} ms with no flood), the 28 s call cancelled ${cancelledMs} ms after it started; ` +
        `a new provider connected, registered and answered in ${joinMs} ms`,
    );
  } finally {
    await flood.stop();
  }
}, 90_000);
