/**
 * The hermes-agent plugin (examples/hermes), run by python3 as hermes would run it: its
 * `agent_loop_stopped` callback, fired with the kwargs hermes passes, cancels that session's call
 * through `serve`'s hook ingress and no other; it returns in well under a millisecond or two
 * whatever the proxy does (up, down, hanging) and never raises; the session hooks reach the right
 * paths with the hook's kwargs as the body.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { mintProviderToken } from '../bridge/livekit/token.js';
import { developmentKeys } from '../proxy/cli/config.js';
import { type RunningServe, startServe } from '../proxy/cli/serve.js';
import { mapAgentHook } from '../proxy/hooks/index.js';
import { silentLogger } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const driver = join(root, 'examples', 'hermes', 'test_driver.py');

/** The kwargs hermes passes to `agent_loop_stopped` on `/stop` (plus its telemetry version). */
const STOP_KWARGS = {
  session_key: 'sess-a',
  platform: 'livekit',
  reason: 'Stop requested',
  invalidation_reason: 'stop_command',
  telemetry_schema_version: 'hermes.observer.v1',
};
const ALL_HOOKS = ['agent_loop_stopped', 'on_session_finalize', 'on_session_reset'];
/** A callback that takes longer than this would be felt by hermes' event loop. */
const PROMPT_MS = 50;

function findPython(): string | undefined {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? 'python3' : undefined;
}
const python = findPython();

const Report = z.object({
  registered: z.array(z.string()),
  calls: z.array(z.object({ hook: z.string(), ms: z.number(), error: z.string().nullable() })),
  flushed: z.boolean().nullable(),
  logs: z.array(z.string()),
});
type Report = z.infer<typeof Report>;

interface DriverSpec {
  fire?: Array<{
    hook: string;
    kwargs: Record<string, unknown>;
    awkward?: boolean;
    repeat?: number;
  }>;
  flush_timeout?: number;
  valid_hooks?: string[];
  settings?: Record<string, number>;
}

interface DriverRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

const cleanups: Array<() => Promise<void> | void> = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The driver's environment: ours without any TOOLPROXY_* setting, plus `env`. */
function driverEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('TOOLPROXY_'));
  return { ...Object.fromEntries(inherited), PYTHONDONTWRITEBYTECODE: '1', ...env };
}

function runDriver(spec: DriverSpec, env: Record<string, string>): Promise<DriverRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(python ?? 'python3', [driver, JSON.stringify(spec)], {
      cwd: root,
      env: driverEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, wallMs: performance.now() - started }),
    );
  });
}

async function drive(spec: DriverSpec, env: Record<string, string>): Promise<Report> {
  const run = await runDriver(spec, env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return Report.parse(JSON.parse(run.stdout));
}

function expectPrompt(report: Report, count: number): void {
  expect(report.calls).toHaveLength(count);
  for (const call of report.calls) {
    expect(call.error).toBeNull();
    expect(call.ms).toBeLessThan(PROMPT_MS);
  }
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const Frame = z.object({
  type: z.string(),
  call_id: z.string().optional(),
  reason: z.string().optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
});
type Frame = z.infer<typeof Frame>;

/** A provider in any language: a bare WebSocket speaking PROTOCOL.md. */
async function rawProvider(serve: RunningServe, apiKey: string, apiSecret: string) {
  const token = await mintProviderToken({
    apiKey,
    apiSecret,
    room: 'toolproxy',
    identity: 'robot',
  });
  const socket = new WebSocket(`${serve.url.replace('http', 'ws')}/bridge?token=${token}`);
  const frames: Frame[] = [];
  socket.on('message', (data: Buffer) => frames.push(Frame.parse(JSON.parse(data.toString()))));
  cleanups.push(() => socket.terminate());
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    frames,
    send: (frame: object) => socket.send(JSON.stringify(frame)),
    callIdOf: (job: string) =>
      frames.find((frame) => frame.type === 'agent:tool-call' && frame.arguments?.job === job)
        ?.call_id,
    cancelled: () => frames.filter((frame) => frame.type === 'agent:tool-call-cancelled'),
  };
}

describe.skipIf(python === undefined)(
  'hermes-agent plugin (examples/hermes, run by python3)',
  () => {
    it("agent_loop_stopped cancels sess-a's call through serve, not sess-b's; the callback returns at once", async () => {
      const keys = developmentKeys();
      const serve = await startServe(
        {
          host: '127.0.0.1',
          port: 0,
          logLevel: 'silent',
          mcp: 'http',
          room: 'toolproxy',
          keys,
          livekit: undefined,
        },
        { logger: silentLogger, announce: () => {} },
      );
      cleanups.push(() => serve.close());
      expect(serve.mode).toBe('embedded');
      const provider = await rawProvider(serve, keys.apiKey, keys.apiSecret);
      provider.send({
        type: 'client:tool-register',
        name: 'slow_job',
        description: 'Runs until cancelled',
        input_schema: { type: 'object', properties: { job: { type: 'string' } } },
      });
      await serve.proxy.waitForTool('slow_job');

      const callA = serve.proxy.call('slow_job', { job: 'a' }, { sessionKey: 'sess-a' });
      const callB = serve.proxy.call('slow_job', { job: 'b' }, { sessionKey: 'sess-b' });
      const outcomeA = callA.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      const outcomeB = callB.then(
        () => 'resolved',
        (error: unknown) => error,
      );
      await expect
        .poll(() => [provider.callIdOf('a'), provider.callIdOf('b')])
        .toEqual([expect.any(String), expect.any(String)]);
      const idA = provider.callIdOf('a');
      const idB = provider.callIdOf('b');

      const report = await drive(
        { fire: [{ hook: 'agent_loop_stopped', kwargs: STOP_KWARGS }], flush_timeout: 5 },
        { TOOLPROXY_URL: serve.url },
      );
      expect(report.registered).toEqual(ALL_HOOKS);
      expectPrompt(report, 1);
      expect(report.flushed).toBe(true);
      expect(report.logs).toContain('DEBUG toolproxy: agent_loop_stopped delivered (200)');

      expect(await outcomeA).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
      await expect.poll(() => provider.cancelled().map((frame) => frame.call_id)).toContain(idA);
      expect(provider.cancelled()).toEqual([
        expect.objectContaining({ call_id: idA, reason: 'agent-loop-stopped' }),
      ]);
      expect(serve.proxy.pendingCalls).toBe(1); // sess-b's call is still running

      callB.cancel();
      expect(await outcomeB).toMatchObject({ code: 'CANCELLED', reason: 'caller-aborted' });
      await expect.poll(() => provider.cancelled().map((frame) => frame.call_id)).toContain(idB);
      expect(serve.proxy.pendingCalls).toBe(0);
    }, 30_000);

    it('with the proxy down, every callback still returns at once and raises nothing', async () => {
      const port = await closedPort();
      const report = await drive(
        {
          fire: [
            { hook: 'agent_loop_stopped', kwargs: STOP_KWARGS },
            { hook: 'on_session_finalize', kwargs: { session_id: 'old', platform: 'cli' } },
            { hook: 'on_session_reset', kwargs: { session_id: 'new', platform: 'cli' } },
          ],
          flush_timeout: 5,
        },
        { TOOLPROXY_URL: `http://127.0.0.1:${port}` },
      );
      expectPrompt(report, 3);
      expect(report.flushed).toBe(true);
      for (const hook of ALL_HOOKS) {
        expect(report.logs).toContainEqual(
          expect.stringMatching(new RegExp(`^DEBUG toolproxy: ${hook} not delivered to .*refused`)),
        );
      }
    }, 30_000);

    it('with a proxy that never answers, events beyond the queue and stale ones are dropped, not piled up', async () => {
      const sockets = new Set<Socket>();
      let connections = 0;
      const server: NetServer = createNetServer((socket) => {
        connections++;
        sockets.add(socket); // accepted, never answered
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      });
      const { port } = server.address() as AddressInfo;

      const run = await runDriver(
        {
          fire: [{ hook: 'agent_loop_stopped', kwargs: STOP_KWARGS, repeat: 24 }],
          settings: { TIMEOUT_S: 0.5, MAX_AGE_S: 0.2 },
          flush_timeout: 10,
        },
        { TOOLPROXY_URL: `http://127.0.0.1:${port}` },
      );
      expect(run.code).toBe(0);
      const report = Report.parse(JSON.parse(run.stdout));
      expectPrompt(report, 24);
      expect(report.flushed).toBe(true);
      const count = (pattern: RegExp) => report.logs.filter((line) => pattern.test(line)).length;
      expect(count(/dropped: 16 events already waiting/)).toBeGreaterThanOrEqual(24 - 16 - 1);
      expect(count(/dropped: stale after/)).toBeGreaterThanOrEqual(15);
      expect(count(/not delivered to .*timed out/i)).toBe(1);
      expect(connections).toBe(1);
      // One timed-out POST, not 24 of them one after the other.
      expect(run.wallMs).toBeLessThan(5_000);
    }, 30_000);

    it('on_session_finalize and on_session_reset reach /hooks/<hook> with the kwargs as JSON and the secret', async () => {
      const received: Array<{
        method: string | undefined;
        url: string | undefined;
        headers: IncomingHttpHeaders;
        body: string;
      }> = [];
      const server = createHttpServer((request, response) => {
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => (body += chunk));
        request.on('end', () => {
          received.push({
            method: request.method,
            url: request.url,
            headers: request.headers,
            body,
          });
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"accepted":true,"events":[],"cancelled":0}');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      const { port } = server.address() as AddressInfo;

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
        { TOOLPROXY_URL: `http://127.0.0.1:${port}/toolproxy/`, TOOLPROXY_HOOK_SECRET: 's3cret' },
      );
      expectPrompt(report, 2);
      expect(report.flushed).toBe(true);

      expect(received.map((request) => `${request.method} ${request.url}`)).toEqual([
        'POST /toolproxy/hooks/on_session_finalize',
        'POST /toolproxy/hooks/on_session_reset',
      ]);
      for (const request of received) {
        expect(request.headers.authorization).toBe('Bearer s3cret');
        expect(request.headers['content-type']).toBe('application/json');
      }
      const [finalizeBody, resetBody] = received.map((request): unknown =>
        JSON.parse(request.body),
      );
      // Awkward values: a datetime goes as its str(); what cannot be written at all is left out.
      expect(finalizeBody).toEqual({ ...finalize, started_at: '2026-01-02 03:04:05' });
      expect(report.logs).toEqual(
        expect.arrayContaining([
          "DEBUG toolproxy: kwarg 'store' left out: not JSON-serialisable",
          "DEBUG toolproxy: kwarg 'ratio' left out: not JSON-serialisable",
          "DEBUG toolproxy: kwarg 'cycle' left out: not JSON-serialisable",
        ]),
      );
      expect(resetBody).toEqual(reset);

      // And the ingress makes of them what the README says: the old session ends, and is reset.
      expect(mapAgentHook('on_session_finalize', finalizeBody)).toMatchObject({
        ok: true,
        events: [{ name: 'session:end', payload: { session_key: 'old-1', reason: 'new_command' } }],
      });
      expect(mapAgentHook('on_session_reset', resetBody)).toMatchObject({
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
  },
);
