/**
 * Runs the hermes plugin (examples/hermes/__init__.py) under the machine's python3 through
 * examples/hermes/test_driver.py (a stand-in for hermes' plugin context: it registers the plugin,
 * fires its callbacks with the kwargs hermes passes, waits for delivery and reports), plus the
 * hook endpoints the tests point it at.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { z } from 'zod';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const driver = join(root, 'examples', 'hermes', 'test_driver.py');

/** A callback that took longer than this would be felt by hermes' event loop. */
export const PROMPT_MS = 50;
export const ALL_HOOKS = ['agent_loop_stopped', 'on_session_finalize', 'on_session_reset'];

/** The kwargs hermes passes to `agent_loop_stopped` on `/stop` (plus its telemetry version). */
export const stopKwargs = (sessionKey: string, reason = 'Stop requested') => ({
  session_key: sessionKey,
  platform: 'livekit',
  reason,
  invalidation_reason: 'stop_command',
  telemetry_schema_version: 'hermes.observer.v1',
});

export const python = ((): string | undefined => {
  const probe = spawnSync('python3', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 ? 'python3' : undefined;
})();

export const Report = z.object({
  registered: z.array(z.string()),
  calls: z.array(z.object({ hook: z.string(), ms: z.number(), error: z.string().nullable() })),
  flushed: z.boolean().nullable(),
  logs: z.array(z.string()),
});
export type Report = z.infer<typeof Report>;

export interface Fire {
  hook: string;
  kwargs: Record<string, unknown>;
  awkward?: boolean;
  repeat?: number;
}

export interface DriverSpec {
  fire?: Fire[];
  flush_timeout?: number;
  valid_hooks?: string[];
  /** Module constants to override (TIMEOUT_S, RETRY_FOR_S, WORKERS, ...). */
  settings?: Record<string, number>;
}

export interface DriverRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

const children = new Set<ChildProcess>();

/** Kills drivers still running (afterEach). */
export function killDrivers(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
}

/** Runs the driver with our environment minus any TOOLPROXY_* setting, plus `env`. */
export function runDriver(spec: DriverSpec, env: Record<string, string>): Promise<DriverRun> {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('TOOLPROXY_'));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(python ?? 'python3', [driver, JSON.stringify(spec)], {
      cwd: root,
      env: { ...Object.fromEntries(inherited), PYTHONDONTWRITEBYTECODE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
      killSignal: 'SIGKILL',
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr, wallMs: performance.now() - started });
    });
  });
}

/** Runs the driver; its report, once it exited cleanly with nothing on stderr. */
export async function drive(
  spec: DriverSpec,
  env: Record<string, string>,
): Promise<Report & { wallMs: number }> {
  const run = await runDriver(spec, env);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { ...Report.parse(JSON.parse(run.stdout)), wallMs: run.wallMs };
}

/** Every callback returned at once and raised nothing. */
export function expectPrompt(report: Report, count: number): void {
  expect(report.calls).toHaveLength(count);
  for (const call of report.calls) {
    expect(call.error).toBeNull();
    expect(call.ms).toBeLessThan(PROMPT_MS);
  }
}

export const countLogs = (report: Report, pattern: RegExp) =>
  report.logs.filter((line) => pattern.test(line)).length;

/** A loopback port nobody listens on. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface HookRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The socket's index among the connections the endpoint accepted. */
  readonly connection: number;
}

/** What the endpoint does with a request: answer it (status), or keep it for later (`hold`). */
export type Responder = (request: HookRequest, response: ServerResponse) => number | 'hold';

/** A hook endpoint on loopback recording every request; `answer` decides each response. */
export async function hookEndpoint(answer: Responder = () => 200) {
  const received: HookRequest[] = [];
  let connections = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const connection = (request.socket as { index?: number }).index ?? -1;
      const recorded = { method: request.method, url: request.url, headers: request.headers };
      const entry: HookRequest = { ...recorded, body, connection };
      received.push(entry);
      const status = answer(entry, response);
      if (status === 'hold') return;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end('{"accepted":true,"events":[],"cancelled":0}');
    });
  });
  server.on('connection', (socket) => Object.assign(socket, { index: connections++ }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
