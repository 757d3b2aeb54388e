/**
 * The MCP HTTP endpoint under what real clients do: they never send DELETE (the SDK's `close()`
 * only aborts), and a killed agent drops its connection mid-call without `notifications/cancelled`.
 * Real HTTP on 127.0.0.1, the SDK's real Client and Streamable HTTP transport, a real child process.
 */
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { McpHttpEndpoint, type McpHttpEndpointOptions } from '../../../proxy/mcp/index.js';
import type { ToolProvider, ToolProxy } from '../../../src/index.js';
import { defineTool } from '../../../src/index.js';
import { type Deferred, deferred, spyLogger } from '../../support/util.js';
import { echoTool, robotWorld } from '../../support/robot-world.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

let proxy: ToolProxy;
let robot: ToolProvider;
/** Resolves with the abort reason the provider's `hold` saw. */
let aborted: Deferred<unknown>;
/** Resolves when a `hold` call reaches the provider. */
let holding: Deferred<void>;
/** `gate` calls started at the provider; `opened` finishes them all. */
let gated: number;
let gateOpen: Deferred<void>;
let opened: { endpoint: McpHttpEndpoint; server: Server; clients: Client[] } | undefined;
const logger = spyLogger();

beforeEach(async () => {
  aborted = deferred();
  holding = deferred();
  gateOpen = deferred();
  gated = 0;
  ({ proxy, robot } = await robotWorld([
    echoTool,
    defineTool({
      name: 'hold',
      description: 'Runs until aborted',
      input: z.object({}),
      handler: (_args, { signal, progress }) => {
        progress(1, 2, 'moving');
        holding.resolve();
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.resolve(signal.reason);
            reject(new Error('stopped'));
          });
        });
      },
    }),
    defineTool({
      name: 'gate',
      description: 'Finishes when the test opens the gate',
      input: z.object({}),
      handler: async () => {
        gated++;
        await gateOpen.promise;
        return 'through';
      },
    }),
  ]));
  for (const fn of Object.values(logger)) fn.mockClear();
});

afterEach(async () => {
  gateOpen.resolve();
  if (opened !== undefined) {
    await Promise.allSettled(opened.clients.map((client) => client.close()));
    await opened.endpoint.close();
    opened.server.closeAllConnections();
    await new Promise<void>((resolve) => opened?.server.close(() => resolve()));
    opened = undefined;
  }
  await robot.close();
  await proxy.close();
});

async function serve(options: McpHttpEndpointOptions = {}): Promise<URL> {
  const endpoint = new McpHttpEndpoint(proxy, { logger, ...options });
  const server = createServer((request, response) => void endpoint.handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  opened = { endpoint, server, clients: [] };
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

function endpoint(): McpHttpEndpoint {
  if (opened === undefined) throw new Error('serve() first');
  return opened.endpoint;
}

async function connect(url: URL): Promise<{ client: Client; sessionId: string }> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  opened?.clients.push(client);
  const transport = new StreamableHTTPClientTransport(url);
  await client.connect(transport);
  return { client, sessionId: transport.sessionId ?? '' };
}

/** The session ids the endpoint logged as evicted, in order. */
function evicted(): unknown[] {
  return logger.info.mock.calls
    .filter(([, message]) => String(message).startsWith('MCP session evicted'))
    .map(([fields]) => (fields as { sessionId: unknown }).sessionId);
}

/** A `tools/call` POSTed by hand on its own connection, which the test can drop. */
function rawCall(url: URL, sessionId: string, id: number, name: string) {
  const request = httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
    },
  });
  // Destroying the request on purpose ends it with an error; nothing else to report.
  request.on('error', () => undefined);
  request.end(
    JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }),
  );
  return request;
}

describe('sessions of clients that never send DELETE', () => {
  it('100 clients that connect and close() without DELETE, then one more: all served (cap 8)', async () => {
    const url = await serve({ maxSessions: 8 });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { client, sessionId } = await connect(url);
      ids.push(sessionId);
      await expect(client.listTools()).resolves.toMatchObject({
        tools: [{ name: 'echo' }, {}, {}],
      });
      await client.close();
      expect(endpoint().sessionCount).toBeLessThanOrEqual(8);
    }
    const { client } = await connect(url);
    await expect(client.callTool({ name: 'echo', arguments: { text: '101st' } })).resolves.toEqual({
      content: [{ type: 'text', text: '101st' }],
    });
    expect(endpoint().sessionCount).toBe(8);
    // The least recently used go first: here, the oldest.
    expect(evicted()).toEqual(ids.slice(0, 93));
    expect(logger.info).toHaveBeenCalledWith(
      { sessionId: ids[0], idleMs: expect.any(Number), maxSessions: 8 },
      expect.stringMatching(/^MCP session evicted/),
    );
    // 101 real handshakes: time for a loaded machine, not a measure of speed.
  }, 60_000);

  it('never evicts a session with a call in flight: that call still completes', async () => {
    const url = await serve({ maxSessions: 2 });
    const busy = await connect(url);
    const call = busy.client.callTool({ name: 'gate', arguments: {} });
    await vi.waitFor(() => expect(gated).toBe(1));
    for (let i = 0; i < 5; i++) {
      const { client } = await connect(url);
      await client.listTools();
      await client.close();
    }
    expect(evicted()).toHaveLength(4);
    expect(evicted()).not.toContain(busy.sessionId);
    gateOpen.resolve();
    await expect(call).resolves.toEqual({ content: [{ type: 'text', text: 'through' }] });
    await expect(busy.client.listTools()).resolves.toMatchObject({ tools: expect.any(Array) });
  });

  it('answers 503 only when every session has a call in flight, and says so', async () => {
    const url = await serve({ maxSessions: 2 });
    const first = await connect(url);
    const second = await connect(url);
    const calls = [first, second].map(({ client }) =>
      client.callTool({ name: 'gate', arguments: {} }),
    );
    await vi.waitFor(() => expect(gated).toBe(2));
    await expect(connect(url)).rejects.toThrow(/503|tool call in flight/);
    const refused = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'x', version: '1' },
        },
      }),
    });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({
      error: { message: expect.stringContaining('all 2 MCP sessions have a tool call in flight') },
    });
    expect(evicted()).toEqual([]);
    gateOpen.resolve();
    await Promise.all(calls);
    // Now idle: the next initialize evicts the least recently used.
    await connect(url);
    expect(evicted()).toHaveLength(1);
  });
});

describe('a caller that goes away cancels its call (caller-gone)', () => {
  it('a POST whose connection drops mid-call: the provider is told caller-gone at once', async () => {
    const url = await serve();
    const { sessionId } = await connect(url);
    const request = rawCall(url, sessionId, 7, 'hold');
    await holding.promise;
    expect(endpoint().trackedCalls).toBe(1);
    request.destroy();
    await expect(aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-gone',
      detail: 'disconnected',
    });
    expect(proxy.pendingCalls).toBe(0);
    await vi.waitFor(() => expect(endpoint().trackedCalls).toBe(0));
    // Only the call went: the session serves on.
    expect(endpoint().sessionCount).toBe(1);
  });

  it('an SDK client closed mid-call (close() only aborts): progress came, then caller-gone', async () => {
    const url = await serve();
    const { client } = await connect(url);
    const progress: number[] = [];
    const call = client
      .callTool({ name: 'hold', arguments: {} }, undefined, {
        onprogress: (update) => progress.push(update.progress),
      })
      .catch((error: unknown) => error);
    await holding.promise;
    await vi.waitFor(() => expect(progress).toEqual([1]));
    await client.close();
    await expect(aborted.promise).resolves.toMatchObject({ reason: 'caller-gone' });
    expect(proxy.pendingCalls).toBe(0);
    await expect(call).resolves.toMatchObject({ message: expect.stringMatching(/closed/i) });
  });

  it('a caller process SIGKILLed mid-call: the provider is told caller-gone', async () => {
    const url = await serve();
    const script = [
      "import { Client } from '@modelcontextprotocol/sdk/client/index.js';",
      "import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';",
      "const client = new Client({ name: 'doomed', version: '1' });",
      'await client.connect(new StreamableHTTPClientTransport(new URL(process.env.MCP_URL)));',
      "await client.callTool({ name: 'hold', arguments: {} }, undefined, { timeout: 600000 });",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, MCP_URL: url.href },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    try {
      await holding.promise;
      child.kill('SIGKILL');
      await expect(exited).resolves.toBe('SIGKILL');
      await expect(aborted.promise).resolves.toMatchObject({
        code: 'CANCELLED',
        reason: 'caller-gone',
      });
      expect(proxy.pendingCalls).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('frees each request controller when its response finishes or closes (no growth)', async () => {
    const url = await serve();
    const { client, sessionId } = await connect(url);
    for (let i = 0; i < 50; i++) {
      await client.callTool({ name: 'echo', arguments: { text: String(i) } });
    }
    for (let i = 0; i < 10; i++) {
      holding = deferred();
      const request = rawCall(url, sessionId, 100 + i, 'hold');
      await holding.promise;
      request.destroy();
      await vi.waitFor(() => expect(proxy.pendingCalls).toBe(0));
    }
    for (let i = 0; i < 3; i++) {
      holding = deferred();
      const controller = new AbortController();
      const call = client.callTool({ name: 'hold', arguments: {} }, undefined, {
        signal: controller.signal,
      });
      await holding.promise;
      controller.abort('stop');
      await expect(call).rejects.toThrow('stop');
      await vi.waitFor(() => expect(proxy.pendingCalls).toBe(0));
    }
    await vi.waitFor(() => expect(endpoint().trackedCalls).toBe(0));
    expect(proxy.watchedSignals).toBe(0);
  });

  it('a session that ends cancels its calls caller-gone: DELETE "deleted", close() "closing"', async () => {
    const url = await serve();
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'agent', version: '1.0.0' });
    opened?.clients.push(client);
    await client.connect(transport);
    void client.callTool({ name: 'hold', arguments: {} }).catch(() => undefined);
    await holding.promise;
    await transport.terminateSession();
    await expect(aborted.promise).resolves.toMatchObject({
      reason: 'caller-gone',
      detail: 'deleted',
    });
    aborted = deferred();
    holding = deferred();
    const second = await connect(url);
    void second.client.callTool({ name: 'hold', arguments: {} }).catch(() => undefined);
    await holding.promise;
    await endpoint().close();
    await expect(aborted.promise).resolves.toMatchObject({
      reason: 'caller-gone',
      detail: 'closing',
    });
    expect(proxy.pendingCalls).toBe(0);
  });
});
