/**
 * The hermes-agent plugin (examples/hermes), run by python3 as hermes would run it, against
 * `serve` with a provider whose tool runs until stopped: `agent_loop_stopped` for one session
 * cancels that session's call and no other; a burst of stops reaches every session (a queue of 16
 * once delivered 16 of 40); a stop raised while the proxy is down arrives once it is back. Each
 * callback returns at once whatever the proxy does. (test/hermes-plugin-delivery.test.ts covers
 * delivery against hand-made endpoints; test/real-peers/hermes-agent.test.ts the real hermes.)
 */
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_HOOKS,
  countLogs,
  drive,
  expectPrompt,
  killDrivers,
  python,
  stopKwargs,
} from './support/hermes-plugin.js';
import { type ServedProvider, serveWithProvider } from './real-peers/serve-with-provider.js';
import { pause, type WireTool } from './real-peers/wire-provider.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  killDrivers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const slowJob: WireTool = {
  name: 'slow_job',
  description: 'Works until stopped',
  inputSchema: { type: 'object', properties: { job: { type: 'string' } } },
  run: async (call) => {
    await pause(60_000, call.signal);
    return { result: 'finished' };
  },
};

async function served(): Promise<ServedProvider> {
  const world = await serveWithProvider([slowJob], 'robot');
  cleanups.push(() => world.close());
  return world;
}

/** Starts one call per session in `sessions`; settles each with its outcome. */
async function callsIn(world: ServedProvider, sessions: readonly string[]) {
  const outcomes = sessions.map((sessionKey) =>
    world.serve.proxy.call('slow_job', { job: sessionKey }, { sessionKey }).then(
      () => 'resolved',
      (error: unknown) => error,
    ),
  );
  await expect.poll(() => world.provider.calls.length).toBe(sessions.length);
  return outcomes;
}

const cancelledByStop = { code: 'CANCELLED', reason: 'agent-loop-stopped' };

describe.skipIf(python === undefined)('hermes plugin against serve (python3)', () => {
  it("agent_loop_stopped cancels sess-a's call, not sess-b's; the callback returns at once", async () => {
    const world = await served();
    const [a, b] = await callsIn(world, ['sess-a', 'sess-b']);
    const report = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('sess-a') }], flush_timeout: 5 },
      { TOOLPROXY_URL: world.serve.url },
    );
    expect(report.registered).toEqual(ALL_HOOKS);
    expectPrompt(report, 1);
    expect(report.flushed).toBe(true);
    expect(report.logs).toContain('DEBUG toolproxy: agent_loop_stopped delivered (200)');
    expect(await a).toMatchObject(cancelledByStop);
    expect(world.serve.proxy.pendingCalls).toBe(1); // sess-b's call is still running
    expect(world.provider.stopped).toHaveLength(1);
    world.serve.proxy.cancelSession('sess-b', 'caller-aborted');
    expect(await b).toMatchObject({ code: 'CANCELLED' });
  }, 30_000);

  it('a burst of 40 stops for 40 sessions reaches every session', async () => {
    const world = await served();
    const sessions = Array.from({ length: 40 }, (_, index) => `chat-${index}`);
    const outcomes = await callsIn(world, sessions);
    const report = await drive(
      {
        fire: sessions.map((session) => ({
          hook: 'agent_loop_stopped',
          kwargs: stopKwargs(session),
        })),
        flush_timeout: 15,
      },
      { TOOLPROXY_URL: world.serve.url },
    );
    expectPrompt(report, 40);
    expect(report.flushed).toBe(true);
    expect(countLogs(report, /agent_loop_stopped delivered \(200\)/)).toBe(40);
    for (const outcome of await Promise.all(outcomes))
      expect(outcome).toMatchObject(cancelledByStop);
    expect(world.provider.stopped).toHaveLength(40);
    expect(world.serve.proxy.pendingCalls).toBe(0);
  }, 60_000);

  it('40 stops across 4 sessions: each session stopped, no more posts than stops', async () => {
    const world = await served();
    const sessions = ['a', 'b', 'c', 'd'];
    const outcomes = await callsIn(world, sessions);
    const fire = Array.from({ length: 40 }, (_, index) => ({
      hook: 'agent_loop_stopped',
      kwargs: stopKwargs(sessions[index % 4] ?? 'a', `Stop requested #${index}`),
    }));
    const report = await drive({ fire, flush_timeout: 15 }, { TOOLPROXY_URL: world.serve.url });
    expectPrompt(report, 40);
    expect(report.flushed).toBe(true);
    for (const outcome of await Promise.all(outcomes))
      expect(outcome).toMatchObject(cancelledByStop);
    const posts = countLogs(report, /agent_loop_stopped delivered \(200\)/);
    expect(posts).toBeGreaterThanOrEqual(4);
    expect(posts).toBeLessThanOrEqual(40);
    expect(countLogs(report, /dropped|given up/)).toBe(0);
  }, 60_000);

  it('a stop raised while the proxy is down for 2 s arrives once it is back', async () => {
    const world = await served();
    const [call] = await callsIn(world, ['sess-a']);
    const outage = await outageGate(new URL(world.serve.url).port, 2_000);
    cleanups.push(() => outage.close());
    const report = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('sess-a') }], flush_timeout: 15 },
      { TOOLPROXY_URL: `http://127.0.0.1:${outage.port}` },
    );
    expectPrompt(report, 1);
    expect(report.flushed).toBe(true);
    expect(outage.refused()).toBeGreaterThanOrEqual(3); // retried through the outage
    expect(report.logs).toContain('DEBUG toolproxy: agent_loop_stopped delivered (200)');
    expect(await call).toMatchObject(cancelledByStop);
    expect(report.wallMs).toBeGreaterThanOrEqual(2_000);
  }, 30_000);
});

/**
 * A port in front of `targetPort` that is down (each connection reset as it is accepted) for
 * `outageMs` from the first connection, then forwards to it.
 */
async function outageGate(targetPort: string, outageMs: number) {
  let firstAt: number | undefined;
  let refused = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const now = performance.now();
    firstAt ??= now;
    if (now - firstAt < outageMs) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(targetPort), '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
