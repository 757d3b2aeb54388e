/**
 * A participant that speaks the wire protocol by hand: it records every frame it receives and
 * sends raw text, so tests can check exactly what crosses the wire, malformed frames included.
 */
import { vi } from 'vitest';
import type { z } from 'zod';
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import { ToolCallFrame, ToolProxy, type ToolProxyOptions } from '../../src/index.js';

export type JsonObject = Record<string, unknown>;

export interface ReceivedFrame {
  readonly from: string;
  readonly text: string;
  /** The parsed frame, or undefined when the text was not a JSON object. */
  readonly frame: JsonObject | undefined;
}

export type CallFrame = z.output<typeof ToolCallFrame>;

export class RawPeer {
  readonly received: ReceivedFrame[] = [];
  readonly channel: InMemoryChannel;
  /** Identity frames are sent to. */
  readonly to: string;

  private constructor(channel: InMemoryChannel, to: string) {
    this.channel = channel;
    this.to = to;
  }

  /** Joins `room` as `identity` and starts listening; frames go to `to`. */
  static async join(room: InMemoryRoom, identity: string, to = 'agent'): Promise<RawPeer> {
    const peer = new RawPeer(room.join(identity), to);
    await peer.channel.start({
      onFrame: (from, text) =>
        peer.received.push({ from: from.identity, text, frame: parse(text) }),
      onPeerJoined: () => {},
      onPeerLeft: () => {},
      onConnected: () => {},
      onClosed: () => {},
    });
    return peer;
  }

  get identity(): string {
    return this.channel.identity;
  }

  sendText(text: string): Promise<void> {
    return Promise.resolve(this.channel.send(this.to, text));
  }

  send(frame: JsonObject): Promise<void> {
    return this.sendText(JSON.stringify(frame));
  }

  /** Received frames, optionally only those of one `type`. */
  frames(type?: string): JsonObject[] {
    const all = this.received.flatMap((r) => (r.frame === undefined ? [] : [r.frame]));
    return type === undefined ? all : all.filter((frame) => frame.type === type);
  }

  /** The `agent:tool-call` frames received, parsed (throws if one does not follow the protocol). */
  calls(): CallFrame[] {
    return this.frames('agent:tool-call').map((frame) => ToolCallFrame.parse(frame));
  }

  /** The most recent `agent:tool-call`; fails the test if there is none. */
  lastCall(): CallFrame {
    const call = this.calls().at(-1);
    if (call === undefined) throw new Error(`${this.identity} received no agent:tool-call`);
    return call;
  }

  clear(): void {
    this.received.length = 0;
  }
}

function parse(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Lets the in-memory room deliver everything queued (and whatever that triggers). */
export async function flush(): Promise<void> {
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0);
  else await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** A proxy started on a fresh room as `agentIdentity`. */
export async function startProxy(
  options: ToolProxyOptions = {},
  agentIdentity = 'agent',
): Promise<{ room: InMemoryRoom; proxy: ToolProxy }> {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy(options);
  await proxy.start(room.join(agentIdentity, { isAgent: true }));
  return { room, proxy };
}

/** The body of a valid `client:tool-register` frame for `name`. */
export function registerFrame(name: string, extra: JsonObject = {}): JsonObject {
  return {
    type: 'client:tool-register',
    name,
    description: `${name} does something`,
    input_schema: { type: 'object', properties: { x: { type: 'number' } } },
    ...extra,
  };
}
