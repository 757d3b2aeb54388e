/**
 * A provider's channel to the proxy over the WebSocket bridge. Browser-safe: it uses the WebSocket
 * it is given (the browser's by default; Node programs pass the `ws` package's) and no Node
 * built-ins. Its one peer is the proxy, present while the socket is open; a lost connection is
 * retried with capped backoff, and each reconnect reports `onConnected` again so the provider
 * registers its tools again.
 */
import {
  type ChannelHandlers,
  describeUnknown,
  type Logger,
  type PeerInfo,
  silentLogger,
  systemTimers,
  type Timers,
  type ToolChannel,
} from '../../src/seam.js';
import {
  BEARER_PREFIX,
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_PROXY_IDENTITY,
  oversizeBytes,
  oversizeMessage,
  SUBPROTOCOL,
} from './wire.js';
import {
  globalWebSocket,
  OPEN,
  type WebSocketConstructor,
  type WebSocketLike,
} from './web-socket-like.js';
import { subjectOf } from './token-subject.js';

export type { WebSocketConstructor, WebSocketLike } from './web-socket-like.js';

export interface WebSocketProviderOptions {
  /** The bridge's address, `ws(s)://host:port/bridge`. */
  url: string;
  /** An access token, or a function fetching a fresh one (called before every connection). */
  token: string | (() => Promise<string>);
  /** Default `globalThis.WebSocket`; in Node, pass `WebSocket` from the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** The proxy's identity (the bridge's `identity`). Default `toolproxy`. */
  proxyIdentity?: string;
  /** Offer the token as a `bearer.<token>` subprotocol instead of the `token` query parameter. */
  useSubprotocol?: boolean;
  /** Backoff between attempts to reconnect. Default 500 ms doubling to 10,000 ms. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Largest frame sent, in bytes of UTF-8 (the bridge's `maxFrameBytes`). Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * With a socket that shows pings (the `ws` package's): a connection with no ping and no frame
   * from the bridge for this long is presumed dead (a pulled cable closes nothing) and replaced;
   * the calls it was running are aborted. Default 15,000 ms, three of serve's 5 s pings; `false`
   * turns it off. A browser's socket hides pings, so there the bridge's own check is the only one.
   */
  heartbeatTimeoutMs?: number | false;
  logger?: Logger;
  timers?: Timers;
}

/** How long `close()` waits for the bridge to answer the close handshake. */
const CLOSE_GRACE_MS = 1_000;
const DEFAULT_HEARTBEAT_MS = 15_000;

export function webSocketProviderChannel(options: WebSocketProviderOptions): ToolChannel {
  return new WebSocketProviderChannel(options);
}

class WebSocketProviderChannel implements ToolChannel {
  readonly #options: WebSocketProviderOptions;
  readonly #WebSocket: WebSocketConstructor;
  readonly #proxy: PeerInfo;
  readonly #maxFrame: number;
  readonly #logger: Logger;
  readonly #timers: Timers;
  #identity = '';
  #state: 'new' | 'connecting' | 'open' | 'waiting' | 'closed' = 'new';
  #handlers: ChannelHandlers | undefined;
  #socket: WebSocketLike | undefined;
  #attempt = 0;
  #retry: unknown;
  #heartbeat: unknown;

  constructor(options: WebSocketProviderOptions) {
    const protocol = new URL(options.url).protocol;
    if (protocol !== 'ws:' && protocol !== 'wss:')
      throw new Error(`WebSocket bridge URL must be ws:// or wss://, not ${protocol}//`);
    const WebSocketClass = options.WebSocket ?? globalWebSocket();
    if (WebSocketClass === undefined)
      throw new Error('no WebSocket here: pass `WebSocket` from the ws package');
    this.#options = options;
    this.#WebSocket = WebSocketClass;
    this.#proxy = { identity: options.proxyIdentity ?? DEFAULT_PROXY_IDENTITY, isAgent: true };
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    const heartbeat = options.heartbeatTimeoutMs;
    if (
      heartbeat !== undefined &&
      heartbeat !== false &&
      !(Number.isFinite(heartbeat) && heartbeat > 0)
    )
      throw new RangeError('heartbeatTimeoutMs must be a positive number of ms, or false');
    if (typeof options.token === 'string') this.#identity = subjectOf(options.token) ?? '';
  }

  /** The token's subject (read, not verified: the bridge does that); empty until a token is known. */
  get identity(): string {
    return this.#identity;
  }

  /** Starts connecting (and keeps trying); the proxy appears as a peer once the socket is open. */
  start(handlers: ChannelHandlers): Promise<void> {
    if (this.#state !== 'new')
      return Promise.reject(new Error('WebSocket provider channel: already started or closed'));
    this.#handlers = handlers;
    this.#state = 'connecting';
    void this.#connect();
    return Promise.resolve();
  }

  peers(): readonly PeerInfo[] {
    return this.#state === 'open' ? [this.#proxy] : [];
  }

  send(to: string, text: string): Promise<void> {
    const socket = this.#socket;
    if (to !== this.#proxy.identity)
      return Promise.reject(new Error(`no peer "${to}": the only peer is the proxy`));
    if (this.#state !== 'open' || socket?.readyState !== OPEN)
      return Promise.reject(new Error('not connected to the proxy'));
    const bytes = oversizeBytes(text, this.#maxFrame);
    if (bytes !== undefined)
      return Promise.reject(new Error(oversizeMessage(bytes, this.#maxFrame)));
    try {
      socket.send(text);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Closes for good: no more reconnecting. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    this.#timers.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#stopHeartbeat();
    const socket = this.#socket;
    this.#socket = undefined;
    if (wasOpen) this.#handlers?.onPeerLeft(this.#proxy);
    if (socket !== undefined) await this.#closeSocket(socket);
    this.#handlers?.onClosed();
  }

  async #connect(): Promise<void> {
    let token: string;
    try {
      const { token: source } = this.#options;
      token = typeof source === 'string' ? source : await source();
    } catch (error) {
      this.#logger.warn({ error: describeUnknown(error) }, 'could not get an access token');
      this.#retryLater();
      return;
    }
    if (this.#state !== 'connecting') return; // closed meanwhile
    this.#identity = subjectOf(token) ?? this.#identity;
    const url = new URL(this.#options.url);
    let socket: WebSocketLike;
    try {
      if (this.#options.useSubprotocol === true) {
        socket = new this.#WebSocket(url.href, [SUBPROTOCOL, `${BEARER_PREFIX}${token}`]);
      } else {
        url.searchParams.set('token', token);
        socket = new this.#WebSocket(url.href);
      }
    } catch (error) {
      this.#logger.warn({ error: describeUnknown(error) }, 'could not open a WebSocket');
      this.#retryLater();
      return;
    }
    this.#socket = socket;
    this.#listen(socket);
  }

  #listen(socket: WebSocketLike): void {
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#state = 'open';
      this.#attempt = 0;
      this.#logger.info({ proxy: this.#proxy.identity }, 'connected to the proxy');
      this.#heard(socket);
      this.#handlers?.onPeerJoined(this.#proxy);
      this.#handlers?.onConnected();
    };
    const live = (): boolean => this.#socket === socket && this.#state === 'open';
    socket.onmessage = (event) => {
      if (!live()) return;
      // The frame first (a cancel must reach its handler at once), then the heartbeat, unless
      // handling the frame closed the channel.
      if (typeof event.data === 'string') this.#handlers?.onFrame(this.#proxy, event.data);
      else this.#logger.debug({}, 'binary frame from the proxy ignored');
      if (live()) this.#heard(socket);
    };
    socket.onerror = () => {}; // the close event follows
    socket.on?.('ping', () => {
      if (this.#socket === socket && this.#state === 'open') this.#heard(socket);
    });
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#stopHeartbeat();
      if (this.#state === 'open') this.#handlers?.onPeerLeft(this.#proxy);
      const why = { code: event.code, reason: event.reason };
      if (event.code === CloseCode.replaced) {
        this.#logger.warn(why, 'another connection with this identity took over; not reconnecting');
        this.#state = 'closed';
        this.#handlers?.onClosed(
          new Error(`the proxy closed the connection: ${event.reason || 'replaced'}`),
        );
        return;
      }
      this.#logger.warn(why, 'connection to the proxy lost; reconnecting');
      this.#retryLater();
    };
  }

  /** Something came from the bridge: the connection is alive for another heartbeat period. */
  #heard(socket: WebSocketLike): void {
    const ms = this.#options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_MS;
    if (ms === false || socket.on === undefined) return;
    this.#stopHeartbeat();
    this.#heartbeat = this.#timers.setTimeout(() => {
      this.#heartbeat = undefined;
      if (this.#socket !== socket) return;
      this.#logger.warn({ silentMs: ms }, 'nothing from the proxy, not even a ping: reconnecting');
      if (socket.terminate !== undefined) socket.terminate();
      else socket.close(CloseCode.normal, 'no ping');
    }, ms);
  }

  #stopHeartbeat(): void {
    this.#timers.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #retryLater(): void {
    if (this.#state === 'closed') return;
    this.#state = 'waiting';
    const initial = this.#options.reconnect?.initialDelayMs ?? 500;
    const max = this.#options.reconnect?.maxDelayMs ?? 10_000;
    const delay = Math.min(initial * 2 ** this.#attempt, max);
    this.#attempt++;
    this.#retry = this.#timers.setTimeout(() => {
      this.#retry = undefined;
      if (this.#state !== 'waiting') return;
      this.#state = 'connecting';
      void this.#connect();
    }, delay);
  }

  #closeSocket(socket: WebSocketLike): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(resolve, CLOSE_GRACE_MS);
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = () => {
        this.#timers.clearTimeout(timer);
        resolve();
      };
      socket.close(CloseCode.normal, 'provider closing');
    });
  }
}
