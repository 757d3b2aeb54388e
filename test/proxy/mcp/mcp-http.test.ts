/**
 * MCP over Streamable HTTP: a node http.Server on 127.0.0.1 routes `/mcp` to McpHttpEndpoint; the
 * SDK's real Client connects with its Streamable HTTP transport.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { InMemoryRoom } from '../../../bridge/memory.js';
import { McpHttpEndpoint } from '../../../proxy/mcp/index.js';
import type { ToolProxy } from '../../../src/index.js';
import { defineTool, ToolProvider } from '../../../src/index.js';
import { deferred } from '../../support/util.js';
import { echoTool, robotWorld } from '../../support/robot-world.js';

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: ToolProvider;
let endpoint: McpHttpEndpoint;
let server: Server;
let url: URL;
let started: ReturnType<typeof deferred<void>>;
const aborts: unknown[] = [];
/** Every client a test opened, with its transport: ended (DELETE) and closed after each test. */
const clients = new Map<Client, StreamableHTTPClientTransport>();

beforeAll(async () => {
  ({ room, proxy, robot } = await robotWorld([
    echoTool,
    defineTool({
      name: 'hold',
      description: 'Runs until aborted',
      input: z.object({}),
      handler: (_args, { signal, progress }) => {
        progress(1, 2, 'moving');
        started.resolve();
        return new Promise((_resolve, reject) => {
          signal.addEventListener(
            'abort',
            () => {
              aborts.push(signal.reason);
              reject(new Error('stopped'));
            },
            { once: true },
          );
        });
      },
    }),
  ]));
  endpoint = new McpHttpEndpoint(proxy);
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/mcp') void endpoint.handle(request, response);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = new URL(`http://127.0.0.1:${port}/mcp`);
});

afterEach(async () => {
  await Promise.allSettled(
    [...clients].map(async ([client, transport]) => {
      if (transport.sessionId !== undefined) await transport.terminateSession();
      await client.close();
    }),
  );
  clients.clear();
  expect(endpoint.sessionCount).toBe(0);
  aborts.length = 0;
});

afterAll(async () => {
  await endpoint.close();
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  await robot.close();
  await proxy.close();
});

async function connect(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'http-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(url);
  clients.set(client, transport);
  await client.connect(transport);
  return { client, transport };
}

function listeners(): number {
  return (
    proxy.hooks.listenerCount('tool:registered') + proxy.hooks.listenerCount('tool:unregistered')
  );
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe('McpHttpEndpoint', () => {
  it('initializes a session, lists and calls tools', async () => {
    const { client, transport } = await connect();
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(endpoint.sessionCount).toBe(1);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['echo', 'hold']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'over http' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'over http' }] });
    const missing = await client.callTool({ name: 'nope', arguments: {} });
    expect(missing).toMatchObject({ isError: true });
  });

  it('forwards progress; a client abort cancels the call and the provider sees caller-aborted', async () => {
    const { client } = await connect();
    started = deferred();
    const controller = new AbortController();
    const progress: number[] = [];
    const call = client.callTool({ name: 'hold', arguments: {} }, undefined, {
      signal: controller.signal,
      onprogress: (update) => progress.push(update.progress),
    });
    await started.promise;
    await vi.waitFor(() => expect(progress).toEqual([1]));
    controller.abort('stop now');
    await expect(call).rejects.toThrow('stop now');
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({ code: 'CANCELLED', reason: 'caller-aborted' });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('serves two sessions at once, each with its own server', async () => {
    const first = await connect();
    const second = await connect();
    expect(first.transport.sessionId).not.toBe(second.transport.sessionId);
    expect(endpoint.sessionCount).toBe(2);
    expect(listeners()).toBe(4);
    const [a, b] = await Promise.all([
      first.client.callTool({ name: 'echo', arguments: { text: 'one' } }),
      second.client.callTool({ name: 'echo', arguments: { text: 'two' } }),
    ]);
    expect(a.content).toEqual([{ type: 'text', text: 'one' }]);
    expect(b.content).toEqual([{ type: 'text', text: 'two' }]);
  });

  it('DELETE ends a session: it is removed, its listeners released, its id unknown after', async () => {
    const { transport } = await connect();
    const sessionId = transport.sessionId ?? '';
    expect(endpoint.sessionCount).toBe(1);
    await transport.terminateSession();
    expect(endpoint.sessionCount).toBe(0);
    expect(listeners()).toBe(0);
    const response = await post(
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { 'mcp-session-id': sessionId },
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: null,
    });
  });

  it('DELETE during a call cancels it (caller-gone, detail deleted)', async () => {
    const { client, transport } = await connect();
    started = deferred();
    const call = client.callTool({ name: 'hold', arguments: {} });
    const settled = call.then(
      () => 'resolved',
      () => 'rejected',
    );
    await started.promise;
    await transport.terminateSession();
    await vi.waitFor(() => expect(aborts).toHaveLength(1));
    expect(aborts[0]).toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-gone',
      detail: 'deleted',
    });
    expect(proxy.pendingCalls).toBe(0);
    await client.close();
    expect(await settled).toBe('rejected');
  });

  it('answers 404 for an unknown session id', async () => {
    const response = await post(
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { 'mcp-session-id': 'not-a-session' },
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: -32001 } });
  });

  it('answers 400 to a POST without a session that is not initialize, and keeps nothing', async () => {
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    expect(endpoint.sessionCount).toBe(0);
    expect(listeners()).toBe(0);
  });

  it('answers 400 to a GET without a session', async () => {
    const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32000 } });
  });

  it('answers 405 to other methods', async () => {
    const response = await fetch(url, { method: 'PUT', body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, DELETE');
  });

  it('tells a connected client when the tool list changes', async () => {
    const changed = deferred<string[]>();
    const client = new Client(
      { name: 'watcher', version: '1.0.0' },
      {
        listChanged: {
          tools: {
            debounceMs: 0,
            onChanged: (error, tools) => {
              if (error === null && tools !== null) changed.resolve(tools.map((tool) => tool.name));
            },
          },
        },
      },
    );
    const transport = new StreamableHTTPClientTransport(url);
    clients.set(client, transport);
    await client.connect(transport);
    // The server-to-client stream (GET) opens after initialization; let it establish.
    await vi.waitFor(() => expect(endpoint.sessionCount).toBe(1));
    const lab = new ToolProvider({
      tools: [
        defineTool({ name: 'scan', description: 'scan', input: z.object({}), handler: () => 1 }),
      ],
    });
    await lab.connect(room.join('lab'));
    try {
      await expect(changed.promise).resolves.toEqual(['echo', 'hold', 'scan']);
    } finally {
      await lab.close();
    }
  });
});

describe('McpHttpEndpoint.close()', () => {
  it('closes every session and refuses new ones', async () => {
    const local = new McpHttpEndpoint(proxy);
    const localServer = createServer((request, response) => void local.handle(request, response));
    await new Promise<void>((resolve) => localServer.listen(0, '127.0.0.1', resolve));
    const { port } = localServer.address() as AddressInfo;
    const localUrl = new URL(`http://127.0.0.1:${port}/mcp`);
    try {
      const client = new Client({ name: 'a', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(localUrl));
      expect(local.sessionCount).toBe(1);
      await local.close();
      expect(local.sessionCount).toBe(0);
      expect(listeners()).toBe(0);
      const again = new Client({ name: 'b', version: '1' });
      await expect(again.connect(new StreamableHTTPClientTransport(localUrl))).rejects.toThrow();
      await client.close();
    } finally {
      await local.close();
      localServer.closeAllConnections();
      await new Promise<void>((resolve) => localServer.close(() => resolve()));
    }
  });
});
