/** Proxies leaving, starting over or dropping; the provider closing or losing its connection. */
import { describe, expect, it } from 'vitest';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { ToolProvider, ToolProxyError } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';
import {
  controlledTool,
  nth,
  PROVIDER,
  setup,
  track,
  useFakeTimersAndCleanup,
} from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: proxies leaving and closing', () => {
  it("aborts the running handlers of a proxy that leaves, and only that proxy's", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    other.clear();

    await peer.call(PROVIDER, 'a1', 'slow');
    await peer.call(PROVIDER, 'a2', 'slow');
    await other.call(PROVIDER, 'b1', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(3);

    await peer.channel.close();
    await flush();

    const [a1, a2, b1] = [nth(runs, 0), nth(runs, 1), nth(runs, 2)];
    expect(a1.ctx.signal.aborted).toBe(true);
    expect(a2.ctx.signal.aborted).toBe(true);
    expect(a1.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(a1.ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(b1.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);

    b1.done.resolve('still served');
    await flush();
    expect(provider.runningCalls).toBe(0);
    expect(other.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'b1', result: 'still served' },
    ]);
  });

  it('aborts the handlers of a proxy whose connection drops', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    peer.channel.drop();
    await flush();

    expect(nth(runs, 0).ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(provider.runningCalls).toBe(0);
  });

  it("agent:hello from a proxy stops that proxy's running calls (it started over), not another's", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    await peer.call(PROVIDER, 'c1', 'slow');
    await other.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);
    peer.clear();
    await peer.hello(PROVIDER);
    await flush();
    expect(runs[0]?.ctx.signal.aborted).toBe(true);
    expect(runs[0]?.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('started over'),
    });
    expect(runs[1]?.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);
    runs[0]?.done.resolve('too late');
    await flush();
    // Nothing for the stopped call: the tools again, as after every hello.
    expect(peer.frames().map((frame) => frame.type)).not.toContain('client:tool-result');
  });

  it('close() aborts every running handler, withdraws its tools and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { room, peer, provider } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    peer.clear();
    other.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await other.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);

    await provider.close();
    // Each proxy is told the tools are gone (its callers need not wait for the transport's leave).
    const withdrawal = { type: 'client:tool-register-batch', tools: [], replace: true };
    expect(peer.frames()).toEqual([withdrawal]);
    expect(other.frames()).toEqual([withdrawal]);
    peer.clear();
    other.clear();

    expect(runs).toHaveLength(2);
    for (const run of runs) {
      expect(run.ctx.signal.aborted).toBe(true);
      expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
      expect(run.ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    }
    expect(provider.runningCalls).toBe(0);

    for (const run of runs) run.done.resolve('too late');
    await flush();
    expect(peer.frames()).toEqual([]);
    expect(other.frames()).toEqual([]);
    expect(peer.left.map((info) => info.identity)).toEqual([PROVIDER]);
  });

  it('aborts every running handler when its own connection is lost', async () => {
    const room = new InMemoryRoom();
    const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
    const { tool, runs } = controlledTool();
    const provider = track(new ToolProvider({ tools: [tool] }));
    const channel = room.join(PROVIDER);
    await provider.connect(channel);
    await flush();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    channel.drop();

    expect(nth(runs, 0).ctx.signal.reason).toMatchObject({ code: 'CANCELLED' });
    expect(provider.runningCalls).toBe(0);
  });

  it('counts running handlers', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    expect(provider.runningCalls).toBe(0);

    await peer.call(PROVIDER, 'c1', 'slow');
    await peer.call(PROVIDER, 'c2', 'slow');
    await flush();
    expect(provider.runningCalls).toBe(2);

    nth(runs, 0).done.resolve(1);
    await flush();
    expect(provider.runningCalls).toBe(1);

    nth(runs, 1).done.reject(new Error('failed'));
    await flush();
    expect(provider.runningCalls).toBe(0);
  });
});
