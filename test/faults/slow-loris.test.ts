/**
 * Slow and silent clients against `serve` (its HTTP server and the WebSocket bridge behind it), on
 * real sockets with short configured timeouts: one that dribbles a request one byte a second, one
 * that dribbles an upgrade to /bridge, one that connects and says nothing, and one that completes
 * the upgrade and then never answers a ping. Each is dropped within a bounded time, while a normal
 * provider keeps answering calls and /healthz keeps answering.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { defineTool, ToolProvider } from '../../src/index.js';
import { type ServeFixture, startServeFixture } from '../e2e/serve-fixture.js';
import { measured } from '../support/measured.js';
import { closed, openClient, sleep, waitFor } from '../support/ws-harness.js';

const TIMEOUTS = { headersMs: 2_500, requestMs: 5_000, checkIntervalMs: 100, pingIntervalMs: 200 };

let fixture: ServeFixture;
let provider: ToolProvider;
/** WebSockets the provider opened: more than one means it had to reconnect. */
let sockets = 0;

const token = (identity: string) =>
  mintProviderToken({ ...fixture.keys, room: 'toolproxy', identity });

beforeAll(async () => {
  fixture = await startServeFixture({ timeouts: TIMEOUTS });
  provider = new ToolProvider({
    tools: [
      defineTool({
        name: 'echo',
        description: 'echo',
        input: z.object({ text: z.string() }),
        handler: ({ text }) => text,
      }),
    ],
  });
  class Counted extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets++;
    }
  }
  const channel = webSocketProviderChannel({
    url: `${fixture.serve.url.replace('http', 'ws')}/bridge`,
    token: () => token('robot'),
    WebSocket: Counted,
  });
  await provider.connect(channel);
  await fixture.serve.proxy.waitForTool('echo');
});
afterAll(async () => {
  await provider.close();
  await fixture.close();
});

interface Dropped {
  /** ms from the first byte sent (or from connecting, if none is) to the socket closing. */
  afterMs: number;
  /** Bytes sent before that. */
  sent: number;
  /** The server's answer, if any (its status line). */
  answer: string;
}

/** A raw TCP client sending `text` one byte every `everyMs`; resolves when the server hangs up. */
function dribble(text: string, everyMs: number): Promise<Dropped> {
  const { port } = new URL(fixture.serve.url);
  const socket = connect(Number(port), '127.0.0.1');
  let sent = 0;
  let answer = '';
  let since = performance.now();
  const send = () => {
    if (sent === 0) since = performance.now();
    if (sent < text.length && !socket.destroyed) socket.write(text[sent++] ?? '');
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  socket.once('connect', () => {
    since = performance.now();
    if (text === '') return;
    send();
    timer = setInterval(send, everyMs);
  });
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  return new Promise((resolve) => {
    socket.once('close', () => {
      clearInterval(timer);
      const afterMs = Math.round(performance.now() - since);
      resolve({ afterMs, sent, answer: answer.split('\r\n')[0] ?? '' });
    });
  });
}

it('slow and silent clients are dropped within their bounds while a normal provider keeps working', async (context) => {
  const host = new URL(fixture.serve.url).host;
  const request = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
  const dribbledGet = dribble(request(['GET /healthz HTTP/1.1', `Host: ${host}`]), 1_000);
  const dribbledUpgrade = dribble(
    request([
      `GET /bridge?token=${await token('loris-1')} HTTP/1.1`,
      `Host: ${host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ]),
    1_000,
  );
  const silent = dribble('', 1_000);
  // Upgraded with a valid token, then deaf: never answers a ping, never sends a frame.
  const deafUrl = `${fixture.serve.url.replace('http', 'ws')}/bridge?token=${await token('loris-2')}`;
  const deafClient = await openClient(deafUrl, [], { autoPong: false });
  if (!deafClient.ok) throw new Error(`refused: ${deafClient.error}`);
  const deafSince = performance.now();
  const deafClosed = closed(deafClient.socket).then((seen) => ({
    ...seen,
    afterMs: Math.round(performance.now() - deafSince),
  }));

  // Meanwhile, the normal provider answers calls and /healthz answers, all along.
  let calls = 0;
  let health = 0;
  let done = false;
  const traffic = (async () => {
    while (!done) {
      await expect(fixture.serve.proxy.call('echo', { text: `n${calls}` })).resolves.toBe(
        `n${calls}`,
      );
      calls++;
      expect((await fetch(`${fixture.serve.url}/healthz`)).status).toBe(200);
      health++;
      await sleep(50);
    }
  })();

  const [get, upgrade, quiet, deafEnd] = await Promise.all([
    dribbledGet,
    dribbledUpgrade,
    silent,
    deafClosed,
  ]);
  done = true;
  await traffic;

  const { headersMs, checkIntervalMs, pingIntervalMs } = TIMEOUTS;
  const slack = 1_500; // a loaded machine; the checks run every checkIntervalMs
  for (const dropped of [get, upgrade, quiet]) {
    expect(dropped.answer).toBe('HTTP/1.1 408 Request Timeout');
    expect(dropped.afterMs).toBeGreaterThanOrEqual(headersMs - checkIntervalMs);
    expect(dropped.afterMs).toBeLessThan(headersMs + slack);
  }
  expect(get.sent).toBeGreaterThanOrEqual(2); // the dribble went on: bytes do not buy time
  expect(deafEnd.code).toBe(1006); // terminated, no close handshake
  expect(deafEnd.afterMs).toBeLessThan(2 * pingIntervalMs + slack);
  expect(calls).toBeGreaterThan(5);
  expect(sockets).toBe(1); // the provider never had to reconnect
  await measured(
    context,
    `dribbled GET: 408 after ${get.afterMs} ms (${get.sent} bytes); dribbled upgrade: 408 after ${upgrade.afterMs} ms; ` +
      `silent TCP: 408 after ${quiet.afterMs} ms; deaf WebSocket: dropped after ${deafEnd.afterMs} ms; ` +
      `meanwhile ${calls} calls and ${health} /healthz all answered (headers ${headersMs} ms, ping ${pingIntervalMs} ms)`,
  );
});

it('a connected provider that answers pings but sends nothing is kept (it is authenticated, one connection per identity)', async () => {
  const url = `${fixture.serve.url.replace('http', 'ws')}/bridge?token=${await token('idle')}`;
  const idle = await openClient(url);
  if (!idle.ok) throw new Error(`refused: ${idle.error}`);
  let closedEarly = false;
  idle.socket.once('close', () => {
    closedEarly = true;
  });
  await sleep(5 * TIMEOUTS.pingIntervalMs);
  expect(closedEarly).toBe(false);
  idle.socket.terminate();
  await waitFor(() => closedEarly);
});
