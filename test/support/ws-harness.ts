/**
 * For the WebSocket bridge's tests: a bridge on a real HTTP server on 127.0.0.1, a recording of what
 * it reports, tokens of every kind, `ws` clients, and a raw HTTP upgrade that pipelines a frame
 * right behind the request (to prove a refused connection has none of its frames read).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { WebSocket, type ClientOptions } from 'ws';
import { vi } from 'vitest';
import {
  mintProviderToken,
  WebSocketBridge,
  type WebSocketBridgeOptions,
} from '../../bridge/websocket/index.js';
import type { ChannelHandlers, PeerInfo } from '../../src/index.js';

export const ROOM = 'lab';
export const KEY = 'test-key';
export const SECRET = 'test-secret-0123456789abcdef0123456789';

export type BridgeEvent =
  | { kind: 'frame'; peer: PeerInfo; text: string }
  | { kind: 'joined' | 'left'; identity: string }
  | { kind: 'connected' | 'closed' };

export interface Served {
  server: Server;
  port: number;
  url: string;
  /** The bridge the server routes upgrades to (replaceable, as a restarted proxy would be). */
  bridge: WebSocketBridge;
  /** Raw sockets of every upgrade request, in order. */
  upgrades: Duplex[];
  /** Paths the bridge declined (handleUpgrade returned false). */
  declined: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 composing `bridge.handleUpgrade` (others' paths get a 404). */
export async function serve(bridge: WebSocketBridge): Promise<Served> {
  const server = createServer((_request, response) => response.writeHead(404).end());
  const served: Served = {
    server,
    port: 0,
    url: '',
    bridge,
    upgrades: [],
    declined: [],
    close: async () => {
      await served.bridge.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('upgrade', (request, socket, head) => {
    served.upgrades.push(socket);
    if (served.bridge.handleUpgrade(request, socket, head)) return;
    served.declined.push(request.url ?? '');
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  served.port = (server.address() as AddressInfo).port;
  served.url = `ws://127.0.0.1:${served.port}/bridge`;
  return served;
}

/** Handlers that record everything the bridge reports. */
export function recorder(): { handlers: ChannelHandlers; events: BridgeEvent[] } {
  const events: BridgeEvent[] = [];
  return {
    events,
    handlers: {
      onFrame: (peer, text) => events.push({ kind: 'frame', peer, text }),
      onPeerJoined: (peer) => events.push({ kind: 'joined', identity: peer.identity }),
      onPeerLeft: (peer) => events.push({ kind: 'left', identity: peer.identity }),
      onConnected: () => events.push({ kind: 'connected' }),
      onClosed: () => events.push({ kind: 'closed' }),
    },
  };
}

export function newBridge(options: Partial<WebSocketBridgeOptions> = {}): WebSocketBridge {
  return new WebSocketBridge({ apiKey: KEY, apiSecret: SECRET, room: ROOM, ...options });
}

export function providerToken(identity: string): Promise<string> {
  return mintProviderToken({ apiKey: KEY, apiSecret: SECRET, room: ROOM, identity });
}

/** A token off the happy path: another secret, another room, no roomJoin, already expired. */
export function oddToken(
  identity: string,
  odd: { secret?: string; grant?: VideoGrant; ttl?: string } = {},
): Promise<string> {
  const token = new AccessToken(KEY, odd.secret ?? SECRET, { identity, ttl: odd.ttl ?? '1h' });
  token.addGrant(odd.grant ?? { roomJoin: true, room: ROOM });
  return token.toJwt();
}

export type Opened =
  { ok: true; socket: WebSocket } | { ok: false; status: number | undefined; error: string };

/** A `ws` client: open, or refused with the HTTP status of the answer. */
export function openClient(
  url: string,
  protocols: string[] = [],
  options: ClientOptions = {},
): Promise<Opened> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, protocols, options);
    socket.once('open', () => resolve({ ok: true, socket }));
    socket.once('unexpected-response', (_request, response) => {
      resolve({ ok: false, status: response.statusCode, error: response.statusMessage ?? '' });
      socket.terminate();
    });
    socket.once('error', (error) =>
      resolve({ ok: false, status: undefined, error: error.message }),
    );
  });
}

/** Resolves with the close code and reason the client saw. */
export function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

export interface RawAnswer {
  status: number;
  body: string;
  socket: Socket;
}

/**
 * A hand-written upgrade request with a masked text frame sent in the same write, before any
 * answer: if the server read frames before deciding, this one would reach `onFrame`.
 */
export function rawUpgrade(
  port: number,
  query: string,
  headers: Record<string, string> = {},
  early = '{"type":"client:tool-register","name":"early","input_schema":{"type":"object"}}',
): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  const lines = [
    `GET /bridge${query} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), maskedText(early)]));
  return new Promise((resolve, reject) => {
    let received = '';
    const answer = () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      return { status, body: received.split('\r\n\r\n')[1] ?? '', socket };
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 101') && received.includes('\r\n\r\n')) resolve(answer());
    });
    socket.on('close', () => resolve(answer()));
    socket.on('error', reject);
  });
}

function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('keep early frames under 126 bytes');
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Waits for a condition across real sockets (vi.waitFor polls it), bounded. */
export async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error('condition not met in time');
    },
    { timeout: ms, interval: 5 },
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
