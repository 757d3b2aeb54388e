/**
 * `serve`'s MCP session limits and provider policy: flags, then the environment, checked at start
 * (a bad value is an error naming the flag or variable), and passed to the MCP endpoint and bridge.
 */
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AccessToken } from 'livekit-server-sdk';
import { describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { describeProviders, developmentKeys, serveConfig } from '../../../proxy/cli/config.js';
import { run } from '../../../proxy/cli/main.js';
import { startServe } from '../../../proxy/cli/serve.js';
import { spyLogger } from '../../support/util.js';

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

describe('serveConfig: who may offer tools (--providers / TOOLPROXY_PROVIDERS)', () => {
  const providers = (flag?: string, env?: string) =>
    serveConfig(
      flag === undefined ? {} : { providers: flag },
      env === undefined ? {} : { TOOLPROXY_PROVIDERS: env },
    ).providers;

  it('unset or empty in the environment: attribute', () => {
    expect(providers()).toBe('attribute');
    expect(providers(undefined, '')).toBe('attribute');
    expect(describeProviders(undefined)).toBe('attribute');
  });

  it('attribute, any, or identities:, from the environment; a flag wins over it', () => {
    expect(providers('attribute')).toBe('attribute');
    expect(providers(undefined, 'any')).toBe('any');
    expect(providers('attribute', 'any')).toBe('attribute');
    expect(providers(undefined, 'identities:robot-1')).toEqual(['robot-1']);
    expect(providers(' identities: pi@kitchen , arm.2,pi@kitchen ')).toEqual([
      'pi@kitchen',
      'arm.2',
    ]);
    expect(describeProviders(providers('identities:a,b'))).toBe('identities:a,b');
    expect(describeProviders('any')).toBe('any');
  });

  it('refuses unknown words, empty lists and bad identities, naming the accepted forms', () => {
    const forms = 'attribute, any, or identities:ID[,ID...]';
    for (const bad of ['anyone', 'Any', 'identities', 'ids:a', 'true', ''])
      expect(() => providers(bad)).toThrow(`--providers must be ${forms}, not "${bad}"`);
    expect(() => providers(undefined, 'everyone')).toThrow(
      `TOOLPROXY_PROVIDERS must be ${forms}, not "everyone"`,
    );
    for (const empty of ['identities:', 'identities:  '])
      expect(() => providers(empty)).toThrow(
        `--providers identities: names no identity; it must be ${forms}`,
      );
    for (const [list, identity] of [
      ['identities:a,,b', ''],
      ['identities:a,', ''],
      ['identities:living room', 'living room'],
      ['identities:a\tb', 'a\tb'],
      ['identities:bell\u0007', 'bell\u0007'],
      [`identities:${'x'.repeat(129)}`, 'x'.repeat(129)],
    ] as const)
      expect(() => providers(list)).toThrow(
        `--providers: ${JSON.stringify(identity)} is not a participant identity (1 to 128 characters, no spaces, commas or control characters); it must be ${forms}`,
      );
    expect(providers(`identities:${'x'.repeat(128)}`)).toEqual(['x'.repeat(128)]);
  });

  it('`toolproxy serve --providers` with a bad value exits 1 at start with the error', async () => {
    const stderr = new PassThrough();
    let written = '';
    stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {} };
    await expect(run(['serve', '--providers', 'everybody'], io)).resolves.toBe(1);
    expect(written).toContain('--providers must be attribute, any, or identities:ID[,ID...]');
    written = '';
    const env = { TOOLPROXY_PROVIDERS: 'identities:' };
    await expect(run(['serve'], { ...io, env })).resolves.toBe(1);
    expect(written).toContain('TOOLPROXY_PROVIDERS identities: names no identity');
  });

  it('`--help` shows the option', async () => {
    const stdout = new PassThrough();
    let written = '';
    stdout.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const io = { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
    await expect(run(['--help'], io)).resolves.toBe(0);
    expect(written).toContain('[--providers attribute|any|identities:ID,...]');
    expect(written).toContain('TOOLPROXY_PROVIDERS');
  });
});

describe('startServe passes the provider policy to its bridge and logs it', () => {
  /** A v0.3-style token (join only, no attributes) and the bridge's answer to one register. */
  async function register(url: string, keys: ReturnType<typeof developmentKeys>, who: string) {
    const token = new AccessToken(keys.apiKey, keys.apiSecret, { identity: who, ttl: '5m' });
    token.addGrant({ roomJoin: true, room: 'toolproxy', canPublishData: true });
    const socket = new WebSocket(
      `${url.replace(/^http/, 'ws')}/bridge?token=${await token.toJwt()}`,
    );
    try {
      const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
        socket.on('message', (data: Buffer) => {
          const frame = JSON.parse(data.toString()) as Record<string, unknown>;
          if (frame.type === 'agent:tool-registered') resolve(frame);
        });
        socket.once('error', reject);
      });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const schema = { type: 'object', properties: {} };
      socket.send(
        JSON.stringify({
          type: 'client:tool-register',
          name: 'beep',
          description: 'Beeps',
          input_schema: schema,
        }),
      );
      return await answer;
    } finally {
      socket.close();
    }
  }

  it('identities: admits the listed participant without the attribute and refuses another', async () => {
    const logger = spyLogger();
    const keys = developmentKeys();
    const serve = await startServe(
      {
        ...serveConfig({ port: '0', providers: 'identities:pi' }, {}),
        keys,
        logLevel: 'silent',
      },
      { logger },
    );
    try {
      expect(logger.info).toHaveBeenCalledWith(
        expect.objectContaining({ mode: 'embedded', providers: 'identities:pi' }),
        'serve started',
      );
      await expect(register(serve.url, keys, 'pi')).resolves.toMatchObject({
        name: 'beep',
        success: true,
      });
      await expect(register(serve.url, keys, 'intruder')).resolves.toMatchObject({
        name: 'beep',
        success: false,
        reason: 'not-allowed',
      });
    } finally {
      await serve.close();
    }
  });
});
