/**
 * How the hermes plugin (examples/hermes) delivers, against hook endpoints of our own, run by
 * python3 through its stand-in driver: stops for one session coalesce into one waiting stop (the
 * newest); a proxy that refuses, hangs or answers 503 is retried until RETRY_FOR_S, then given up;
 * an answer that can never succeed (401) is not retried; each callback returns at once and never
 * raises meanwhile; the session hooks go to their paths with their kwargs, the secret and the
 * URL's path prefix; agent_loop_stopped is registered only where hermes knows it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mapAgentHook } from '../proxy/hooks/index.js';
import { HookIngress, hookEventFromPath } from '../proxy/hooks/index.js';
import { observe, setup } from './support/harness.js';
import {
  ALL_HOOKS,
  closedPort,
  countLogs,
  drive,
  expectPrompt,
  hookEndpoint,
  killDrivers,
  python,
  stopKwargs,
} from './support/hermes-plugin.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  killDrivers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function endpoint(...args: Parameters<typeof hookEndpoint>) {
  const server = await hookEndpoint(...args);
  cleanups.push(() => server.close());
  return server;
}

const sessionOf = (body: string) => (JSON.parse(body) as { session_key?: string }).session_key;
const reasonOf = (body: string) => (JSON.parse(body) as { reason?: string }).reason;

describe.skipIf(python === undefined)('hermes plugin delivery (python3)', () => {
  it('stops for one session coalesce: at most one in flight and one waiting, the newest last', async () => {
    // The first stop of each session is held until both sessions have one in flight, so every
    // later stop finds its session busy and has to wait.
    const held = new Set<string>();
    const responses: Array<() => void> = [];
    const server = await endpoint((request, response) => {
      const session = sessionOf(request.body) ?? '';
      if (held.has(session) || held.size >= 2) return 200;
      held.add(session);
      responses.push(() => response.writeHead(200).end('{}'));
      if (held.size === 2) for (const release of responses) release();
      return 'hold';
    });
    const fire = Array.from({ length: 20 }, (_, index) => ({
      hook: 'agent_loop_stopped',
      kwargs: stopKwargs(index % 2 === 0 ? 's1' : 's2', `Stop requested #${index}`),
    }));
    const report = await drive({ fire, flush_timeout: 10 }, { TOOLPROXY_URL: server.url });
    expectPrompt(report, 20);
    expect(report.flushed).toBe(true);
    for (const session of ['s1', 's2']) {
      const posts = server.received.filter((request) => sessionOf(request.body) === session);
      expect(posts.length).toBeGreaterThanOrEqual(1);
      expect(posts.length).toBeLessThanOrEqual(2); // of 10 stops
      const newest = session === 's1' ? 'Stop requested #18' : 'Stop requested #19';
      expect(reasonOf(posts.at(-1)?.body ?? '{}')).toBe(newest);
    }
  }, 30_000);

  it('with the proxy never up, each hook is retried, then given up after RETRY_FOR_S; callbacks return at once', async () => {
    const port = await closedPort();
    const report = await drive(
      {
        fire: [
          { hook: 'agent_loop_stopped', kwargs: stopKwargs('s1') },
          { hook: 'on_session_finalize', kwargs: { session_id: 'old', platform: 'cli' } },
          { hook: 'on_session_reset', kwargs: { session_id: 'new', platform: 'cli' } },
        ],
        settings: { RETRY_FOR_S: 1.0 },
        flush_timeout: 10,
      },
      { TOOLPROXY_URL: `http://127.0.0.1:${port}` },
    );
    expectPrompt(report, 3);
    expect(report.flushed).toBe(true);
    for (const hook of ALL_HOOKS) {
      const refused = new RegExp(`^DEBUG toolproxy: ${hook} not delivered to .*[Rr]efused`);
      expect(countLogs(report, refused)).toBeGreaterThanOrEqual(3);
      expect(countLogs(report, new RegExp(`^WARNING toolproxy: ${hook} .* given up`))).toBe(1);
    }
    expect(report.wallMs).toBeLessThan(8_000);
  }, 30_000);

  it('with a proxy that never answers, each try times out and the stop is given up after the bound', async () => {
    const server = await endpoint(() => 'hold');
    const report = await drive(
      {
        fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('s1'), repeat: 24 }],
        settings: { TIMEOUT_S: 0.3, RETRY_FOR_S: 1.0 },
        flush_timeout: 10,
      },
      { TOOLPROXY_URL: server.url },
    );
    expectPrompt(report, 24);
    expect(report.flushed).toBe(true);
    // 24 stops, one session: tried again and again within the bound, never 24 copies.
    expect(server.received.length).toBeGreaterThanOrEqual(2);
    expect(server.received.length).toBeLessThanOrEqual(6);
    expect(countLogs(report, /not delivered to .*timed out/i)).toBe(server.received.length);
    expect(countLogs(report, /^WARNING toolproxy: agent_loop_stopped for 's1' given up/)).toBe(1);
    expect(report.wallMs).toBeLessThan(8_000);
  }, 30_000);

  it('503 is tried again until taken; 401 is not tried again', async () => {
    let unavailable = 2;
    const flaky = await endpoint(() => (unavailable-- > 0 ? 503 : 200));
    const retried = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('s1') }], flush_timeout: 10 },
      { TOOLPROXY_URL: flaky.url },
    );
    expect(flaky.received).toHaveLength(3);
    expect(retried.logs).toContain('DEBUG toolproxy: agent_loop_stopped delivered (200)');

    const refusing = await endpoint(() => 401);
    const refused = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('s1') }], flush_timeout: 10 },
      { TOOLPROXY_URL: refusing.url },
    );
    expect(refusing.received).toHaveLength(1);
    expect(
      countLogs(refused, /^WARNING toolproxy: agent_loop_stopped refused by the proxy \(401\)/),
    ).toBe(1);
  }, 30_000);

  it('each try carries X-Toolproxy-Event-Age-Ms, measured anew: whole ms, growing by at least the backoff', async () => {
    let unavailable = 3;
    const flaky = await endpoint(() => (unavailable-- > 0 ? 503 : 200));
    const report = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('s1') }], flush_timeout: 10 },
      { TOOLPROXY_URL: flaky.url },
    );
    expect(report.flushed).toBe(true);
    const ages = flaky.received.map((request) => request.headers['x-toolproxy-event-age-ms']);
    expect(ages).toHaveLength(4);
    for (const age of ages) expect(age).toMatch(/^(0|[1-9][0-9]*)$/);
    const ms = ages.map(Number);
    // The first try goes at once; every later one waits its backoff (50, 100, 200 ms) at least.
    expect(ms[0]).toBeLessThan(2_000);
    for (let i = 1; i < ms.length; i++) expect(ms[i]).toBeGreaterThan(ms[i - 1]!);
    expect(ms.at(-1)! - ms[0]!).toBeGreaterThanOrEqual(340);
  }, 30_000);

  it("against the real ingress, a stop that gets through after retries leaves the next turn's call alone", async () => {
    const { proxy } = await setup({ defaultTimeoutMs: 60_000 });
    cleanups.push(() => proxy.close());
    const ingress = new HookIngress(proxy, { requireSecret: false });
    const stopped = observe(proxy.call('ping', {}, { sessionKey: 'chat-1' }));
    let next: ReturnType<typeof observe> | undefined;
    let unavailable = 3;
    const server = createServer((request, response) => {
      if (unavailable-- > 0) {
        // The proxy is restarting. By the third try (150 ms of backoff after the stop was raised:
        // far more than a request's transit, the guard's precision) the chat's next turn has
        // begun and made its call.
        if (unavailable === 0) next = observe(proxy.call('ping', {}, { sessionKey: 'chat-1' }));
        request.resume();
        response.writeHead(503).end('{"accepted":false,"error":"restarting"}');
        return;
      }
      void ingress.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const report = await drive(
      { fire: [{ hook: 'agent_loop_stopped', kwargs: stopKwargs('chat-1') }], flush_timeout: 10 },
      { TOOLPROXY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    );
    expect(report.flushed).toBe(true);
    expect(countLogs(report, /agent_loop_stopped delivered \(200\)/)).toBe(1);
    await expect(stopped.promise).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
    expect(next?.state()).toBe('pending');
    expect(proxy.pendingCalls).toBe(1);
    // What the stop would do without the guard: take the next turn's call too.
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'chat-1' })).toMatchObject({
      cancelled: 1,
    });
  }, 30_000);

  it('keeps its connection open between stops, and takes a new one when the proxy closed it', async () => {
    const keeping = await endpoint();
    const fire = ['s1', 's2', 's3'].map((session) => ({
      hook: 'agent_loop_stopped',
      kwargs: stopKwargs(session),
    }));
    const settings = { WORKERS: 1 };
    const kept = await drive({ fire, settings, flush_timeout: 10 }, { TOOLPROXY_URL: keeping.url });
    expect(kept.flushed).toBe(true);
    expect(keeping.received).toHaveLength(3);
    expect(keeping.connections()).toBe(1);

    // A proxy that drops each connection after one answer (as one restarting would).
    const dropping = await endpoint((_request, response) => {
      const socket = response.socket; // detached from the response once it is finished
      response.on('finish', () => socket?.destroy());
      return 200;
    });
    const redone = await drive(
      { fire, settings, flush_timeout: 10 },
      { TOOLPROXY_URL: dropping.url },
    );
    expect(redone.flushed).toBe(true);
    expect(countLogs(redone, /agent_loop_stopped delivered \(200\)/)).toBe(3);
    expect(countLogs(redone, /not delivered/)).toBe(0); // taken again at once, not as a retry
    expect(dropping.connections()).toBe(3);
    expect(new Set(dropping.received.map((request) => sessionOf(request.body)))).toEqual(
      new Set(['s1', 's2', 's3']),
    );
  }, 30_000);

  it('on_session_finalize and on_session_reset reach /hooks/<hook> with the kwargs as JSON and the secret', async () => {
    const server = await endpoint();
    // What hermes passes on the slow-path `/new`: finalize the old session, then reset to the new.
    const finalize = {
      session_id: 'old-1',
      platform: 'telegram',
      reason: 'new_command',
      old_session_id: 'old-1',
      new_session_id: 'new-1',
      telemetry_schema_version: 'hermes.observer.v1',
    };
    const reset = { ...finalize, session_id: 'new-1' };
    const report = await drive(
      {
        fire: [
          { hook: 'on_session_finalize', kwargs: finalize, awkward: true },
          { hook: 'on_session_reset', kwargs: reset },
        ],
        flush_timeout: 5,
      },
      { TOOLPROXY_URL: `${server.url}/toolproxy/`, TOOLPROXY_HOOK_SECRET: 's3cret' },
    );
    expectPrompt(report, 2);
    expect(report.flushed).toBe(true);
    expect(server.received.map((request) => `${request.method} ${request.url}`).sort()).toEqual([
      'POST /toolproxy/hooks/on_session_finalize',
      'POST /toolproxy/hooks/on_session_reset',
    ]);
    for (const request of server.received) {
      expect(request.headers.authorization).toBe('Bearer s3cret');
      expect(request.headers['content-type']).toBe('application/json');
    }
    const bodyOf = (hook: string): unknown =>
      JSON.parse(server.received.find((request) => request.url?.endsWith(hook))?.body ?? '{}');
    const finalizeBody = bodyOf('on_session_finalize');
    // Awkward values: a datetime goes as its str(); what cannot be written at all is left out.
    expect(finalizeBody).toEqual({ ...finalize, started_at: '2026-01-02 03:04:05' });
    expect(report.logs).toEqual(
      expect.arrayContaining([
        "DEBUG toolproxy: kwarg 'store' left out: not JSON-serialisable",
        "DEBUG toolproxy: kwarg 'ratio' left out: not JSON-serialisable",
        "DEBUG toolproxy: kwarg 'cycle' left out: not JSON-serialisable",
      ]),
    );
    expect(bodyOf('on_session_reset')).toEqual(reset);
    // And the ingress makes of them what the README says: the old session ends, and is reset.
    expect(mapAgentHook('on_session_finalize', finalizeBody)).toMatchObject({
      ok: true,
      events: [{ name: 'session:end', payload: { session_key: 'old-1', reason: 'new_command' } }],
    });
    expect(mapAgentHook('on_session_reset', bodyOf('on_session_reset'))).toMatchObject({
      ok: true,
      events: [{ name: 'session:reset', payload: { session_key: 'old-1', session_id: 'new-1' } }],
    });
  }, 30_000);

  it('registers agent_loop_stopped only where hermes knows it (VALID_HOOKS), the session hooks always', async () => {
    const older = await drive({ valid_hooks: ['on_session_finalize', 'on_session_reset'] }, {});
    expect(older.registered).toEqual(['on_session_finalize', 'on_session_reset']);
    const newer = await drive({ valid_hooks: ['pre_tool_call', ...ALL_HOOKS] }, {});
    expect(newer.registered).toEqual(ALL_HOOKS);
  }, 30_000);
});
