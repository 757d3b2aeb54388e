/**
 * The proxy's side of the embedded WebSocket bridge: providers connect to a path of an HTTP server
 * the application runs, each authenticated by a LiveKit access token before the handshake
 * completes. One connection per identity (a newer one replaces an older one), text frames only,
 * bounded in size, and a ping every interval so a connection that died silently is dropped.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TokenVerifier } from 'livekit-server-sdk';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import {
  type ChannelHandlers,
  FrameTooLargeError,
  type PeerInfo,
  type ToolChannel,
} from '../../src/shared/channel.js';
import { describeUnknown } from '../../src/shared/errors.js';
import { type Logger, silentLogger } from '../../src/shared/logger.js';
import { systemTimers, type Timers } from '../../src/shared/timers.js';
import {
  authenticate,
  offeredToken,
  type OriginPolicy,
  originAllowed,
  protocolRefusal,
  refuse,
  selectProtocol,
} from './auth.js';
import {
  isReservedIdentity,
  type ProviderPolicyOption,
  providerPolicy,
} from '../livekit/policy.js';
import type { ProviderPolicy } from '../livekit/room-port.js';
import {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PATH,
  DEFAULT_PROXY_IDENTITY,
  DEFAULT_ROOM,
  oversizeBytes,
} from './wire.js';

export interface WebSocketBridgeOptions {
  /** Key and secret that sign providers' access tokens (as livekit-server-sdk mints them). */
  apiKey: string;
  apiSecret: string;
  /** Tokens must grant joining this room. Default `toolproxy`. */
  room?: string;
  /** The proxy's identity, as providers address it. Default `toolproxy`. */
  identity?: string;
  /** Upgrade requests to this path are the bridge's. Default `/bridge`. */
  path?: string;
  /**
   * Browser origins allowed to connect. Default: http(s) pages served from the host the request
   * was sent to. Requests without an `Origin` header (programs, not pages) are always allowed.
   */
  allowedOrigins?: OriginPolicy;
  /**
   * Who may offer tools, as in a LiveKit room: by default only holders of a token with the
   * attribute `toolproxy.provider=true` (what `mintProviderToken` and `toolproxy token` mint);
   * others may connect, but their registrations are refused (`not-allowed`).
   */
  providers?: ProviderPolicyOption;
  /** Largest frame either way, in bytes of UTF-8. Default 1 MiB. */
  maxFrameBytes?: number;
  /** A provider that has not answered the previous ping by the next one is dropped. Default 5,000 ms. */
  pingIntervalMs?: number;
  logger?: Logger;
  timers?: Timers;
}

interface Connection {
  readonly peer: PeerInfo;
  readonly socket: WebSocket;
  alive: boolean;
}

/** How long `close()` waits for providers to answer the close handshake. */
const CLOSE_GRACE_MS = 1_000;

export class WebSocketBridge implements ToolChannel {
  readonly identity: string;
  readonly #room: string;
  readonly #path: string;
  readonly #origins: OriginPolicy | undefined;
  readonly #mayProvide: ProviderPolicy;
  readonly #maxFrame: number;
  readonly #pingMs: number;
  readonly #logger: Logger;
  readonly #timers: Timers;
  readonly #verifier: TokenVerifier;
  readonly #server: WebSocketServer;
  readonly #connections = new Map<string, Connection>();
  #handlers: ChannelHandlers | undefined;
  #pingTimer: unknown;
  /** When the next ping round runs (the timers' clock). */
  #nextPingAt = 0;
  #closed = false;

  constructor(options: WebSocketBridgeOptions) {
    if (options.apiKey === '' || options.apiSecret === '')
      throw new Error('WebSocketBridge: apiKey and apiSecret are required');
    this.identity = options.identity ?? DEFAULT_PROXY_IDENTITY;
    this.#room = options.room ?? DEFAULT_ROOM;
    this.#path = options.path ?? DEFAULT_PATH;
    this.#origins = options.allowedOrigins;
    this.#mayProvide = providerPolicy(options.providers, this.identity);
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#pingMs = options.pingIntervalMs ?? 5_000;
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    this.#verifier = new TokenVerifier(options.apiKey, options.apiSecret);
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.#maxFrame,
      handleProtocols: selectProtocol,
    });
  }

  start(handlers: ChannelHandlers): Promise<void> {
    if (this.#handlers !== undefined || this.#closed)
      return Promise.reject(new Error('WebSocketBridge: already started or closed'));
    this.#handlers = handlers;
    this.#schedulePing();
    queueMicrotask(() => {
      if (!this.#closed) handlers.onConnected();
    });
    return Promise.resolve();
  }

  peers(): readonly PeerInfo[] {
    return [...this.#connections.values()].map((connection) => connection.peer);
  }

  send(to: string, text: string): Promise<void> {
    const connection = this.#connections.get(to);
    if (connection?.socket.readyState !== WebSocket.OPEN)
      return Promise.reject(new Error(`no provider "${to}" is connected`));
    const bytes = oversizeBytes(text, this.#maxFrame);
    if (bytes !== undefined) return Promise.reject(new FrameTooLargeError(bytes, this.#maxFrame));
    connection.socket.send(text, (error) => {
      if (error) this.#logger.debug({ to, error: error.message }, 'frame not delivered');
    });
    return Promise.resolve();
  }

  /**
   * How much longer `to` stays connected if nothing more comes from it: one that has answered the
   * last ping is dropped at the round after next, one that has not at the next. So a call sent to
   * a provider already silent is vouched for only until its drop (PROTOCOL.md section 3.5).
   */
  silenceLeftMs(to: string): number | undefined {
    const connection = this.#connections.get(to);
    if (connection === undefined || this.#closed) return undefined;
    const untilRound = Math.max(0, this.#nextPingAt - this.#timers.now());
    return connection.alive ? untilRound + this.#pingMs : untilRound;
  }

  /**
   * For an HTTP server's `upgrade` event. False when the request's path is not the bridge's (try
   * another handler); otherwise the bridge owns the socket: it completes the handshake or refuses.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(request);
    if (url?.pathname !== this.#path) return false;
    // Until ws takes the socket over: a client gone mid-handshake is not the server's error.
    const ignore = () => {};
    socket.on('error', ignore);
    this.#admit(request, socket, head, url, () => socket.off('error', ignore)).catch(
      (error: unknown) => {
        this.#logger.error({ error: describeUnknown(error) }, 'upgrade failed');
        refuse(socket, 500, 'internal error');
      },
    );
    return true;
  }

  /**
   * Stops pinging, reports the channel closed, and closes every connection (1001), resolving once
   * each has answered (or after a grace period). Nothing is read from any connection once this
   * starts, so the channel is reported closed at once, not after the close handshakes: pending
   * calls need not wait out a provider that does not answer.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.clearTimeout(this.#pingTimer);
    const sockets = [...this.#connections.values()].map((connection) => connection.socket);
    this.#connections.clear();
    this.#handlers?.onClosed();
    await Promise.all(sockets.map((socket) => this.#closeSocket(socket)));
    this.#server.close();
  }

  async #admit(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    handOver: () => void,
  ): Promise<void> {
    const from = { address: request.socket.remoteAddress, origin: request.headers.origin };
    if (!this.#accepting()) {
      refuse(socket, 503, 'the proxy is not accepting connections');
      return;
    }
    if (!originAllowed(request, this.#origins)) {
      this.#logger.warn(from, 'bridge connection refused: origin not allowed');
      refuse(socket, 403, 'origin not allowed');
      return;
    }
    const badOffer = protocolRefusal(request);
    if (badOffer !== undefined) {
      this.#logger.warn({ ...from, reason: badOffer }, 'bridge connection refused');
      refuse(socket, 400, badOffer);
      return;
    }
    const verdict = await authenticate(this.#verifier, offeredToken(request, url), this.#room);
    if (!verdict.ok) {
      this.#logger.warn({ ...from, reason: verdict.reason }, 'bridge connection refused');
      refuse(socket, verdict.status, verdict.reason);
      return;
    }
    const { identity } = verdict.peer;
    if (isReservedIdentity(identity, this.identity)) {
      const reason = `identity "${identity}" is reserved for the proxy`;
      this.#logger.warn({ ...from, identity, reason }, 'bridge connection refused');
      refuse(socket, 403, reason);
      return;
    }
    if (!this.#accepting() || socket.destroyed) {
      refuse(socket, 503, 'the proxy is shutting down');
      return;
    }
    handOver();
    const peer = { ...verdict.peer, mayProvide: this.#mayProvide(verdict.peer) };
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#opened(peer, ws));
  }

  /** Started and not closed (checked again after every await). */
  #accepting(): boolean {
    return this.#handlers !== undefined && !this.#closed;
  }

  #opened(peer: PeerInfo, socket: WebSocket): void {
    const handlers = this.#handlers;
    if (this.#closed || handlers === undefined) {
      socket.close(CloseCode.goingAway, 'proxy shutting down');
      return;
    }
    const connection: Connection = { peer, socket, alive: true };
    socket.on('error', (error) => {
      this.#logger.debug({ identity: peer.identity, error: error.message }, 'socket error');
    });
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('message', (data, isBinary) => this.#received(connection, data, isBinary));
    socket.on('close', (code, reason) => {
      this.#gone(connection, `closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`);
    });
    const previous = this.#connections.get(peer.identity);
    if (previous !== undefined) {
      // Legitimate after a network change, but also what a leaked token looks like: say so.
      this.#logger.warn(
        { identity: peer.identity },
        'a new connection with the same identity replaces the current one (closed 4000)',
      );
      this.#gone(previous, 'replaced by a newer connection');
      previous.socket.close(
        CloseCode.replaced,
        'replaced by a newer connection with the same identity',
      );
    }
    this.#connections.set(peer.identity, connection);
    this.#logger.info({ identity: peer.identity }, 'provider connected');
    handlers.onPeerJoined(peer);
  }

  #received(connection: Connection, data: RawData, isBinary: boolean): void {
    if (this.#connections.get(connection.peer.identity) !== connection) return;
    connection.alive = true;
    if (isBinary) {
      connection.socket.close(CloseCode.unsupportedData, 'binary frames are not accepted');
      return;
    }
    const bytes = byteLength(data);
    if (bytes > this.#maxFrame) {
      // ws enforces maxPayload while reading; this holds should that ever change.
      connection.socket.close(CloseCode.tooLarge, `frame over ${this.#maxFrame} bytes`);
      return;
    }
    this.#handlers?.onFrame(connection.peer, textOf(data));
  }

  /** The connection is no longer the provider's (closed, dead or replaced): it left. */
  #gone(connection: Connection, why: string): void {
    const { identity } = connection.peer;
    if (this.#connections.get(identity) !== connection) return;
    this.#connections.delete(identity);
    this.#logger.info({ identity, why }, 'provider disconnected');
    this.#handlers?.onPeerLeft(connection.peer);
  }

  #schedulePing(): void {
    this.#nextPingAt = this.#timers.now() + this.#pingMs;
    this.#pingTimer = this.#timers.setTimeout(() => {
      if (this.#closed) return;
      this.#pingAll();
      this.#schedulePing();
    }, this.#pingMs);
  }

  /** Drops whoever did not answer the previous ping, and pings the rest. */
  #pingAll(): void {
    for (const connection of [...this.#connections.values()]) {
      if (!connection.alive) {
        this.#gone(connection, `no answer to a ping within ${this.#pingMs} ms`);
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      if (connection.socket.readyState === WebSocket.OPEN) connection.socket.ping();
    }
  }

  #closeSocket(socket: WebSocket): Promise<void> {
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(() => {
        socket.terminate();
        resolve();
      }, CLOSE_GRACE_MS);
      socket.once('close', () => {
        this.#timers.clearTimeout(timer);
        resolve();
      });
      socket.close(CloseCode.goingAway, 'proxy shutting down');
    });
  }
}

/** The request's URL, or undefined when it does not parse (not the bridge's, then). */
function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://bridge.invalid');
  } catch {
    return undefined;
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
