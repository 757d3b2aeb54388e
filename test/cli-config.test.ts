/**
 * `serve`'s MCP session limits: flags, then the environment, checked at start (a bad value is an
 * error naming the flag or variable), and passed to the MCP endpoint.
 */
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it, vi } from 'vitest';
import { developmentKeys, serveConfig } from '../proxy/cli/config.js';
import { run } from '../proxy/cli/main.js';
import { startServe } from '../proxy/cli/serve.js';
import { spyLogger } from './support/util.js';

describe('serveConfig: MCP session limits', () => {
  it('unset: left to the endpoint (its defaults)', () => {
    const config = serveConfig({}, {});
    expect(config.mcpMaxSessions).toBeUndefined();
    expect(config.mcpSessionIdleMs).toBeUndefined();
    const empty = serveConfig(
      {},
      { TOOLPROXY_MCP_MAX_SESSIONS: '', TOOLPROXY_MCP_SESSION_IDLE_MS: '' },
    );
    expect(empty.mcpMaxSessions).toBeUndefined();
    expect(empty.mcpSessionIdleMs).toBeUndefined();
  });

  it('from the environment, and a flag wins over it', () => {
    const env = { TOOLPROXY_MCP_MAX_SESSIONS: '16', TOOLPROXY_MCP_SESSION_IDLE_MS: '600000' };
    expect(serveConfig({}, env)).toMatchObject({ mcpMaxSessions: 16, mcpSessionIdleMs: 600_000 });
    expect(serveConfig({ mcpMaxSessions: '8', mcpSessionIdle: '90s' }, env)).toMatchObject({
      mcpMaxSessions: 8,
      mcpSessionIdleMs: 90_000,
    });
  });

  it('idle time: milliseconds, or a number with ms, s, m or h', () => {
    const idle = (text: string) => serveConfig({ mcpSessionIdle: text }, {}).mcpSessionIdleMs;
    expect(idle('1500')).toBe(1_500);
    expect(idle('500ms')).toBe(500);
    expect(idle('90s')).toBe(90_000);
    expect(idle('10m')).toBe(600_000);
    expect(idle('1.5h')).toBe(5_400_000);
    expect(idle('2147483647')).toBe(2_147_483_647);
  });

  it('refuses bad values, naming where they came from', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '8 sessions', '1e3'])
      expect(() => serveConfig({ mcpMaxSessions: bad }, {})).toThrow(
        `--mcp-max-sessions must be a positive whole number, not "${bad}"`,
      );
    expect(() => serveConfig({}, { TOOLPROXY_MCP_MAX_SESSIONS: 'lots' })).toThrow(
      /^TOOLPROXY_MCP_MAX_SESSIONS must be a positive whole number, not "lots"/,
    );
    for (const bad of ['0', '0s', '10x', '10 m', '-5m', '25d', '2147483648', '600h', ''])
      expect(() => serveConfig({ mcpSessionIdle: bad }, {})).toThrow(
        /^--mcp-session-idle must be a duration from 1 ms to 24 days/,
      );
    expect(() => serveConfig({}, { TOOLPROXY_MCP_SESSION_IDLE_MS: 'soon' })).toThrow(
      /^TOOLPROXY_MCP_SESSION_IDLE_MS must be a duration/,
    );
  });

  it('`toolproxy serve` with a bad value exits 1 at start with the error', async () => {
    const stderr = new PassThrough();
    let written = '';
    stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {} };
    await expect(run(['serve', '--mcp-session-idle', '10 minutes'], io)).resolves.toBe(1);
    expect(written).toContain('--mcp-session-idle must be a duration from 1 ms to 24 days');
    written = '';
    await expect(run(['serve', '--mcp-max-sessions', 'zero'], io)).resolves.toBe(1);
    expect(written).toContain('--mcp-max-sessions must be a positive whole number, not "zero"');
  });
});

describe('startServe passes the limits to the MCP endpoint', () => {
  it('mcpMaxSessions 1: a second client evicts the first; mcpSessionIdleMs closes unused ones', async () => {
    const logger = spyLogger();
    const serve = await startServe(
      {
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        mcp: 'http',
        room: 'toolproxy',
        keys: developmentKeys(),
        livekit: undefined,
        mcpMaxSessions: 1,
        mcpSessionIdleMs: 1_500,
      },
      { logger, announce: () => undefined },
    );
    const clients: Client[] = [];
    try {
      const url = new URL('/mcp', serve.url);
      for (let i = 0; i < 2; i++) {
        const client = new Client({ name: `agent-${i}`, version: '1' });
        clients.push(client);
        await client.connect(new StreamableHTTPClientTransport(url));
      }
      expect(logger.info).toHaveBeenCalledWith(
        expect.objectContaining({ maxSessions: 1 }),
        expect.stringMatching(/^MCP session evicted/),
      );
      // The second client goes without DELETE; its session closes 1.5 s after its last request.
      await clients[1]?.close();
      await vi.waitFor(
        () =>
          expect(logger.info).toHaveBeenCalledWith(
            expect.objectContaining({ idleMs: expect.any(Number) }),
            'MCP session idle: closed',
          ),
        { timeout: 8_000, interval: 100 },
      );
    } finally {
      await Promise.allSettled(clients.map((client) => client.close()));
      await serve.close();
    }
  });
});
