/**
 * The state limits keep per provider, on fake timers: freed when providers leave or the proxy's
 * connection is lost, and bounded under a 100,000-frame flood, whose measured outcome is asserted.
 */
import { describe, expect, it, vi } from 'vitest';
import type { InMemoryRoom } from '../../../../bridge/memory.js';
import { ToolProxy, type ToolProxyOptions } from '../../../../src/index.js';
import {
  limitsWorld,
  progressText,
  registered,
  startCall,
  warnings,
} from '../../../support/limits-world.js';
import { flush, spyLogger, useFakeClock } from '../../../support/util.js';
import { registerFrame, WirePeer } from '../../../support/wire-peer.js';

const logger = spyLogger();

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: WirePeer;
let flood: WirePeer;

async function setup(options: ToolProxyOptions = {}): Promise<void> {
  ({ room, proxy, robot, flood } = await limitsWorld({ logger, ...options }));
}

useFakeClock(logger, () => proxy);

describe('state kept per provider', () => {
  it('1,000 providers joining and leaving leave no state behind', async () => {
    await setup();
    const peers: WirePeer[] = [];
    for (let i = 0; i < 1_000; i++) {
      const peer = await WirePeer.join(room, `p${i}`);
      await peer.send(registerFrame(`tool_${i}`));
      peers.push(peer);
    }
    await flush();
    expect(proxy.tools()).toHaveLength(1_000);
    expect(proxy.trackedProviders).toBe(1_000);
    for (const peer of peers) await peer.channel.close();
    await flush();
    expect(proxy.tools()).toHaveLength(0);
    // Each spent a little of its budget: kept until it has refilled (registrations: 128 at 20/s).
    expect(proxy.trackedProviders).toBe(1_000);
    await vi.advanceTimersByTimeAsync(6_400);
    expect(proxy.trackedProviders).toBe(0);
  });

  it('a provider that leaves with its budget spent gets no fresh burst by joining again', async () => {
    await setup({ framesPerSecond: 10, frameBurst: 20 });
    const peer = await WirePeer.join(room, 'burster');
    for (let i = 0; i < 40; i++) await peer.send({ type: 'client:tool-unregister', name: 'x' });
    await flush();
    expect(proxy.stats().frames.rateLimited).toBe(20);
    await peer.channel.close();
    await flush();
    const again = await WirePeer.join(room, 'burster');
    for (let i = 0; i < 40; i++) await again.send({ type: 'client:tool-unregister', name: 'x' });
    await flush();
    expect(proxy.stats().frames.rateLimited).toBe(60); // no new 20-frame burst
    await vi.advanceTimersByTimeAsync(2_000); // refilled: a full burst again
    for (let i = 0; i < 40; i++) await again.send({ type: 'client:tool-unregister', name: 'x' });
    await flush();
    expect(proxy.stats().frames.rateLimited).toBe(80);
  });

  it("the proxy's lost connection clears it too", async () => {
    await setup();
    const other = new ToolProxy({ logger });
    const channel = room.join('agent-2', { isAgent: true });
    await other.start(channel);
    await robot.send(registerFrame('grip'), 'agent-2');
    await flush();
    expect(other.trackedProviders).toBe(1);
    channel.drop();
    await flush();
    expect(other.trackedProviders).toBe(0);
    await other.close();
  });
});

describe('a provider flooding 100,000 frames', () => {
  it('is held to its budget with bounded state, loses no result, and other providers are served', async () => {
    await setup(); // the defaults: 200 frames/s, burst 400
    await registered(robot, 'grip');
    await registered(flood, 'spam');
    const mine = await startCall(proxy, flood, 'spam');
    const theirs = await startCall(proxy, robot, 'grip');
    const timersBefore = vi.getTimerCount();
    let sent = 0;
    // 100 chunks of 1,000 frames, 100 ms apart: 10,000 frames/s for 10 s, 50 times the budget.
    for (let chunk = 0; chunk < 100; chunk++) {
      for (let i = 0; i < 1_000; i++) {
        if (chunk === 50 && i === 500)
          await flood.send({ type: 'client:tool-result', call_id: mine.callId, result: 'mine' });
        await flood.sendText(progressText(mine.callId, ++sent));
      }
      if (chunk === 30) await robot.result(theirs.callId, 'theirs');
      await flush();
      expect(vi.getTimerCount()).toBeLessThanOrEqual(timersBefore); // no timer per frame
      expect(proxy.trackedProviders).toBe(2);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(proxy.pendingCalls).toBe(0);
    await expect(mine.call).resolves.toBe('mine');
    await expect(theirs.call).resolves.toBe('theirs');

    // Admitted: the burst of 400 less the register frame's token, then 20 per 100 ms for 99 more
    // chunks; the result went past the budget.
    const admitted = 400 - 1 + 99 * 20;
    const stats = proxy.stats();
    expect(stats.frames.received).toBe(100_000 + 1 + 3); // + the result; + 2 registers, 1 result
    expect(stats.frames.rateLimited).toBe(100_000 - admitted);
    expect(stats.results.accepted).toBe(2);
    // Once per second: 10 notices and 10 log lines for 97,621 dropped frames.
    const notices = flood.frames('agent:rate-limited');
    expect(notices).toHaveLength(10);
    expect(notices[0]).toMatchObject({ dropped: 1 });
    expect(warnings(logger, 'provider over its frame budget: frames dropped')).toBe(10);

    // And the proxy still serves a new call at once.
    const next = await startCall(proxy, robot, 'grip');
    await robot.result(next.callId, 'still here');
    await expect(next.call).resolves.toBe('still here');
  }, 60_000);
});
