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
  describeUnknown,
  FrameTooLargeError,
  type Logger,
  type PeerInfo,
  silentLogger,
  systemTimers,
  type Timers,
  type ToolChannel,
} from '../../src/seam.js';
import { type AdmissionRules, requestUrl, screenUpgrade } from './admission.js';
import { refuse, selectProtocol } from './auth.js';
import type { WebSocketBridgeOptions } from './bridge-options.js';
import { providerPolicy } from '../livekit/policy.js';
import type { ProviderPolicy } from '../livekit/room-port.js';
import { byteLength, closeGracefully, textOf } from './socket-io.js';
import {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PATH,
  DEFAULT_PROXY_IDENTITY,
  DEFAULT_ROOM,
  oversizeBytes,
} from './wire.js';

export type { WebSocketBridgeOptions } from './bridge-options.js';

/**
 * Where the bridge is in its life. Only `listening` admits connections, reads frames and pings;
 * `closing` lasts while `close()` waits out the providers' close handshakes.
 */
type BridgeState = 'new' | 'listening' | 'closing' | 'closed';

/** The moves `#moveTo` allows; any other is a bug in this class. */
const TRANSITIONS: Readonly<Record<BridgeState, readonly BridgeState[]>> = {
  new: ['listening', 'closing'],
  listening: ['closing'],
  closing: ['closed'],
  closed: [],
};

interface Connection {
  readonly peer: PeerInfo;
  readonly socket: WebSocket;
  alive: boolean;
}

export class WebSocketBridge implements ToolChannel {
  readonly identity: string;
  readonly #path: string;
  readonly #mayProvide: ProviderPolicy;
  readonly #maxFrame: number;
  readonly #pingMs: number;
  readonly #logger: Logger;
  readonly #timers: Timers;
  readonly #admission: AdmissionRules;
  readonly #server: WebSocketServer;
  readonly #connections = new Map<string, Connection>();
  #handlers: ChannelHandlers | undefined;
  #pingTimer: unknown;
  /** When the next ping round runs (the timers' clock). */
  #nextPingAt = 0;
  #state: BridgeState = 'new';

  constructor(options: WebSocketBridgeOptions) {
    if (options.apiKey === '' || options.apiSecret === '')
      throw new Error('WebSocketBridge: apiKey and apiSecret are required');
    this.identity = options.identity ?? DEFAULT_PROXY_IDENTITY;
    this.#path = options.path ?? DEFAULT_PATH;
    this.#mayProvide = providerPolicy(options.providers, this.identity);
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#pingMs = options.pingIntervalMs ?? 5_000;
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    this.#admission = {
      verifier: new TokenVerifier(options.apiKey, options.apiSecret),
      room: options.room ?? DEFAULT_ROOM,
      origins: options.allowedOrigins,
      proxyIdentity: this.identity,
      logger: this.#logger,
    };
    this.#server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.#maxFrame,
      handleProtocols: selectProtocol,
    });
  }

  start(handlers: ChannelHandlers): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(new Error('WebSocketBridge: already started or closed'));
    this.#handlers = handlers;
    this.#moveTo('listening');
    this.#schedulePing();
    queueMicrotask(() => {
      if (this.#state === 'listening') handlers.onConnected();
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
    if (connection === undefined || this.#state !== 'listening') return undefined;
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
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#moveTo('closing');
    this.#timers.clearTimeout(this.#pingTimer);
    const sockets = [...this.#connections.values()].map((connection) => connection.socket);
    this.#connections.clear();
    this.#handlers?.onClosed();
    await Promise.all(sockets.map((socket) => closeGracefully(socket, this.#timers)));
    this.#server.close();
    this.#moveTo('closed');
  }

  async #admit(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    handOver: () => void,
  ): Promise<void> {
    if (!this.#accepting()) {
      refuse(socket, 503, 'the proxy is not accepting connections');
      return;
    }
    const admitted = await screenUpgrade(request, socket, url, this.#admission);
    if (admitted === undefined) return;
    if (!this.#accepting() || socket.destroyed) {
      refuse(socket, 503, 'the proxy is shutting down');
      return;
    }
    handOver();
    const peer = { ...admitted, mayProvide: this.#mayProvide(admitted) };
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#opened(peer, ws));
  }

  /** Started and not closed (checked again after every await). */
  #accepting(): boolean {
    return this.#state === 'listening';
  }

  /** The one place the state changes. */
  #moveTo(next: BridgeState): void {
    if (!TRANSITIONS[this.#state].includes(next))
      throw new Error(`WebSocketBridge: cannot go from ${this.#state} to ${next}`);
    this.#state = next;
  }

  #opened(peer: PeerInfo, socket: WebSocket): void {
    const handlers = this.#handlers;
    if (this.#state !== 'listening' || handlers === undefined) {
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
      if (this.#state !== 'listening') return;
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
}
