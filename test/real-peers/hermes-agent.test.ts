/**
 * The real hermes-agent (0.19.0 from PyPI, installed by scripts/ensure-hermes-agent.mjs) with the
 * shipped plugin (examples/hermes), as a user installs it: hermes' plugin loader finds it in
 * HERMES_HOME, hermes' MCP client takes the example's `mcp_servers` entry, and hermes'
 * `invoke_hook("agent_loop_stopped", ...)` — what its gateway runs on `/stop` — tells the provider
 * behind `serve` to stop. 0.19.0 has no `agent_loop_stopped` in VALID_HOOKS and never fires it;
 * the driver adds it as the later releases do (see hermes_agent_driver.py) and fires it itself.
 * No model runs: the driver makes the calls hermes would make for a turn's tool call.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countRealPeerTests } from '../support/peer-count.js';
import { mcpPeerGate } from '../support/mcp-peers.js';
import { HermesDriver, hermesHome, Loaded, Stopped } from './hermes-agent-driver.js';
import { type ServedProvider, serveWithProvider } from './serve-with-provider.js';
import { pause, type WireTool } from './wire-provider.js';

const gate = mcpPeerGate('hermes-agent real-peer tests', ['hermes-agent']);
/** hermes' venv python, set by the suite's beforeAll. */
let python = '';

/** What hermes passes on `/stop` in a chat (`_interrupt_and_clear_session`). */
const stopKwargs = (sessionKey: string) => ({
  session_key: sessionKey,
  platform: 'telegram',
  reason: 'Stop requested',
  invalidation_reason: 'stop_command',
});
/** The `_meta["io.nous.hermes/context"]` fields later hermes sends for a chat's call. */
const context = (chat: string) => ({
  session_key: chat,
  session_id: `${chat}-session`,
  platform: 'telegram',
  tool_call_id: `call-${chat}`,
});

interface World {
  served: ServedProvider;
  hermes: HermesDriver;
  /** Epoch ms (as Python's time.time()) at which the provider saw each job's call aborted. */
  aborted: Map<string, number>;
  running(job: string): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function world(): Promise<World> {
  const aborted = new Map<string, number>();
  const slow: WireTool = {
    name: 'slow_job',
    description: 'Works until stopped',
    inputSchema: { type: 'object', properties: { job: { type: 'string' } }, required: ['job'] },
    run: async (call) => {
      call.signal.addEventListener('abort', () =>
        aborted.set(String(call.arguments.job), performance.timeOrigin + performance.now()),
      );
      await pause(60_000, call.signal);
      return { result: 'finished' };
    },
  };
  const served = await serveWithProvider([slow], 'robot');
  cleanups.push(() => served.close());
  // serve is on a port of its own, so TOOLPROXY_URL goes in ~/.hermes/.env as the README says.
  const home = hermesHome(served.mcpUrl, { TOOLPROXY_URL: served.serve.url });
  cleanups.push(() => home.remove());
  const hermes = await HermesDriver.start(python, home.path, {});
  cleanups.push(() => hermes.close());
  const loaded = Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: true }));
  expect(loaded).toMatchObject({ enabled: true, warnings: [] });
  expect((await hermes.request('mcp')).tools).toContain('mcp__toolproxy__slow_job');
  const running = (job: string) =>
    expect
      .poll(() => served.provider.calls.some((call) => call.arguments.job === job), {
        timeout: 20_000,
      })
      .toBe(true);
  return { served, hermes, aborted, running };
}

const stop = async (hermes: HermesDriver, fields: Record<string, unknown>) =>
  Stopped.parse(await hermes.request('stop', fields));
/** Waits until the plugin has posted every stop and the proxy has answered it. */
const flushed = async (hermes: HermesDriver) =>
  expect((await hermes.request('flush', { timeout: 15 })).flushed).toBe(true);

describe.skipIf(gate.skip)('hermes-agent 0.19.0 with the shipped plugin', () => {
  countRealPeerTests('hermes-agent');
  beforeAll(() => {
    python = gate.peers()['hermes-agent'].path;
  });

  it("hermes' loader loads it from HERMES_HOME; agent_loop_stopped only where VALID_HOOKS has it", async () => {
    const home = hermesHome('http://127.0.0.1:9/mcp');
    cleanups.push(() => home.remove());
    const hermes = await HermesDriver.start(python, home.path, {});
    cleanups.push(() => hermes.close());
    // Stock 0.19.0: the session hooks, and no "unknown hook" warning.
    const stock = Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: false }));
    expect(stock).toEqual({
      valid_hooks_has_stop: false,
      enabled: true,
      error: null,
      hooks: ['on_session_finalize', 'on_session_reset'],
      warnings: [],
    });
    const later = Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: true }));
    expect(later).toMatchObject({ valid_hooks_has_stop: true, enabled: true, warnings: [] });
    expect(later.hooks).toEqual(['agent_loop_stopped', 'on_session_finalize', 'on_session_reset']);
  }, 60_000);

  it('invoke_hook tells the provider to stop within milliseconds, returning at once', async () => {
    const { hermes, aborted, running } = await world();
    const latencies: number[] = [];
    const hookUs: number[] = [];
    for (let round = 0; round < 8; round++) {
      const job = `job-${round}`;
      const call = await hermes.call('slow_job', { job }, context(`chat-${round}`));
      await running(job);
      const stopped = await stop(hermes, { kwargs: stopKwargs(`chat-${round}`) });
      await expect.poll(() => aborted.get(job), { timeout: 10_000 }).toBeDefined();
      latencies.push((aborted.get(job) ?? NaN) - stopped.invoked_at_ms);
      hookUs.push(stopped.hook_us);
      // hermes' side of the call ends with the proxy's "cancelled" error for the model.
      expect(await call.result).toMatchObject({ is_error: true });
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[values.length >> 1] ?? NaN;
    console.info(
      `hermes-agent: invoke_hook -> provider abort: median ${median(latencies).toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms; invoke_hook itself: median ` +
        `${median(hookUs).toFixed(0)} us, max ${Math.max(...hookUs).toFixed(0)} us`,
    );
    for (const latency of latencies) expect(latency).toBeLessThan(2_000);
    expect(median(hookUs)).toBeLessThan(5_000);
  }, 120_000);

  it('with forward_hermes_context, a stop in one chat leaves the other chat alone', async () => {
    const { served, hermes, aborted, running } = await world();
    const a = await hermes.call('slow_job', { job: 'a' }, context('chat-a'));
    await running('a');
    // chat-b asked for a call too; hermes sends it once chat-a's is done (one call at a time).
    const b = await hermes.call('slow_job', { job: 'b' }, context('chat-b'));

    await stop(hermes, { kwargs: stopKwargs('chat-b') });
    await flushed(hermes);
    expect(aborted.has('a')).toBe(false);
    expect(served.serve.proxy.pendingCalls).toBe(1);

    await stop(hermes, { kwargs: stopKwargs('chat-a') });
    await expect.poll(() => aborted.has('a')).toBe(true);
    expect(await a.result).toMatchObject({ is_error: true });
    await running('b');
    await stop(hermes, { kwargs: stopKwargs('chat-a') });
    await flushed(hermes);
    expect(aborted.has('b')).toBe(false);

    await stop(hermes, { kwargs: stopKwargs('chat-b') });
    await expect.poll(() => aborted.has('b')).toBe(true);
    expect(await b.result).toMatchObject({ is_error: true });
    expect(served.serve.proxy.pendingCalls).toBe(0);
  }, 120_000);

  it("without it (hermes 0.19.0's own MCP client), a stop in any chat stops the call in flight", async () => {
    const { served, hermes, aborted, running } = await world();
    const a = await hermes.call('slow_job', { job: 'a' }); // hermes' handler: no _meta
    await running('a');
    await stop(hermes, { kwargs: stopKwargs('chat-b') });
    await expect.poll(() => aborted.has('a')).toBe(true);
    // hermes' handler turns the proxy's error result into its {"error": ...} for the model.
    const result = await a.result;
    expect(typeof result === 'string' && JSON.parse(result)).toMatchObject({
      error: expect.stringMatching(/cancel/i),
    });
    expect(served.serve.proxy.pendingCalls).toBe(0);
  }, 120_000);

  it("with the proxy slow or down, invoke_hook returns before any answer and hermes' loop keeps ticking", async () => {
    const held: ServerResponse[] = [];
    const slowProxy = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      held.push(response); // answered only once the stop has returned
    });
    await new Promise<void>((resolve) => slowProxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          slowProxy.closeAllConnections();
          slowProxy.close(() => resolve());
        }),
    );
    const slowUrl = `http://127.0.0.1:${(slowProxy.address() as AddressInfo).port}`;
    const downUrl = `http://127.0.0.1:${await closedPort()}`;
    const home = hermesHome(`${downUrl}/mcp`);
    cleanups.push(() => home.remove());
    const hermes = await HermesDriver.start(python, home.path, {});
    cleanups.push(() => hermes.close());
    Loaded.parse(await hermes.request('load', { add_agent_loop_stopped: true }));

    const slow = await stop(hermes, {
      kwargs: stopKwargs('chat-slow'),
      env: { TOOLPROXY_URL: slowUrl },
      watch_ms: 300,
    });
    await expect.poll(() => held.length).toBe(1);
    expect(held[0]?.headersSent).toBe(false); // still unanswered when the stop had returned
    for (const response of held) response.writeHead(200).end('{}');

    const down = await stop(hermes, {
      kwargs: stopKwargs('chat-down'),
      env: { TOOLPROXY_URL: downUrl },
      watch_ms: 500, // while the plugin retries in the background
    });
    for (const stopped of [slow, down]) {
      expect(stopped.hook_us).toBeLessThan(50_000);
      expect(stopped.ticks).toBeGreaterThan(10);
      expect(stopped.max_gap_ms).toBeLessThan(100);
    }
    const logs = (await hermes.request('logs')).logs as string[];
    expect(logs.some((line) => line.includes('Connection refused'))).toBe(true);
  }, 60_000);
});

async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
