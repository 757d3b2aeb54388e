/**
 * The proxy's seat in a LiveKit room, on @livekit/rtc-node. Joins with a token (given, or minted
 * from an API key and secret), serves providers through a LiveKitChannel, retries a connection lost
 * beyond LiveKit's own resume with capped backoff, and on close disconnects and disposes rtc-node
 * so the process can exit.
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
import { LiveKitChannel, type LiveKitChannelOptions } from './channel.js';
import { type ProviderPolicyOption, providerPolicy } from './policy.js';
import type { ProviderPolicy, RoomPort } from './room-port.js';
import type { RtcRoom } from './rtc-room.js';
import { mintAgentToken } from './token.js';

/** How rooms are made; rtc-node's by default, a test double in tests. */
export interface RtcRuntime {
  createRoom(): RtcRoom;
  port(room: RtcRoom, policy: ProviderPolicy): RoomPort;
  dispose(): Promise<void>;
}

export interface LiveKitAgentOptions extends Pick<
  LiveKitChannelOptions,
  'topic' | 'replyTopic' | 'maxFrameBytes'
> {
  url: string;
  room: string;
  /** A token to join with; or give `apiKey` and `apiSecret` and one is minted (and re-minted on reconnect). */
  token?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Default `toolproxy-agent`. */
  identity?: string;
  /** Who may offer tools. Default: participants whose token says `toolproxy.provider=true`. */
  providers?: ProviderPolicyOption;
  /** Give up joining after this long. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Backoff between attempts to rejoin after the connection is lost. Default 500 ms doubling to 15,000 ms. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * After rtc-node reports a resumed connection, how long to wait for a frame from any peer before
   * taking the room for lost and rejoining (a resume can carry no data: see `#resumed`). Default
   * 5,000 ms.
   */
  resumeCheckMs?: number;
  /** Call rtc-node's process-wide dispose() on close (needed for the process to exit). Default true. */
  disposeOnClose?: boolean;
  logger?: Logger;
  timers?: Timers;
  runtime?: RtcRuntime;
}

export class LiveKitAgentChannel implements ToolChannel {
  readonly #options: LiveKitAgentOptions;
  readonly #policy: ProviderPolicy;
  readonly #logger: Logger;
  readonly #timers: Timers;
  readonly #present = new Map<string, PeerInfo>();
  #runtime: RtcRuntime | undefined;
  #handlers: ChannelHandlers | undefined;
  #room: RtcRoom | undefined;
  #inner: LiveKitChannel | undefined;
  #retry: unknown;
  /** After a resume: fires unless a frame comes from a peer first (see `#resumed`). */
  #resumeCheck: unknown;
  #closing = false;
  /** A participant's crash reaches the room only when ICE gives up (about 20 s). */
  readonly livenessProbes = true;

  constructor(options: LiveKitAgentOptions) {
    if (
      options.token === undefined &&
      (options.apiKey === undefined || options.apiSecret === undefined)
    ) {
      throw new Error('LiveKit: give a token, or an API key and secret to mint one');
    }
    this.#options = options;
    this.#policy = providerPolicy(options.providers, this.identity);
    this.#logger = options.logger ?? silentLogger;
    this.#timers = options.timers ?? systemTimers;
    this.#runtime = options.runtime;
  }

  get identity(): string {
    return this.#options.identity ?? 'toolproxy-agent';
  }

  /** Joins the room; rejects with a clear error (and disposes rtc-node) if it cannot. */
  async start(handlers: ChannelHandlers): Promise<void> {
    this.#handlers = handlers;
    try {
      await this.#join();
    } catch (error) {
      await this.#shutdown();
      const { url, room } = this.#options;
      throw new Error(
        `could not join LiveKit room "${room}" at ${url}: ${describeUnknown(error)}`,
        { cause: error },
      );
    }
  }

  peers(): readonly PeerInfo[] {
    return this.#inner?.peers() ?? [];
  }

  send(to: string, text: string): Promise<void> {
    const inner = this.#inner;
    if (inner === undefined)
      return Promise.reject(new Error('not connected to the LiveKit room (rejoining)'));
    return inner.send(to, text);
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.#shutdown();
    this.#handlers?.onClosed();
  }

  async #join(): Promise<void> {
    const runtime = (this.#runtime ??= await loadRtcRuntime());
    const room = runtime.createRoom();
    this.#room = room;
    await this.#withTimeout(
      room.connect(this.#options.url, await this.#token(), {
        autoSubscribe: false,
        dynacast: false,
      }),
    );
    const port = runtime.port(room, this.#policy);
    const inner = new LiveKitChannel(port, { role: 'agent', ...this.#channelOptions() });
    this.#inner = inner;
    this.#present.clear();
    for (const peer of port.peers()) this.#present.set(peer.identity, peer);
    await inner.start(this.#innerHandlers());
    this.#logger.info(
      { room: this.#options.room, identity: this.identity, peers: this.#present.size },
      'joined LiveKit room',
    );
  }

  #innerHandlers(): ChannelHandlers {
    const outer = this.#handlers as ChannelHandlers;
    return {
      onFrame: (from, text) => {
        this.#frameArrived();
        outer.onFrame(from, text);
      },
      onPeerJoined: (peer) => {
        this.#present.set(peer.identity, peer);
        outer.onPeerJoined(peer);
      },
      onPeerLeft: (peer) => {
        this.#present.delete(peer.identity);
        outer.onPeerLeft(peer);
      },
      onConnected: (info) => {
        outer.onConnected(info);
        if (info?.resumed === true) this.#resumed();
      },
      onClosed: (error) => this.#lost(error),
    };
  }

  /**
   * rtc-node sometimes reports Reconnected on a connection that carries no data either way (seen
   * on livekit-server 1.13.5 in about one resume in four, for some 30 s): the hello just sent, and
   * everything after it, is lost. So a resume counts only once a peer is heard from; a room with
   * peers that stays silent that long is taken for lost and joined again, which greets them anew.
   */
  #resumed(): void {
    this.#timers.clearTimeout(this.#resumeCheck);
    if (this.#present.size === 0) return;
    const ms = this.#options.resumeCheckMs ?? 5_000;
    this.#resumeCheck = this.#timers.setTimeout(() => {
      this.#resumeCheck = undefined;
      const room = this.#room;
      this.#logger.warn({ silentMs: ms }, 'resumed LiveKit room carries no frames; rejoining');
      void this.#inner?.close();
      void room?.disconnect().catch(() => {});
      this.#lost(new Error(`no frame from any peer within ${ms} ms of a resume`));
    }, ms);
  }

  #frameArrived(): void {
    if (this.#resumeCheck === undefined) return;
    this.#timers.clearTimeout(this.#resumeCheck);
    this.#resumeCheck = undefined;
  }

  /** The room is gone for good (beyond LiveKit's own resume): providers are gone too; rejoin. */
  #lost(error: Error | undefined): void {
    if (this.#closing) return;
    this.#logger.warn({ error: error?.message }, 'lost the LiveKit room; rejoining');
    const outer = this.#handlers as ChannelHandlers;
    for (const peer of [...this.#present.values()]) outer.onPeerLeft(peer);
    this.#present.clear();
    this.#inner = undefined;
    this.#room = undefined;
    this.#rejoin(0);
  }

  #rejoin(attempt: number): void {
    const initial = this.#options.reconnect?.initialDelayMs ?? 500;
    const max = this.#options.reconnect?.maxDelayMs ?? 15_000;
    const delay = Math.min(initial * 2 ** attempt, max);
    this.#retry = this.#timers.setTimeout(() => {
      this.#retry = undefined;
      if (this.#closing) return;
      this.#join().catch((error: unknown) => {
        this.#logger.warn({ attempt: attempt + 1, error: describeUnknown(error) }, 'rejoin failed');
        void this.#room?.disconnect().catch(() => {});
        this.#room = undefined;
        if (!this.#closing) this.#rejoin(attempt + 1);
      });
    }, delay);
  }

  async #shutdown(): Promise<void> {
    this.#timers.clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#timers.clearTimeout(this.#resumeCheck);
    this.#resumeCheck = undefined;
    await this.#inner?.close();
    this.#inner = undefined;
    const room = this.#room;
    this.#room = undefined;
    await room?.disconnect().catch(() => {});
    if (this.#options.disposeOnClose !== false) await this.#runtime?.dispose();
  }

  async #token(): Promise<string> {
    const { token, apiKey, apiSecret, room } = this.#options;
    if (apiKey !== undefined && apiSecret !== undefined) {
      return mintAgentToken({ apiKey, apiSecret, room, identity: this.identity });
    }
    return token as string;
  }

  #channelOptions(): Omit<LiveKitChannelOptions, 'role'> {
    const { topic, replyTopic, maxFrameBytes } = this.#options;
    return {
      ...(topic === undefined ? {} : { topic }),
      ...(replyTopic === undefined ? {} : { replyTopic }),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
    };
  }

  async #withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.#options.connectTimeoutMs ?? 10_000;
    let timer: unknown;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = this.#timers.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      this.#timers.clearTimeout(timer);
    }
  }
}

/**
 * rtc-node logs through pino at debug level to stdout unless NODE_ENV is `production`, deciding once
 * at load time. Load it with NODE_ENV=production (the previous value restored right after) so the
 * user's stdout stays theirs. If the application loaded rtc-node itself, its choice stands.
 */
async function loadRtcRuntime(): Promise<RtcRuntime> {
  const previous = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const rtc = await import('./rtc-runtime.js');
    return { createRoom: () => new rtc.Room(), port: rtc.rtcRoomPort, dispose: rtc.dispose };
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = previous;
  }
}
