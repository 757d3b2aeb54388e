/** How a cancel or timeout from the proxy aborts a running handler; a call id runs only once. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineTool, ToolProxyError } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';
import {
  abortableTool,
  controlledTool,
  nth,
  PROVIDER,
  recordEvents,
  setup,
  useFakeTimersAndCleanup,
} from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: cancellation', () => {
  it('aborts the signal on agent:tool-call-cancelled and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);

    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped', 'Stop requested');
    await flush();

    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: 'Stop requested',
      callId: 'c1',
    });
    expect(provider.runningCalls).toBe(0);

    run.done.resolve('finished anyway');
    await flush();
    expect(peer.frames()).toEqual([]);
  });

  it('a signal first read after the cancel is already aborted, with the reason', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped', 'Stop requested');
    await flush();

    const { signal } = nth(runs, 0).ctx; // the first read of this call's signal
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    expect(nth(runs, 0).ctx.signal).toBe(signal); // one signal per call, however often it is read
  });

  it('sends nothing when the handler rejects with the abort reason', async () => {
    const { tool, signals } = abortableTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'abortable');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'session-reset');
    await flush();

    expect(nth(signals, 0).reason).toMatchObject({ code: 'CANCELLED', reason: 'session-reset' });
    expect(peer.frames()).toEqual([]);
  });

  it('keeps a reason outside the known set out of the error reason', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'user-changed-mind');
    await flush();

    const reason: unknown = nth(runs, 0).ctx.signal.reason;
    expect(reason).toBeInstanceOf(ToolProxyError);
    expect(reason).toMatchObject({ code: 'CANCELLED', reason: undefined, callId: 'c1' });
    expect(reason).toHaveProperty('message', expect.stringContaining('user-changed-mind'));
  });

  it('aborts the signal with TIMEOUT on agent:tool-call-timeout and sends nothing afterwards', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.timeout(PROVIDER, 'c1');
    await flush();

    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(true);
    expect(run.ctx.signal.reason).toBeInstanceOf(ToolProxyError);
    expect(run.ctx.signal.reason).toMatchObject({ code: 'TIMEOUT', callId: 'c1' });
    expect(provider.runningCalls).toBe(0);

    run.done.reject(new Error('gave up'));
    await flush();
    expect(peer.frames()).toEqual([]);
  });

  it('ignores a cancel or timeout for an unknown call id', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    const events = recordEvents(provider);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'unknown-id', 'caller-aborted');
    await peer.timeout(PROVIDER, 'another-unknown-id');
    await flush();

    const run = nth(runs, 0);
    expect(run.ctx.signal.aborted).toBe(false);
    expect(provider.runningCalls).toBe(1);
    expect(peer.frames()).toEqual([]);

    run.done.resolve('done');
    await flush();
    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: 'done' }]);
    expect(events.map((e) => e.event)).toEqual(['call:started', 'call:finished']);
  });

  it('does not let one proxy cancel the call of another', async () => {
    const { tool, runs } = controlledTool();
    const { room, peer } = await setup([tool]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await other.cancel(PROVIDER, 'c1', 'caller-aborted');
    await flush();

    expect(nth(runs, 0).ctx.signal.aborted).toBe(false);
  });

  it('does not run the handler twice for a duplicated agent:tool-call frame', async () => {
    const { tool, runs } = controlledTool();
    const { peer, provider } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow', { n: 1 });
    await peer.call(PROVIDER, 'c1', 'slow', { n: 1 });
    await flush();
    expect(runs).toHaveLength(1);
    expect(provider.runningCalls).toBe(1);

    nth(runs, 0).done.resolve('once');
    await flush();
    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: 'once' }]);
  });

  it('does not run the handler again for a call frame repeated after the call finished', async () => {
    const handler = vi.fn(() => 'done');
    const once = defineTool({ name: 'once', description: 'once', input: z.object({}), handler });
    const { peer } = await setup([once]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'once');
    await flush();
    await peer.call(PROVIDER, 'c1', 'once');
    await flush();

    expect(handler).toHaveBeenCalledTimes(1);
    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', result: 'done' },
    ]);
  });

  it('does not run the handler again for a call frame repeated after the call was cancelled', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'agent-loop-stopped');
    await flush();
    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();

    expect(runs).toHaveLength(1);
    for (const run of runs) run.done.resolve('late');
    await flush();
    expect(peer.frames()).toEqual([]);
  });
});
