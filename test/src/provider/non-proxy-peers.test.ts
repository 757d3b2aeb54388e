/** What ToolProvider does with frames from peers that are not its proxy, and malformed ones. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';
import { controlledTool, echo, nth, PROVIDER, setup, useFakeTimersAndCleanup } from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: peers that are not proxies', () => {
  it("ignores a stranger's agent:tool-call", async () => {
    const handler = vi.fn(() => 'ran');
    const tool = defineTool({ name: 'guarded', description: 'g', input: z.object({}), handler });
    const { room, peer } = await setup([tool]);
    const stranger = await WirePeer.join(room, 'stranger');
    await flush();
    peer.clear();

    await stranger.call(PROVIDER, 'c1', 'guarded');
    await stranger.call(PROVIDER, 'c2', 'no_such_tool');
    await flush();

    expect(handler).not.toHaveBeenCalled();
    expect(stranger.received).toEqual([]);
    expect(peer.received).toEqual([]);
  });

  it("ignores a stranger's cancel of a proxy's call", async () => {
    const { tool, runs } = controlledTool();
    const { room, peer } = await setup([tool]);
    const stranger = await WirePeer.join(room, 'stranger');

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await stranger.cancel(PROVIDER, 'c1', 'caller-aborted');
    await stranger.timeout(PROVIDER, 'c1');
    await flush();

    expect(nth(runs, 0).ctx.signal.aborted).toBe(false);
  });

  it('ignores malformed frames from a proxy', async () => {
    const { peer, provider } = await setup([echo]);
    peer.clear();

    await peer.sendText('not json', PROVIDER);
    await peer.sendText('[1,2]', PROVIDER);
    await peer.send({ type: 'agent:unknown-frame' }, PROVIDER);
    await peer.send({ type: 'agent:tool-call', call_id: 'c1', name: 'echo' }, PROVIDER);
    await flush();

    expect(peer.frames()).toEqual([]);
    expect(provider.runningCalls).toBe(0);
  });
});
