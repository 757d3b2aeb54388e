/**
 * A proxy on an in-memory room with a provider played by a `WirePeer`, so tests can decide
 * exactly when (and whether) each frame arrives.
 */
import type { InMemoryRoom } from '../../bridge/memory.js';
import type { ToolProxy, ToolProxyOptions } from '../../src/index.js';
import { type JsonObject, startProxy, WirePeer } from './wire-peer.js';

/**
 * Lets `rounds` queued microtasks run (each hop through the room is one microtask or more), without
 * touching timers: for tests that care how many hops something takes. `flush` drains everything.
 */
export async function microtasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export interface Setup {
  room: InMemoryRoom;
  proxy: ToolProxy;
  robot: WirePeer;
  /** Every frame the room delivered, in order. */
  wire: Array<{ from: string; to: string; frame: JsonObject }>;
}

/** A started proxy (`agent`) and a provider (`robot`) that registered `move_arm` and `ping`. */
export async function setup(options: ToolProxyOptions = {}): Promise<Setup> {
  const { room, proxy } = await startProxy(options);
  const wire: Setup['wire'] = [];
  room.tap((from, to, text) => wire.push({ from, to, frame: JSON.parse(text) as JsonObject }));
  const robot = await WirePeer.join(room, 'robot');
  await robot.register('move_arm', {
    type: 'object',
    properties: { x: { type: 'number' }, y: { type: 'number' } },
    required: ['x', 'y'],
    additionalProperties: false,
  });
  await robot.register('ping');
  await microtasks();
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
