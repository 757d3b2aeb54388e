/**
 * A web page in the user's browser must not drive a proxy bound to loopback: requests from another
 * origin, or under a DNS name rebound to 127.0.0.1, are refused before any route runs.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenVerifier } from 'livekit-server-sdk';
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
  expect(await get('/token', { origin: fixture.serve.url })).toBe(200);
  expect(await get('/healthz', { host })).toBe(200);
});

it('refuses another origin (a page on some site fetching a provider token) with 403', async () => {
  expect(await get('/token', { origin: 'https://evil.example' })).toBe(403);
});

it('refuses a Host that is not a loopback name (DNS rebinding) with 403', async () => {
  const port = new URL(fixture.serve.url).port;
  expect(await get('/token', { host: `rebound.example:${port}` })).toBe(403);
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

it('mints page tokens only for identities it picks itself: page-<16 random base64url chars>', async () => {
  const identities = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const answer = await fetch(new URL('/token', fixture.serve.url));
    expect(answer.status).toBe(200);
    const identity = answer.headers.get('x-toolproxy-identity') ?? '';
    expect(identity).toMatch(/^page-[A-Za-z0-9_-]{16}$/);
    const claims = await new TokenVerifier(fixture.keys.apiKey, fixture.keys.apiSecret).verify(
      await answer.text(),
    );
    expect(claims.sub).toBe(identity);
    identities.add(identity);
  }
  expect(identities.size).toBe(3);
});

it.each(['honest-robot', 'page-1', ''])(
  'refuses /token?identity=%s with 400: a named identity needs a signed token (toolproxy token)',
  async (identity) => {
    const answer = await fetch(new URL(`/token?identity=${identity}`, fixture.serve.url));
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-toolproxy-identity')).toBeNull();
    const text = await answer.text();
    expect(text).toContain('toolproxy token --identity NAME');
    expect(text).not.toMatch(/^ey/); // no token in it
  },
);

it.each([
  'evil@127.0.0.1',
  'evil@localhost:PORT',
  '127.0.0.1:PORT@evil.example',
  '127.0.0.1:PORT/path',
  '127.0.0.1:99999',
  '127.0.0.1:0',
  '127.0.0.1:',
  '127.0.0.1:PORT:PORT',
  '[::1',
])('refuses the Host "%s" (not plainly host[:port]) with 403', async (host) => {
  const port = new URL(fixture.serve.url).port;
  expect(await get('/healthz', { host: host.replaceAll('PORT', port) })).toBe(403);
});

it.each(['127.0.0.1:PORT', 'localhost:PORT', 'LOCALHOST:PORT', '127.0.0.1'])(
  'serves the loopback Host "%s"',
  async (host) => {
    const port = new URL(fixture.serve.url).port;
    expect(await get('/healthz', { host: host.replaceAll('PORT', port) })).toBe(200);
  },
);

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
    const answer = await fetch(`http://127.0.0.1:${port}/token`);
    expect(answer.status).toBe(404);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await proxy.close();
  }
});
