/**
 * A web page in the user's browser must not drive a proxy bound to loopback: requests from another
 * origin, or under a DNS name rebound to 127.0.0.1, are refused before any route runs.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mintProviderToken } from '../../bridge/livekit/index.js';
import { route } from '../../proxy/cli/http-routes.js';
import { HookIngress } from '../../proxy/hooks/index.js';
import { McpHttpEndpoint } from '../../proxy/mcp/index.js';
import { ToolProxy } from '../../src/index.js';
import { type ServeFixture, startServeFixture } from './serve-fixture.js';

let fixture: ServeFixture;
beforeAll(async () => {
  fixture = await startServeFixture();
});
afterAll(() => fixture.close());

function send(method: string, path: string, headers: Record<string, string>): Promise<number> {
  const url = new URL(path, fixture.serve.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    // An upgrade that is refused answers with a plain response; one that is accepted would not.
    req.on('upgrade', (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const get = (path: string, headers: Record<string, string>) => send('GET', path, headers);

it('serves its own origin and non-browser clients', async () => {
  const host = new URL(fixture.serve.url).host;
  expect(await get('/healthz', {})).toBe(200);
  expect(await get('/token?identity=page-1', { origin: fixture.serve.url })).toBe(200);
  expect(await get('/healthz', { host })).toBe(200);
});

it('refuses another origin (a page on some site fetching a provider token) with 403', async () => {
  expect(await get('/token?identity=page-1', { origin: 'https://evil.example' })).toBe(403);
});

it('refuses a Host that is not a loopback name (DNS rebinding) with 403', async () => {
  const port = new URL(fixture.serve.url).port;
  expect(await get('/token?identity=page-1', { host: `rebound.example:${port}` })).toBe(403);
  expect(await get('/healthz', { host: `rebound.example:${port}` })).toBe(403);
});

it('the Origin guard covers POST /hooks and /mcp too (a page cannot stop calls or call tools)', async () => {
  const headers = { origin: 'https://evil.example', 'content-type': 'text/plain' };
  expect(await send('POST', '/hooks/agent_loop_stopped', headers)).toBe(403);
  expect(await send('POST', '/mcp', headers)).toBe(403);
});

it('the Host guard covers the WebSocket bridge upgrade (DNS rebinding), before any token check', async () => {
  const port = new URL(fixture.serve.url).port;
  const token = await mintProviderToken({
    ...fixture.keys,
    room: 'toolproxy',
    identity: 'robot-1',
  });
  const upgrade = {
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  };
  expect(await get(`/bridge?token=${token}`, { ...upgrade, host: `rebound.example:${port}` })).toBe(
    403,
  );
  expect(await get(`/bridge?token=${token}`, upgrade)).toBe(101);
});

it('hands page tokens only for identities of the allowed form', async () => {
  expect(await get('/token?identity=page%201', {})).toBe(400);
  expect(await get(`/token?identity=${'a'.repeat(65)}`, {})).toBe(400);
  expect(await get('/token?identity=page-1.a_b', {})).toBe(200);
});

it('serves no /token where pages may not get tokens (off loopback, or in LiveKit mode)', async () => {
  const proxy = new ToolProxy();
  const server = createServer(
    route({
      mcp: new McpHttpEndpoint(proxy),
      hooks: new HookIngress(proxy, { requireSecret: false }),
      health: () => ({}),
      page: undefined,
      pageToken: undefined,
      hostAllowed: () => true,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/token?identity=page-1`);
    expect(answer.status).toBe(404);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await proxy.close();
  }
});
