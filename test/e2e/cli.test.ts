/**
 * The CLI as a user runs it: `serve` prints its line; `token` + a raw WebSocket provider speaking
 * PROTOCOL.md registers a tool; an MCP client calls it; `hook` cancels it; SIGTERM shuts down cleanly.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'toolproxy.mjs');
const env = {
  ...process.env,
  TOOLPROXY_API_KEY: 'e2e-key',
  TOOLPROXY_API_SECRET: 'e2e-secret-0123456789abcdef0123456789',
  NODE_ENV: 'production',
};
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

function start(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env });
  children.push(child);
  return child;
}

function runToEnd(
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = start(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) resolve(line);
    });
    child.on('exit', (code) =>
      reject(new Error(`serve exited with ${String(code)} before printing its line`)),
    );
  });
}

it('serve, token, a raw WebSocket provider, an MCP call, hook cancels it, SIGTERM exits 0', async () => {
  const serve = start(['serve', '--port', '0']);
  const line = await firstLine(serve);
  expect(line).toMatch(/^toolproxy listening on http:\/\/127\.0\.0\.1:\d+$/);
  const base = line.replace('toolproxy listening on ', '');

  const minted = await runToEnd(['token', '--identity', 'raw-robot']);
  expect(minted.code).toBe(0);
  const token = minted.stdout.trim();
  expect(token.split('.')).toHaveLength(3);

  const received: Array<Record<string, unknown>> = [];
  const socket = new WebSocket(`${base.replace('http', 'ws')}/bridge?token=${token}`);
  socket.on('message', (data: Buffer) =>
    received.push(JSON.parse(data.toString()) as Record<string, unknown>),
  );
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(
    JSON.stringify({
      type: 'client:tool-register',
      name: 'slow_job',
      description: 'never finishes',
      input_schema: { type: 'object' },
    }),
  );
  await expect.poll(() => received.map((frame) => frame.type)).toContain('agent:tool-registered');

  const mcp = new Client({ name: 'cli-e2e', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
  expect((await mcp.listTools()).tools.map((tool) => tool.name)).toEqual(['slow_job']);
  const call = mcp.callTool({ name: 'slow_job', arguments: {} });
  await expect.poll(() => received.map((frame) => frame.type)).toContain('agent:tool-call');

  const hook = await runToEnd(
    ['hook', 'agent_loop_stopped', '--url', base],
    JSON.stringify({ session_key: 'cli', reason: 'Stop requested' }),
  );
  expect(hook).toMatchObject({ code: 0, stdout: '' });
  const result = CallToolResultSchema.parse(await call);
  expect(result.isError).toBe(true);
  await expect
    .poll(() => received.find((frame) => frame.type === 'agent:tool-call-cancelled'))
    .toMatchObject({ reason: 'agent-loop-stopped' });
  await mcp.close();

  const exited = new Promise<number | null>((resolve) => serve.on('exit', resolve));
  const sent = Date.now();
  serve.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(Date.now() - sent).toBeLessThan(2_000);
  socket.terminate();
}, 60_000);

it('hook exits 0 fast with a warning when no proxy is running, writing nothing to stdout', async () => {
  const result = await runToEnd(
    ['hook', 'SessionEnd', '--url', 'http://127.0.0.1:9'],
    JSON.stringify({ session_id: 's', hook_event_name: 'SessionEnd' }),
  );
  expect(result.code).toBe(0);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/toolproxy/i);
}, 30_000);

it('--help lists the commands', async () => {
  const result = await runToEnd(['--help']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/toolproxy serve/);
  expect(result.stdout).toMatch(/toolproxy token --identity/);
  expect(result.stdout).toMatch(/toolproxy hook <event>/);
  expect(result.stdout).toMatch(/toolproxy demo/);
});

it('serve --mcp stdio: an MCP client that launches it as a command talks MCP over stdin/stdout', async () => {
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, 'serve', '--mcp', 'stdio', '--port', '0', '--log-level', 'warn'],
    env: Object.fromEntries(
      Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
  await client.connect(transport); // any stray line on stdout would break the JSON-RPC stream
  expect((await client.listTools()).tools).toEqual([]);
  await client.close();
  expect(stderr).toMatch(/toolproxy listening on http:\/\/127\.0\.0\.1:\d+/);
}, 60_000);
