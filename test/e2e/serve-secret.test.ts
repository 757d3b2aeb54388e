/**
 * `/mcp` and `/hooks/*` ask for a bearer secret off loopback (else anyone on the network could call
 * every tool or stop every call), and on any address once TOOLPROXY_HOOK_SECRET is set.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { developmentKeys, serveConfig } from '../../proxy/cli/config.js';
import { httpSecret, type RunningServe, startServe } from '../../proxy/cli/serve.js';
import { silentLogger } from '../../src/index.js';

const keys = { LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 'signing-secret' };

describe('which secret serve asks for', () => {
  it('on loopback, none; off loopback, the signing secret', () => {
    expect(httpSecret(serveConfig({}, keys))).toEqual({
      secret: 'signing-secret',
      requireSecret: false,
    });
    expect(httpSecret(serveConfig({ host: '192.168.1.20' }, keys))).toEqual({
      secret: 'signing-secret',
      requireSecret: true,
    });
  });

  it('TOOLPROXY_HOOK_SECRET, on any address, so hooks need not hold the signing secret', () => {
    const env = { ...keys, TOOLPROXY_HOOK_SECRET: 'hook-only' };
    for (const host of ['127.0.0.1', '10.0.0.5'])
      expect(httpSecret(serveConfig({ host }, env))).toEqual({
        secret: 'hook-only',
        requireSecret: true,
      });
    expect(httpSecret(serveConfig({}, { ...keys, TOOLPROXY_HOOK_SECRET: '' })).requireSecret).toBe(
      false,
    );
  });
});

describe('serve with TOOLPROXY_HOOK_SECRET', () => {
  let serve: RunningServe;
  beforeAll(async () => {
    serve = await startServe(
      {
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        mcp: 'http',
        room: 'toolproxy',
        keys: developmentKeys(),
        httpSecret: 'hook-only',
        livekit: undefined,
      },
      { logger: silentLogger, announce: () => {} },
    );
  });
  afterAll(() => serve.close());

  function post(path: string, authorization?: string): Promise<Response> {
    return fetch(`${serve.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: '{"session_key":"s"}',
    });
  }

  it('refuses /mcp and /hooks without the secret or with another one (401)', async () => {
    for (const authorization of [undefined, 'Bearer signing-secret', 'Bearer hook-onl']) {
      expect((await post('/mcp', authorization)).status).toBe(401);
      expect((await post('/hooks/agent_loop_stopped', authorization)).status).toBe(401);
    }
  });

  it('serves them with it', async () => {
    const hook = await post('/hooks/agent_loop_stopped', 'Bearer hook-only');
    expect(hook.status).toBe(200);
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`), {
        requestInit: { headers: { authorization: 'Bearer hook-only' } },
      }),
    );
    await expect(client.listTools()).resolves.toEqual({ tools: [] });
    await client.close();
  });
});
