/**
 * The MCP endpoint's own guards: a bearer secret, a cap on open sessions (met by evicting the least
 * recently used idle one), and sessions closed when unused, as clients that vanish without a
 * DELETE leave them. Real HTTP on 127.0.0.1, the SDK's real Client; idle time on an injected clock.
 */
import { createServer, type IncomingMessage, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { McpHttpEndpoint, type McpHttpEndpointOptions } from '../../../proxy/mcp/index.js';
import type { ToolProvider, ToolProxy } from '../../../src/index.js';
import { defineTool, type Timers } from '../../../src/index.js';
import { deferred, spyLogger } from '../../support/util.js';
import { robotWorld } from '../../support/robot-world.js';

let proxy: ToolProxy;
let robot: ToolProvider;
let opened: { endpoint: McpHttpEndpoint; server: Server; clients: Client[] } | undefined;
let aborted = deferred();
const logger = spyLogger();

/** Timers the test advances by hand; `armed()` counts those waiting. */
function manualClock() {
  let now = 1_000_000;
  let nextId = 0;
  const waiting = new Map<number, { at: number; callback: () => void }>();
  const timers: Timers = {
    setTimeout: (callback, ms) => {
      waiting.set(++nextId, { at: now + ms, callback });
      return nextId;
    },
    clearTimeout: (handle) => waiting.delete(handle as number),
    now: () => now,
  };
  return {
    timers,
    armed: () => waiting.size,
    advance(ms: number): void {
      now += ms;
      for (const [id, timer] of [...waiting]) {
        if (timer.at > now) continue;
        waiting.delete(id);
        timer.callback();
      }
    },
  };
}

beforeEach(async () => {
  aborted = deferred();
  for (const fn of Object.values(logger)) fn.mockClear();
  ({ proxy, robot } = await robotWorld([
    defineTool({
      name: 'hold',
      description: 'Runs until aborted',
      input: z.object({}),
      handler: (_args, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted.resolve(signal.reason);
            reject(new Error('stopped'));
          });
        }),
    }),
  ]));
});

afterEach(async () => {
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

async function serve(options: McpHttpEndpointOptions): Promise<URL> {
  const endpoint = new McpHttpEndpoint(proxy, { logger, ...options });
  const server = createServer((request, response) => void endpoint.handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  opened = { endpoint, server, clients: [] };
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

async function connect(url: URL, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'agent', version: '1.0.0' });
  opened?.clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

function post(url: URL, sessionId: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
    },
    body: JSON.stringify(body),
  });
}

/** An initialize sent by hand: the session opens, and no stream keeps it busy. */
async function initializeByHand(url: URL): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'gone', version: '1' },
      },
    }),
  });
  await response.text();
  return response.headers.get('mcp-session-id') ?? '';
}

describe('McpHttpEndpoint guards', () => {
  it('with a secret: 401 (and WWW-Authenticate) without it or with a wrong one; served with it', async () => {
    const url = await serve({ secret: 's3cret-for-mcp' });
    for (const authorization of [undefined, 'Bearer wrong', 's3cret-for-mcp']) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(authorization === undefined ? {} : { authorization }),
        },
        body: '{}',
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(opened?.endpoint.sessionCount).toBe(0);
    const client = await connect(url, { authorization: 'Bearer s3cret-for-mcp' });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['hold']);
  });

  it('at maxSessions an initialize evicts the least recently used idle session (404 after)', async () => {
    const url = await serve({ maxSessions: 2 });
    const first = await connect(url);
    const second = await connect(url);
    // The first is used again, so the second is now the least recently used.
    await first.listTools();
    await connect(url);
    expect(opened?.endpoint.sessionCount).toBe(2);
    await expect(second.listTools()).rejects.toThrow(/404|Session not found/);
    await expect(first.listTools()).resolves.toMatchObject({ tools: [{ name: 'hold' }] });
    expect(logger.info).toHaveBeenCalledWith(
      expect.objectContaining({ sessionId: expect.any(String), idleMs: expect.any(Number) }),
      expect.stringMatching(/^MCP session evicted/),
    );
  });

  it('closes a session with no request open after sessionIdleMs, logs it; its id gets 404', async () => {
    const clock = manualClock();
    const url = await serve({ sessionIdleMs: 600_000, timers: clock.timers });
    const id = await initializeByHand(url);
    expect(id).not.toBe('');
    // Armed once the initialize's response has closed.
    await vi.waitFor(() => expect(clock.armed()).toBe(1));
    clock.advance(599_999);
    expect(opened?.endpoint.sessionCount).toBe(1);
    clock.advance(1);
    expect(opened?.endpoint.sessionCount).toBe(0);
    expect(logger.info).toHaveBeenCalledWith(
      { sessionId: id, idleMs: 600_000 },
      'MCP session idle: closed',
    );
    const late = await post(url, id, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(late.status).toBe(404);
  });

  it('a held GET stream keeps a session open; once it closes, the idle time runs', async () => {
    const clock = manualClock();
    const url = await serve({ sessionIdleMs: 60_000, timers: clock.timers });
    const id = await initializeByHand(url);
    await vi.waitFor(() => expect(clock.armed()).toBe(1));
    const stream = new AbortController();
    const held = await fetch(url, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': id },
      signal: stream.signal,
    });
    expect(held.status).toBe(200);
    expect(clock.armed()).toBe(0);
    clock.advance(10 * 60_000);
    expect(opened?.endpoint.sessionCount).toBe(1);
    stream.abort();
    await vi.waitFor(() => expect(clock.armed()).toBe(1));
    clock.advance(60_000);
    expect(opened?.endpoint.sessionCount).toBe(0);
  });

  it('a call in flight keeps its session from idling; a dropped call is cancelled at once', async () => {
    const clock = manualClock();
    const url = await serve({ sessionIdleMs: 1_000, timers: clock.timers });
    const client = await connect(url);
    const call = client.callTool({ name: 'hold', arguments: {} }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(proxy.pendingCalls).toBe(1));
    clock.advance(60_000);
    expect(opened?.endpoint.sessionCount).toBe(1);
    expect(proxy.pendingCalls).toBe(1);
    // The client goes (close() aborts its requests): the call is cancelled, not left to idle out.
    await client.close();
    await expect(aborted.promise).resolves.toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-gone',
    });
    expect(proxy.pendingCalls).toBe(0);
    await call;
  });

  it('reads a POST body within the 4 MiB cap (413 past it, even chunked) and answers bad JSON 400', async () => {
    const url = await serve({});
    const id = await initializeByHand(url);
    const oversize = async (write: (request: ReturnType<typeof httpRequest>) => void) => {
      const request = httpRequest(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': id,
        },
      });
      // The server closes the connection after its 413; later writes may fail.
      request.on('error', () => undefined);
      const answered = new Promise<IncomingMessage>((resolve) => request.once('response', resolve));
      write(request);
      const response = await answered;
      let text = '';
      for await (const chunk of response) text += String(chunk);
      request.destroy();
      return { status: response.statusCode, text };
    };
    const declared = await oversize((request) => {
      request.setHeader('content-length', String(5 * 1024 * 1024));
      request.flushHeaders();
    });
    expect(declared.status).toBe(413);
    const streamed = await oversize((request) => {
      for (let i = 0; i < 5; i++) request.write(Buffer.alloc(1024 * 1024, 0x20));
    });
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.text)).toMatchObject({
      error: { code: -32000, message: expect.stringContaining('Payload Too Large') },
    });
    const garbled = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': id,
      },
      body: '{"jsonrpc": "2.0", "id": ',
    });
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toMatchObject({ error: { code: -32700 } });
    // None of that harmed the session.
    const listed = await post(url, id, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain('"hold"');
    expect(opened?.endpoint.sessionCount).toBe(1);
  });

  it('refuses bad options at construction', () => {
    expect(() => new McpHttpEndpoint(proxy, { secret: '' })).toThrow(/secret/);
    expect(() => new McpHttpEndpoint(proxy, { maxSessions: 0 })).toThrow(/maxSessions/);
    expect(() => new McpHttpEndpoint(proxy, { sessionIdleMs: -1 })).toThrow(/sessionIdleMs/);
    expect(() => new McpHttpEndpoint(proxy, { sessionIdleMs: 2 ** 31 })).toThrow(/sessionIdleMs/);
  });
});
