/**
 * A proxy on an in-memory room with a scripted provider that speaks raw frames, so tests can
 * decide exactly when (and whether) each frame arrives.
 */
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import type { ChannelHandlers } from '../../src/channel.js';
import { ToolProxy, type ToolProxyOptions } from '../../src/index.js';

export type WireFrame = Record<string, unknown> & { type: string };

/** Lets queued microtask deliveries run (each hop through the room is one microtask or more). */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export class ScriptedProvider {
  readonly received: WireFrame[] = [];
  readonly channel: InMemoryChannel;

  private constructor(channel: InMemoryChannel) {
    this.channel = channel;
  }

  static async join(room: InMemoryRoom, identity: string): Promise<ScriptedProvider> {
    const peer = new ScriptedProvider(room.join(identity));
    const handlers: ChannelHandlers = {
      onFrame: (_from, text) => peer.received.push(JSON.parse(text) as WireFrame),
      onPeerJoined: () => {},
      onPeerLeft: () => {},
      onConnected: () => {},
      onClosed: () => {},
    };
    await peer.channel.start(handlers);
    return peer;
  }

  send(frame: WireFrame, to = 'agent'): Promise<void> {
    return this.channel.send(to, JSON.stringify(frame));
  }

  register(
    name: string,
    inputSchema: Record<string, unknown> = { type: 'object' },
    metadata?: object,
  ) {
    return this.send({
      type: 'client:tool-register',
      name,
      description: `${name} tool`,
      input_schema: inputSchema,
      ...(metadata ? { metadata } : {}),
    });
  }

  frames(type: string): WireFrame[] {
    return this.received.filter((frame) => frame.type === type);
  }

  /** The call_id of the n-th `agent:tool-call` this provider received. */
  callId(n = 0): string {
    const frame = this.frames('agent:tool-call')[n];
    if (frame === undefined) throw new Error(`no agent:tool-call #${n} received`);
    return String(frame.call_id);
  }

  result(callId: string, result: unknown): Promise<void> {
    return this.send({ type: 'client:tool-result', call_id: callId, result });
  }
}

export interface Setup {
  room: InMemoryRoom;
  proxy: ToolProxy;
  robot: ScriptedProvider;
  /** Every frame the room delivered, in order. */
  wire: Array<{ from: string; to: string; frame: WireFrame }>;
}

/** A started proxy (`agent`) and a provider (`robot`) that registered `move_arm` and `ping`. */
export async function setup(options: ToolProxyOptions = {}): Promise<Setup> {
  const room = new InMemoryRoom();
  const wire: Setup['wire'] = [];
  room.tap((from, to, text) => wire.push({ from, to, frame: JSON.parse(text) as WireFrame }));
  const proxy = new ToolProxy(options);
  await proxy.start(room.join('agent', { isAgent: true }));
  const robot = await ScriptedProvider.join(room, 'robot');
  await robot.register('move_arm', {
    type: 'object',
    properties: { x: { type: 'number' }, y: { type: 'number' } },
    required: ['x', 'y'],
    additionalProperties: false,
  });
  await robot.register('ping');
  await flush();
  return { room, proxy, robot, wire };
}

/** Marks a promise as observed so a rejection the test checks later is not reported as unhandled. */
export function observe<T>(promise: Promise<T>): {
  promise: Promise<T>;
  state: () => 'pending' | 'resolved' | 'rejected';
} {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  return { promise, state: () => state };
}
