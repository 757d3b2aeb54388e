/**
 * A proxy on an in-memory room with two providers played by `WirePeer`s, `robot` and `flood`, for
 * the per-provider limit tests; and small helpers those tests share.
 */
import type { InMemoryRoom } from '../../bridge/memory.js';
import type { ToolProxy, ToolProxyOptions } from '../../src/index.js';
import { flush, type spyLogger } from './util.js';
import { registerFrame, startProxy, WirePeer } from './wire-peer.js';

export interface LimitsWorld {
  room: InMemoryRoom;
  proxy: ToolProxy;
  robot: WirePeer;
  flood: WirePeer;
}

export async function limitsWorld(options: ToolProxyOptions): Promise<LimitsWorld> {
  const { room, proxy } = await startProxy(options);
  const robot = await WirePeer.join(room, 'robot');
  const flood = await WirePeer.join(room, 'flood');
  await flush();
  return { room, proxy, robot, flood };
}

/** Registers `name` for `peer` and forgets the answer. */
export async function registered(peer: WirePeer, name: string): Promise<void> {
  await peer.send(registerFrame(name));
  await flush();
  peer.clear();
}

/** Starts a call to `tool` and returns it with the call id its provider received. */
export async function startCall(proxy: ToolProxy, peer: WirePeer, tool: string) {
  const call = proxy.call(tool, {});
  await flush();
  return { call, callId: peer.lastCall().call_id };
}

/** One item of a `client:tool-register-batch`. */
export function batchItem(name: string) {
  return { name, description: `${name} does something`, input_schema: { type: 'object' } };
}

export function progressText(callId: string, progress: number): string {
  return `{"type":"client:tool-progress","call_id":"${callId}","progress":${progress}}`;
}

/** How many warnings `logger` logged with `message`. */
export function warnings(logger: ReturnType<typeof spyLogger>, message: string): number {
  return logger.warn.mock.calls.filter((call) => call[1] === message).length;
}
