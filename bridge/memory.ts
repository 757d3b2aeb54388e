/**
 * The in-memory bridge: a room in one process. Each `join` is one participant's channel; frames
 * are delivered asynchronously (a microtask later, in order), tagged with the sender's identity as
 * the room knows it. Exported as `toolproxy/testing` for users' own tests.
 */
import {
  type ChannelHandlers,
  FrameTooLargeError,
  type PeerInfo,
  type ToolChannel,
} from '../src/seam.js';

export interface JoinOptions {
  /** Mark this participant as an agent (providers register with agents by default). */
  isAgent?: boolean;
  /**
   * Say, as a LiveKit channel does, that a crashed peer is noticed late, so a proxy on this channel
   * probes its providers itself (`agent:ping`). Pair it with `crash()`.
   */
  livenessProbes?: boolean;
}

/** Sees every frame the room delivers: for tests that assert on the wire. */
export type FrameTap = (from: string, to: string, text: string) => void;

export interface InMemoryRoomOptions {
  /** Largest frame delivered, in bytes of UTF-8 (like a real transport's limit). Default 1 MiB. */
  maxFrameBytes?: number;
}

export class InMemoryRoom {
  readonly #members = new Map<string, InMemoryChannel>();
  readonly #maxFrameBytes: number;
  readonly #encoder = new TextEncoder();
  #taps: FrameTap[] = [];

  constructor(options: InMemoryRoomOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? 1_048_576;
  }

  /** A proxy (`agent`, marked as an agent) and a provider (`provider`), not yet started. */
  static createLinkedPair(): [
    proxyEnd: InMemoryChannel,
    providerEnd: InMemoryChannel,
    room: InMemoryRoom,
  ] {
    const room = new InMemoryRoom();
    return [room.join('agent', { isAgent: true }), room.join('provider'), room];
  }

  join(identity: string, options: JoinOptions = {}): InMemoryChannel {
    if (this.#members.has(identity))
      throw new Error(`identity "${identity}" is already in the room`);
    const channel = new InMemoryChannel(
      this,
      { identity, isAgent: options.isAgent === true },
      options.livenessProbes === true,
    );
    this.#members.set(identity, channel);
    return channel;
  }

  tap(tap: FrameTap): () => void {
    this.#taps.push(tap);
    return () => {
      this.#taps = this.#taps.filter((t) => t !== tap);
    };
  }

  /** Participants that have started and not left. */
  present(except?: string): InMemoryChannel[] {
    return [...this.#members.values()].filter((m) => m.started && m.identity !== except);
  }

  /** @internal */
  deliver(from: InMemoryChannel, to: string, text: string): void {
    const target = this.#members.get(to);
    if (target === undefined || !target.started)
      throw new Error(`no participant "${to}" in the room`);
    if (from.crashed || target.crashed) return; // lost on the way, as to a dead process
    // Cheap bound first: a UTF-8 byte is at least one UTF-16 unit and at most three.
    if (text.length * 3 > this.#maxFrameBytes) {
      const bytes = this.#encoder.encode(text).length;
      if (bytes > this.#maxFrameBytes) {
        throw new FrameTooLargeError(bytes, this.#maxFrameBytes);
      }
    }
    for (const tap of this.#taps) tap(from.identity, to, text);
    target.enqueue((handlers) => handlers.onFrame(from.info, text));
  }

  /** @internal */
  left(channel: InMemoryChannel): void {
    this.#members.delete(channel.identity);
    for (const other of this.present(channel.identity))
      other.enqueue((h) => h.onPeerLeft(channel.info));
  }

  /** @internal */
  joined(channel: InMemoryChannel): void {
    for (const other of this.present(channel.identity))
      other.enqueue((h) => h.onPeerJoined(channel.info));
  }
}

export class InMemoryChannel implements ToolChannel {
  readonly info: PeerInfo;
  readonly livenessProbes: boolean;
  readonly #room: InMemoryRoom;
  #handlers: ChannelHandlers | undefined;
  #state: 'new' | 'open' | 'closed' = 'new';
  #crashed = false;

  constructor(room: InMemoryRoom, info: PeerInfo, livenessProbes = false) {
    this.#room = room;
    this.info = info;
    this.livenessProbes = livenessProbes;
  }

  /** True after `crash()`. */
  get crashed(): boolean {
    return this.#crashed;
  }

  get identity(): string {
    return this.info.identity;
  }

  get started(): boolean {
    return this.#state === 'open';
  }

  start(handlers: ChannelHandlers): Promise<void> {
    if (this.#state !== 'new') {
      return Promise.reject(new Error('InMemoryChannel.start: already started or closed'));
    }
    this.#handlers = handlers;
    this.#state = 'open';
    this.#room.joined(this);
    this.enqueue((h) => h.onConnected());
    return Promise.resolve();
  }

  peers(): readonly PeerInfo[] {
    if (this.#state !== 'open') return [];
    return this.#room.present(this.identity).map((m) => m.info);
  }

  /**
   * Hands the frame over at once: undefined when it was (no promise to make or await per frame;
   * a stop sends thousands), a rejected promise when it could not be.
   */
  send(to: string, text: string): Promise<void> | undefined {
    if (this.#state !== 'open') return Promise.reject(new Error('channel is not open'));
    try {
      this.#room.deliver(this, to, text);
      return undefined;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  close(): Promise<void> {
    this.#leave(undefined);
    return Promise.resolve();
  }

  /**
   * Simulates a connection that was interrupted and came back (LiveKit's Reconnecting/Reconnected):
   * this participant sees `onConnected({ resumed: true })`; peers see nothing.
   */
  resume(): void {
    this.enqueue((h) => h.onConnected({ resumed: true }));
  }

  /**
   * Simulates a process killed mid-call: from now on nothing it sends arrives and nothing reaches it,
   * and nobody is told (a LiveKit room tells the others only when ICE gives up, about 20 s later).
   * `close()` or `drop()` afterwards is that late leave.
   */
  crash(): void {
    this.#crashed = true;
  }

  /** Ends `crash()`: it was only cut off (a stalled process, a partition) and is back. */
  revive(): void {
    this.#crashed = false;
  }

  /** Simulates losing the connection: peers see this participant leave, it sees `onClosed(error)`. */
  drop(error: Error = new Error('connection lost')): void {
    this.#leave(error);
  }

  /** @internal Runs `event` a microtask later (in order), unless the channel closed meanwhile. */
  enqueue(event: (handlers: ChannelHandlers) => void): void {
    this.#queue.push(event);
    if (this.#queue.length === 1) queueMicrotask(this.#drain);
  }

  /**
   * Events waiting for the next microtask, delivered in order in one job: a burst (a stop's
   * thousands of notices) costs one microtask, not one each (Node wraps each in an AsyncResource).
   */
  #queue: Array<(handlers: ChannelHandlers) => void> = [];
  readonly #drain = (): void => {
    const queue = this.#queue;
    this.#queue = [];
    for (const event of queue) {
      if (this.#state === 'open' && !this.#crashed && this.#handlers !== undefined)
        event(this.#handlers);
    }
  };

  #leave(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    const handlers = this.#handlers;
    this.#state = 'closed';
    if (wasOpen) this.#room.left(this);
    handlers?.onClosed(error);
  }
}
