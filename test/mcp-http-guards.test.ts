/**
 * The MCP endpoint's own guards: a bearer secret, a cap on open sessions, and sessions closed when
 * their client has gone without a DELETE. Real HTTP on 127.0.0.1, the SDK's real Client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../bridge/memory.js';
import { McpHttpEndpoint, type McpHttpEndpointOptions } from '../proxy/mcp/index.js';
import { defineTool, ToolProvider, ToolProxy } from '../src/index.js';
import { deferred } from './support/util.js';

let proxy: ToolProxy;
let robot: ToolProvider;
let opened: { endpoint: McpHttpEndpoint; server: Server; clients: Client[] } | undefined;
const aborted = deferred();

beforeEach(async () => {
  const room = new InMemoryRoom();
  proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  robot = new ToolProvider({
    tools: [
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
    ],
  });
  await robot.connect(room.join('robot'));
  await proxy.waitForTool('hold');
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
  const endpoint = new McpHttpEndpoint(proxy, options);
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

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

  it('refuses an initialize past maxSessions with 503, and serves the open sessions', async () => {
    const url = await serve({ maxSessions: 2 });
    const first = await connect(url);
    await connect(url);
    await expect(connect(url)).rejects.toThrow(/503|sessions are open/);
    expect(opened?.endpoint.sessionCount).toBe(2);
    await expect(first.listTools()).resolves.toMatchObject({ tools: [{ name: 'hold' }] });
  });

  it('closes a session whose client went away without a DELETE, after sessionIdleMs', async () => {
    const url = await serve({ sessionIdleMs: 200 });
    const id = await initializeByHand(url);
    expect(id).not.toBe('');
    expect(opened?.endpoint.sessionCount).toBe(1);
    await until(() => opened?.endpoint.sessionCount === 0);
    const late = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': id,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(late.status).toBe(404);
  });

  it('an idle-closed session cancels its running call at the provider', async () => {
    const url = await serve({ sessionIdleMs: 200 });
    const client = await connect(url);
    // The call is a request open on the session: it is not idle while the call runs...
    const call = client.callTool({ name: 'hold', arguments: {} }).catch((error: unknown) => error);
    await until(() => proxy.pendingCalls === 1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(proxy.pendingCalls).toBe(1);
    // ...until the client goes away with the call still open.
    await client.close();
    await expect(aborted.promise).resolves.toMatchObject({ code: 'CANCELLED' });
    await until(() => opened?.endpoint.sessionCount === 0);
    expect(proxy.pendingCalls).toBe(0);
    await call;
  });

  it('refuses bad options at construction', () => {
    expect(() => new McpHttpEndpoint(proxy, { secret: '' })).toThrow(/secret/);
    expect(() => new McpHttpEndpoint(proxy, { maxSessions: 0 })).toThrow(/maxSessions/);
    expect(() => new McpHttpEndpoint(proxy, { sessionIdleMs: -1 })).toThrow(/sessionIdleMs/);
  });
});
