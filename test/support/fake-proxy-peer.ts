/**
 * A raw participant for tests that speak the wire protocol by hand: it joins an in-memory room,
 * records every frame delivered to it (parsed JSON, with the sender), and sends raw JSON text.
 * Joined as an agent by default, which is what a ToolProvider registers with.
 */
import { vi } from 'vitest';
import type { InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import type { PeerInfo } from '../../src/channel.js';

export interface ReceivedFrame {
  readonly from: string;
  readonly text: string;
  readonly frame: Record<string, unknown>;
}

export interface FakePeerOptions {
  /** Join as an agent (what providers treat as a proxy by default). Default true. */
  isAgent?: boolean;
}

export class FakeProxyPeer {
  readonly channel: InMemoryChannel;
  readonly received: ReceivedFrame[] = [];
  readonly joined: PeerInfo[] = [];
  readonly left: PeerInfo[] = [];
  connected = 0;
  closed = 0;

  private constructor(channel: InMemoryChannel) {
    this.channel = channel;
  }

  /** Joins `room` as `identity` and starts listening. */
  static async join(
    room: InMemoryRoom,
    identity = 'proxy',
    options: FakePeerOptions = {},
  ): Promise<FakeProxyPeer> {
    const peer = new FakeProxyPeer(room.join(identity, { isAgent: options.isAgent ?? true }));
    await peer.channel.start({
      onFrame: (from, text) => {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error(`not a JSON object frame: ${text}`);
        peer.received.push({ from: from.identity, text, frame: { ...parsed } });
      },
      onPeerJoined: (info) => peer.joined.push(info),
      onPeerLeft: (info) => peer.left.push(info),
      onConnected: () => {
        peer.connected++;
      },
      onClosed: () => {
        peer.closed++;
      },
    });
    return peer;
  }

  get identity(): string {
    return this.channel.identity;
  }

  /** Every frame received, in order. */
  frames(): Record<string, unknown>[] {
    return this.received.map((r) => r.frame);
  }

  /** Frames received with the given `type`. */
  framesOfType(type: string): Record<string, unknown>[] {
    return this.frames().filter((frame) => frame.type === type);
  }

  /** `client:tool-result` and `client:tool-progress` frames about `callId`. */
  framesFor(callId: string): Record<string, unknown>[] {
    return this.frames().filter((frame) => frame.call_id === callId);
  }

  /** Forgets what was received so far. */
  clear(): void {
    this.received.length = 0;
  }

  sendRaw(to: string, text: string): Promise<void> {
    return this.channel.send(to, text);
  }

  send(to: string, frame: Record<string, unknown>): Promise<void> {
    return this.sendRaw(to, JSON.stringify(frame));
  }

  hello(to: string): Promise<void> {
    return this.send(to, {
      type: 'agent:hello',
      protocol_version: 1,
      default_timeout_ms: 30_000,
      max_tool_timeout_ms: 120_000,
    });
  }

  call(to: string, callId: string, name: string, args: Record<string, unknown> = {}) {
    return this.send(to, {
      type: 'agent:tool-call',
      call_id: callId,
      name,
      arguments: args,
      timeout_ms: 30_000,
    });
  }

  cancel(to: string, callId: string, reason?: string, detail?: string): Promise<void> {
    return this.send(to, {
      type: 'agent:tool-call-cancelled',
      call_id: callId,
      ...(reason === undefined ? {} : { reason }),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  timeout(to: string, callId: string): Promise<void> {
    return this.send(to, { type: 'agent:tool-call-timeout', call_id: callId });
  }
}

/** Lets the in-memory room deliver what is queued (it delivers a microtask later). */
export async function flush(): Promise<void> {
  if (vi.isFakeTimers()) {
    await vi.advanceTimersByTimeAsync(0);
  } else {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = unknown>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger whose methods are spies. */
export function spyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}
