/**
 * What the WebSocket bridge adds to the contract: authentication before the handshake completes,
 * browser origins, identity from the token, frame limits, liveness by ping, one connection per
 * identity, the provider's reconnect with backoff, and shutdown. Real sockets on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { webSocketProviderChannel } from '../../../bridge/websocket/provider.js';
import {
  defineTool,
  systemTimers,
  type Timers,
  type ToolChannel,
  ToolProvider,
  ToolProxy,
} from '../../../src/index.js';
import { deferred } from '../../support/util.js';
import {
  type BridgeEvent,
  closed,
  newBridge,
  oddToken,
  openClient,
  providerToken,
  rawUpgrade,
  recorder,
  ROOM,
  serve,
  type Served,
  waitFor,
} from '../../support/ws-harness.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A started bridge on its own server, with its reports recorded. */
async function started(options: Parameters<typeof newBridge>[0] = {}) {
  const bridge = newBridge(options);
  const { handlers, events } = recorder();
  await bridge.start(handlers);
  const served = await serve(bridge);
  cleanups.push(() => served.close());
  return { bridge, events, served };
}

async function client(url: string, protocols: string[] = [], options = {}): Promise<WebSocket> {
  const opened = await openClient(url, protocols, options);
  if (!opened.ok) throw new Error(`refused: ${opened.status} ${opened.error}`);
  cleanups.push(async () => opened.socket.terminate());
  return opened.socket;
}

function channel(served: Served, options: Partial<Parameters<typeof webSocketProviderChannel>[0]>) {
  const made = webSocketProviderChannel({
    url: served.url,
    token: () => providerToken('robot'),
    WebSocket,
    ...options,
  });
  cleanups.push(() => made.close());
  return made;
}

const frames = (events: BridgeEvent[]) => events.filter((event) => event.kind === 'frame');

describe('authentication, before any frame is read', () => {
  it.each([
    ['no token', () => Promise.resolve(''), 'missing access token'],
    ['an expired token', () => oddToken('robot', { ttl: '-1h' }), 'access token expired'],
    ['a bad signature', () => oddToken('robot', { secret: 'not-the-secret' }), 'invalid'],
    [
      'a token for another room',
      () => oddToken('robot', { grant: { roomJoin: true, room: 'elsewhere' } }),
      'not for room',
    ],
    [
      'a token without roomJoin',
      () => oddToken('robot', { grant: { room: ROOM, canPublishData: true } }),
      'roomJoin',
    ],
  ])('%s: HTTP 401, and the frame sent behind the request is never read', async (_, mint, why) => {
    const { bridge, events, served } = await started();
    const token = await mint();
    const answer = await rawUpgrade(served.port, token === '' ? '' : `?token=${token}`);
    expect(answer.status).toBe(401);
    expect(answer.body).toContain(why);
    expect(answer.socket.destroyed).toBe(true);
    expect(events.filter((event) => event.kind !== 'connected')).toEqual([]);
    expect(bridge.peers()).toEqual([]);
  });

  it('the same request with a good token is upgraded, and then its early frame is read', async () => {
    const { events, served } = await started();
    const answer = await rawUpgrade(served.port, `?token=${await providerToken('robot')}`);
    cleanups.push(async () => answer.socket.destroy());
    expect(answer.status).toBe(101);
    await waitFor(() => frames(events).length === 1);
    expect(frames(events)[0]).toMatchObject({ peer: { identity: 'robot' } });
  });

  it('a token offered as a subprotocol works next to toolproxy (what browsers do); only toolproxy is echoed', async () => {
    const { bridge, served } = await started();
    const paired = await client(served.url, ['toolproxy', `bearer.${await providerToken('page')}`]);
    expect(paired.protocol).toBe('toolproxy'); // the token never comes back in the 101 answer
    await waitFor(() => bridge.peers().length === 1);
    expect(bridge.peers().map((peer) => peer.identity)).toEqual(['page']);
  });

  it.each([
    ['a bearer token alone', (token: string) => `bearer.${token}`],
    ['a bearer token and some other subprotocol', (token: string) => `json, bearer.${token}`],
  ])(
    '%s as the subprotocol offer: HTTP 400 saying to offer toolproxy, nothing echoed',
    async (_, offer) => {
      const { bridge, events, served } = await started();
      const token = await providerToken('page');
      const answer = await rawUpgrade(served.port, '', { 'Sec-WebSocket-Protocol': offer(token) });
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('offer the "toolproxy" subprotocol');
      expect(answer.body).not.toContain(token);
      expect(events.filter((event) => event.kind !== 'connected')).toEqual([]);
      expect(bridge.peers()).toEqual([]);
    },
  );

  it('another path is left to the server (handleUpgrade returns false)', async () => {
    const { served } = await started();
    const opened = await openClient(served.url.replace('/bridge', '/other'));
    expect(opened).toMatchObject({ ok: false, status: 404 });
    expect(served.declined).toEqual(['/other']);
  });

  it('refuses with 503 before start and after close', async () => {
    const bridge = newBridge();
    const served = await serve(bridge);
    cleanups.push(() => served.close());
    const url = `${served.url}?token=${await providerToken('robot')}`;
    expect(await openClient(url)).toMatchObject({ ok: false, status: 503 });
    await bridge.start(recorder().handlers);
    expect(await openClient(url)).toMatchObject({ ok: true });
    await bridge.close();
    expect(await openClient(url)).toMatchObject({ ok: false, status: 503 });
  });
});

describe('browser origins', () => {
  const tokenUrl = async (served: Served) => `${served.url}?token=${await providerToken('page')}`;

  it('by default allows pages from the host the request was sent to, and refuses others (403)', async () => {
    const { served } = await started();
    const url = await tokenUrl(served);
    const same = await openClient(url, [], { origin: `http://127.0.0.1:${served.port}` });
    expect(same.ok).toBe(true);
    if (same.ok) same.socket.terminate();
    expect(await openClient(url, [], { origin: 'https://evil.example' })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(await openClient(url, [], { origin: 'null' })).toMatchObject({ status: 403 });
    expect(await openClient(url, [], { origin: `file://127.0.0.1:${served.port}` })).toMatchObject({
      status: 403,
    });
  });

  it('allows only the configured origins, given as a list or a function', async () => {
    const listed = await started({ allowedOrigins: ['https://app.example'] });
    const url = await tokenUrl(listed.served);
    expect(await openClient(url, [], { origin: 'https://app.example' })).toMatchObject({
      ok: true,
    });
    const sameHost = `http://127.0.0.1:${listed.served.port}`;
    expect(await openClient(url, [], { origin: sameHost })).toMatchObject({ status: 403 });

    const decided = await started({ allowedOrigins: (origin) => origin.endsWith('.trusted') });
    const url2 = await tokenUrl(decided.served);
    expect(await openClient(url2, [], { origin: 'https://a.trusted' })).toMatchObject({ ok: true });
    expect(await openClient(url2, [], { origin: 'https://a.other' })).toMatchObject({
      status: 403,
    });
  });
});

describe('frames', () => {
  it('identity and attributes come from the token, whatever the frames claim', async () => {
    const { events, served } = await started();
    const socket = await client(`${served.url}?token=${await providerToken('robot')}`);
    socket.send(JSON.stringify({ type: 'client:tool-result', call_id: 'x', identity: 'mallory' }));
    await waitFor(() => frames(events).length === 1);
    expect(frames(events)[0]).toMatchObject({
      peer: { identity: 'robot', isAgent: false, attributes: { 'toolproxy.provider': 'true' } },
    });
  });

  it.each([
    ['by default, a token without toolproxy.provider=true', undefined, 'registration-failed'],
    ["with providers: 'any', the same token", 'any' as const, 'registered'],
  ])('%s: its registrations are %s', async (_, providers, outcome) => {
    const served = await serve(newBridge(providers === undefined ? {} : { providers }));
    cleanups.push(() => served.close());
    const proxy = new ToolProxy();
    await proxy.start(served.bridge);
    cleanups.push(() => proxy.close());
    const provider = new ToolProvider({
      tools: [
        defineTool({ name: 'peek', description: 'x', input: z.object({}), handler: () => 1 }),
      ],
    });
    cleanups.push(() => provider.close());
    const answers: Array<{ kind: string; reason?: string | undefined }> = [];
    provider.events.on('registered', () => answers.push({ kind: 'registered' }));
    provider.events.on('registration-failed', ({ reason }) =>
      answers.push({ kind: 'registration-failed', reason }),
    );
    await provider.connect(channel(served, { token: () => oddToken('viewer') }));
    await waitFor(() => answers.length > 0);
    expect(answers[0]?.kind).toBe(outcome);
    if (outcome === 'registration-failed') expect(answers[0]?.reason).toBe('not-allowed');
    expect(proxy.tools().length).toBe(outcome === 'registered' ? 1 : 0);
  });

  it('does not negotiate compression, even when the client offers it (no inflate bombs)', async () => {
    const { served } = await started();
    const socket = await client(`${served.url}?token=${await providerToken('robot')}`, [], {
      perMessageDeflate: true,
    });
    expect(socket.extensions).toBe('');
  });

  it('an oversize frame closes the connection with 1009; oversize sends are refused', async () => {
    const { bridge, events, served } = await started({ maxFrameBytes: 1_024 });
    const socket = await client(`${served.url}?token=${await providerToken('robot')}`);
    await waitFor(() => bridge.peers().length === 1);
    await expect(bridge.send('robot', 'é'.repeat(513))).rejects.toThrow(/exceeds the maximum/);
    await expect(bridge.send('nobody', '{}')).rejects.toThrow(/no provider "nobody"/);
    const seen = closed(socket);
    socket.send('x'.repeat(1_025));
    expect((await seen).code).toBe(1009);
    await waitFor(() => events.some((event) => event.kind === 'left'));
    expect(frames(events)).toEqual([]);
    expect(bridge.peers()).toEqual([]);
  });

  it('a binary frame is refused with 1003 and a reason', async () => {
    const { events, served } = await started();
    const socket = await client(`${served.url}?token=${await providerToken('robot')}`);
    const seen = closed(socket);
    socket.send(Buffer.from('{"type":"client:tool-result"}'));
    expect(await seen).toEqual({ code: 1003, reason: 'binary frames are not accepted' });
    expect(frames(events)).toEqual([]);
  });
});

describe('connections', () => {
  it('a socket that stops answering pings is dropped within two intervals', async () => {
    let rounds = 0; // ping rounds run, counted instead of reading the wall clock
    const timers: Timers = {
      ...systemTimers,
      setTimeout: (callback, ms) =>
        systemTimers.setTimeout(() => {
          if (ms === 50) rounds++;
          callback();
        }, ms),
    };
    const { bridge, events, served } = await started({ pingIntervalMs: 50, timers });
    const url = `${served.url}?token=`;
    await client(`${url}${await providerToken('alive')}`);
    await client(`${url}${await providerToken('dead')}`, [], { autoPong: false });
    await waitFor(() => bridge.peers().length === 2);
    const since = rounds;
    await waitFor(() => events.some((event) => event.kind === 'left'), 1_000);
    expect(rounds - since).toBeLessThanOrEqual(2);
    expect(events.filter((event) => event.kind === 'left')).toEqual([
      { kind: 'left', identity: 'dead' },
    ]);
    const dropped = rounds;
    await waitFor(() => rounds >= dropped + 5); // five more rounds: the one that answers stays
    expect(bridge.peers().map((peer) => peer.identity)).toEqual(['alive']);
  });

  it('a second connection with the same identity replaces the first, which is told why', async () => {
    const { bridge, events, served } = await started();
    const reports = recorder();
    const retries: number[] = []; // backoff delays the replaced provider asks for
    const first = channel(served, {
      reconnect: { initialDelayMs: 10 },
      heartbeatTimeoutMs: false,
      timers: {
        ...systemTimers,
        setTimeout: (callback, ms) => {
          retries.push(ms);
          return systemTimers.setTimeout(callback, ms);
        },
      },
    });
    await first.start(reports.handlers);
    await waitFor(() => bridge.peers().length === 1);
    const second = await client(`${served.url}?token=${await providerToken('robot')}`);
    await waitFor(() => reports.events.some((event) => event.kind === 'closed'));
    expect(reports.events.map((event) => event.kind)).toEqual([
      'joined',
      'connected',
      'left',
      'closed',
    ]);
    expect(events.filter((event) => event.kind !== 'connected')).toEqual([
      { kind: 'joined', identity: 'robot' },
      { kind: 'left', identity: 'robot' },
      { kind: 'joined', identity: 'robot' },
    ]);
    second.send('{"type":"client:tool-unregister","name":"x"}');
    await waitFor(() => frames(events).length === 1);
    // The replaced provider does not fight back: no reconnect scheduled, one peer still.
    expect(retries).toEqual([]);
    expect(bridge.peers()).toHaveLength(1);
  });

  it('close() closes every connection with 1001, empties peers() and reports closed', async () => {
    const { bridge, events, served } = await started();
    const url = `${served.url}?token=`;
    const a = await client(`${url}${await providerToken('a')}`);
    const b = await client(`${url}${await providerToken('b')}`);
    await waitFor(() => bridge.peers().length === 2);
    const seen = [closed(a), closed(b)];
    await bridge.close();
    expect(await Promise.all(seen)).toEqual([
      { code: 1001, reason: 'proxy shutting down' },
      { code: 1001, reason: 'proxy shutting down' },
    ]);
    expect(bridge.peers()).toEqual([]);
    expect(events.filter((event) => event.kind === 'closed')).toHaveLength(1);
    await expect(bridge.send('a', '{}')).rejects.toThrow();
  });
});

describe('the provider channel', () => {
  /** Timers that remember every delay asked for. */
  function recordingTimers(): { timers: Timers; delays: number[] } {
    const delays: number[] = [];
    return {
      delays,
      timers: {
        ...systemTimers,
        setTimeout: (callback, ms) => {
          delays.push(ms);
          return systemTimers.setTimeout(callback, ms);
        },
      },
    };
  }

  function holdTool(box: { release: ReturnType<typeof deferred<string>> }, aborts: unknown[]) {
    return defineTool({
      name: 'hold',
      description: 'runs until released or aborted',
      input: z.object({}),
      handler: (_args, { signal }) => {
        signal.addEventListener('abort', () => aborts.push(signal.reason), { once: true });
        return box.release.promise;
      },
    });
  }

  async function proxyOn(served: Served): Promise<ToolProxy> {
    const proxy = new ToolProxy();
    await proxy.start(served.bridge);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  it('a socket lost mid-call fails the call with PROVIDER_GONE; the provider reconnects and registers again', async () => {
    const served = await serve(newBridge());
    cleanups.push(() => served.close());
    const proxy = await proxyOn(served);
    const box = { release: deferred<string>() };
    const aborts: unknown[] = [];
    const provider = new ToolProvider({ tools: [holdTool(box, aborts)] });
    cleanups.push(() => provider.close());
    await provider.connect(channel(served, { reconnect: { initialDelayMs: 20 } }));
    await proxy.waitForTool('hold');
    const started = deferred();
    provider.events.on('call:started', () => started.resolve(undefined));
    const call = proxy.call('hold');
    await started.promise;
    served.upgrades.at(-1)?.destroy(); // the server's end of the TCP connection, no close frame
    await expect(call).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
    await waitFor(() => aborts.length === 1);
    expect(proxy.tools()).toEqual([]);
    await proxy.waitForTool('hold');
    box.release = deferred<string>();
    const again = proxy.call('hold');
    await waitFor(() => provider.runningCalls === 1);
    box.release.resolve('done');
    await expect(again).resolves.toBe('done');
  });

  it('reconnects with capped backoff while the proxy restarts, then registers with the new one', async () => {
    const served = await serve(newBridge());
    cleanups.push(() => served.close());
    await proxyOn(served);
    const { timers, delays } = recordingTimers();
    let tokens = 0;
    const provider = new ToolProvider({ tools: [holdTool({ release: deferred() }, [])] });
    cleanups.push(() => provider.close());
    const link = channel(served, {
      token: () => {
        tokens++;
        return providerToken('robot');
      },
      reconnect: { initialDelayMs: 20, maxDelayMs: 80 },
      heartbeatTimeoutMs: false, // only the backoff's timers are recorded
      timers,
    });
    await provider.connect(link);
    await waitFor(() => link.peers().length === 1);
    await served.bridge.close(); // the proxy goes away; its server answers 503 meanwhile
    await waitFor(() => delays.length >= 5);
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
    expect(link.peers()).toEqual([]);
    served.bridge = newBridge();
    const restarted = await proxyOn(served);
    await restarted.waitForTool('hold');
    expect(tokens).toBeGreaterThanOrEqual(6); // a fresh token for every attempt
    expect(restarted.tools().map((tool) => tool.provider)).toEqual(['robot']);
  });

  it('sends only to the proxy and only while open; close() stops reconnecting for good', async () => {
    const { bridge, served } = await started();
    const { timers, delays } = recordingTimers();
    let constructed = 0;
    class Counted extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        constructed++;
      }
    }
    const reports = recorder();
    const link: ToolChannel = channel(served, {
      WebSocket: Counted,
      useSubprotocol: true,
      reconnect: { initialDelayMs: 10 },
      heartbeatTimeoutMs: false, // only a reconnect would ask for a timer of 10 ms
      timers,
    });
    await expect(link.send('toolproxy', '{}')).rejects.toThrow(/not connected/);
    await link.start(reports.handlers);
    await waitFor(() => link.peers().length === 1);
    expect(link.peers()).toEqual([{ identity: 'toolproxy', isAgent: true }]);
    expect(link.identity).toBe('robot');
    await expect(link.send('someone-else', '{}')).rejects.toThrow(/only peer is the proxy/);
    await link.send('toolproxy', '{"type":"client:tool-unregister","name":"x"}');
    await link.close();
    expect(reports.events.map((event) => event.kind)).toEqual([
      'joined',
      'connected',
      'left',
      'closed',
    ]);
    expect(delays.filter((ms) => ms === 10)).toEqual([]); // no reconnect was scheduled
    expect(constructed).toBe(1);
    expect(bridge.peers()).toEqual([]);
    await expect(link.send('toolproxy', '{}')).rejects.toThrow(/not connected/);
  });
});

it('the provider entry is browser-safe: no ws, no Node built-ins, no package at all', () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const pattern = /\bfrom\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]/g;
    for (const match of text.matchAll(pattern)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.'))
        visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  };
  visit(resolve(dirname(fileURLToPath(import.meta.url)), '../../../bridge/websocket/provider.ts'));
  expect(seen.size).toBeGreaterThan(3);
  expect([...packages]).toEqual([]);
});
