/**
 * A participant that speaks the wire protocol by hand: it joins an in-memory room, records every
 * frame delivered to it (with the sender, the raw text and the parsed frame) and sends raw text,
 * so tests can check exactly what crosses the wire, malformed frames included. It plays either
 * side: a provider (register, answer calls) or a proxy (hello, call, cancel, time out).
 */
import type { z } from 'zod';
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import type { PeerInfo } from '../../src/shared/channel.js';
import { ToolProxy, type ToolProxyOptions } from '../../src/index.js';
import { ToolCallFrame } from '../../src/protocol/frames.js';

export type JsonObject = Record<string, unknown>;

export interface ReceivedFrame {
  readonly from: string;
  readonly text: string;
  /** The parsed frame, or undefined when the text was not a JSON object. */
  readonly frame: JsonObject | undefined;
}

export type CallFrame = z.output<typeof ToolCallFrame>;

export interface WirePeerOptions {
  /** Join as an agent (what providers register with by default). Default false. */
  isAgent?: boolean;
  /** Identity `send` and `sendText` address when not told otherwise. Default `agent`. */
  to?: string;
}

export class WirePeer {
  readonly channel: InMemoryChannel;
  /** Identity frames go to by default. */
  readonly to: string;
  readonly received: ReceivedFrame[] = [];
  readonly joined: PeerInfo[] = [];
  readonly left: PeerInfo[] = [];
  connected = 0;
  closed = 0;

  private constructor(channel: InMemoryChannel, to: string) {
    this.channel = channel;
    this.to = to;
  }

  /** Joins `room` as `identity` and starts listening. */
  static async join(
    room: InMemoryRoom,
    identity: string,
    options: WirePeerOptions = {},
  ): Promise<WirePeer> {
    const channel = room.join(identity, { isAgent: options.isAgent ?? false });
    const peer = new WirePeer(channel, options.to ?? 'agent');
    await channel.start({
      onFrame: (from, text) =>
        peer.received.push({ from: from.identity, text, frame: parseObject(text) }),
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

  /**
   * Received frames in order, optionally only those of one `type`. Fails the test if any text
   * received was not a JSON object (`received` keeps those, for tests that expect them).
   */
  frames(type?: string): JsonObject[] {
    const all = this.received.map(({ text, frame }) => {
      if (frame === undefined) throw new Error(`${this.identity} received a non-object: ${text}`);
      return frame;
    });
    return type === undefined ? all : all.filter((frame) => frame.type === type);
  }

  /** Received frames about `callId`. */
  framesFor(callId: string): JsonObject[] {
    return this.frames().filter((frame) => frame.call_id === callId);
  }

  /** Forgets what was received so far. */
  clear(): void {
    this.received.length = 0;
  }

  async sendText(text: string, to = this.to): Promise<void> {
    await this.channel.send(to, text);
  }

  send(frame: JsonObject, to = this.to): Promise<void> {
    return this.sendText(JSON.stringify(frame), to);
  }

  // Provider side.

  /** Registers `name` with a `client:tool-register` frame. */
  register(
    name: string,
    inputSchema: JsonObject = { type: 'object' },
    metadata?: object,
  ): Promise<void> {
    return this.send(
      registerFrame(name, {
        description: `${name} tool`,
        input_schema: inputSchema,
        ...(metadata ? { metadata } : {}),
      }),
    );
  }

  /** The call_id of the n-th `agent:tool-call` received. */
  callId(n = 0): string {
    const frame = this.frames('agent:tool-call')[n];
    if (frame === undefined) throw new Error(`no agent:tool-call #${n} received`);
    return String(frame.call_id);
  }

  result(callId: string, result: unknown): Promise<void> {
    return this.send({ type: 'client:tool-result', call_id: callId, result });
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

  // Proxy side.

  hello(to: string): Promise<void> {
    return this.send(
      {
        type: 'agent:hello',
        protocol_version: 1,
        default_timeout_ms: 30_000,
        max_tool_timeout_ms: 120_000,
      },
      to,
    );
  }

  call(to: string, callId: string, name: string, args: JsonObject = {}): Promise<void> {
    return this.send(
      { type: 'agent:tool-call', call_id: callId, name, arguments: args, timeout_ms: 30_000 },
      to,
    );
  }

  cancel(to: string, callId: string, reason?: string, detail?: string): Promise<void> {
    return this.send(
      {
        type: 'agent:tool-call-cancelled',
        call_id: callId,
        ...(reason === undefined ? {} : { reason }),
        ...(detail === undefined ? {} : { detail }),
      },
      to,
    );
  }

  timeout(to: string, callId: string): Promise<void> {
    return this.send({ type: 'agent:tool-call-timeout', call_id: callId }, to);
  }
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
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
