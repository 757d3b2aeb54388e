/**
 * Who a provider may be (issue 15, finding 4): the proxy's own names are reserved on both bridges;
 * a second connection under an identity replaces the first only with a valid token, and says so in
 * the log; and a plain tool name a squatter took while its provider restarted goes back to that
 * provider when the squatter leaves.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { InMemoryRoom } from '../../bridge/memory.js';
import { isReservedIdentity, providerPolicy } from '../../bridge/livekit/policy.js';
import { watchToolList } from '../../proxy/kit/index.js';
import { type ProxyEvents, systemTimers, ToolProxy } from '../../src/index.js';
import { suffixedName } from '../../src/protocol/tool-names.js';
import { flush, spyLogger } from '../support/util.js';
import { WirePeer } from '../support/wire-peer.js';
import {
  closed,
  newBridge,
  openClient,
  providerToken,
  rawUpgrade,
  recorder,
  serve,
  waitFor,
} from '../support/ws-harness.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function started(options: Parameters<typeof newBridge>[0] = {}) {
  const bridge = newBridge(options);
  const { handlers, events } = recorder();
  await bridge.start(handlers);
  const served = await serve(bridge);
  cleanups.push(() => served.close());
  return { bridge, events, served };
}

describe('reserved identities', () => {
  it.each(['toolproxy', 'toolproxy-agent', 'lab-proxy'])(
    'the WebSocket bridge refuses a valid token for "%s" with 403 at the upgrade',
    async (identity) => {
      const { bridge, events, served } = await started({ identity: 'lab-proxy' });
      const answer = await rawUpgrade(served.port, `?token=${await providerToken(identity)}`);
      expect(answer.status).toBe(403);
      expect(answer.body).toContain(`identity "${identity}" is reserved for the proxy`);
      expect(events.filter((event) => event.kind !== 'connected')).toEqual([]);
      expect(bridge.peers()).toEqual([]);
    },
  );

  it('any other identity is upgraded', async () => {
    const { served } = await started({ identity: 'lab-proxy' });
    const answer = await rawUpgrade(served.port, `?token=${await providerToken('toolproxy-2')}`);
    cleanups.push(async () => answer.socket.destroy());
    expect(answer.status).toBe(101);
  });

  it('no provider policy lets a reserved identity offer tools, not even one that allows all', () => {
    const reserved = ['toolproxy', 'toolproxy-agent', 'my-agent'];
    const options = ['any', 'attribute', reserved, () => true] as const;
    for (const option of options) {
      const mayProvide = providerPolicy(option, 'my-agent');
      for (const identity of reserved) {
        const peer = { identity, attributes: { 'toolproxy.provider': 'true' } };
        expect(mayProvide(peer)).toBe(false);
      }
      if (option !== reserved) {
        expect(
          mayProvide({ identity: 'robot', attributes: { 'toolproxy.provider': 'true' } }),
        ).toBe(true);
      }
    }
    expect(isReservedIdentity('robot', undefined)).toBe(false);
    expect(isReservedIdentity('toolproxy', undefined)).toBe(true);
  });
});

describe('replacing a connection', () => {
  it('a newer connection with a valid token for the identity replaces the older (4000), with a warning naming it', async () => {
    const logger = spyLogger();
    const { bridge, events, served } = await started({ logger });
    const first = await openClient(`${served.url}?token=${await providerToken('honest-robot')}`);
    if (!first.ok) throw new Error('first connection refused');
    cleanups.push(async () => first.socket.terminate());
    const firstClosed = closed(first.socket);
    await waitFor(() => bridge.peers().length === 1);
    expect(logger.warn).not.toHaveBeenCalled();
    const second = await openClient(`${served.url}?token=${await providerToken('honest-robot')}`);
    if (!second.ok) throw new Error('second connection refused');
    cleanups.push(async () => second.socket.terminate());
    await expect(firstClosed).resolves.toMatchObject({ code: 4000 });
    expect(logger.warn).toHaveBeenCalledWith(
      { identity: 'honest-robot' },
      expect.stringContaining('replaces the current one'),
    );
    expect(events.filter((event) => event.kind === 'joined')).toHaveLength(2);
    expect(second.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('a token for another identity replaces nobody', async () => {
    const logger = spyLogger();
    const { bridge, served } = await started({ logger });
    const first = await openClient(`${served.url}?token=${await providerToken('honest-robot')}`);
    if (!first.ok) throw new Error('first connection refused');
    cleanups.push(async () => first.socket.terminate());
    const other = await openClient(`${served.url}?token=${await providerToken('page-x')}`);
    if (!other.ok) throw new Error('second connection refused');
    cleanups.push(async () => other.socket.terminate());
    await waitFor(() => bridge.peers().length === 2);
    expect(first.socket.readyState).toBe(WebSocket.OPEN);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});

describe('a freed plain name goes back to its oldest suffixed holder', () => {
  it('a squatter that took the name during a restart gives it back when it leaves: calls reach the honest provider, and observers hear a rename', async () => {
    vi.useFakeTimers();
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    cleanups.push(() => proxy.close());
    await proxy.start(room.join('agent', { isAgent: true }));
    const renamed: Array<ProxyEvents['tool:renamed']> = [];
    proxy.hooks.on('tool:renamed', (event) => renamed.push(event));
    const notify = vi.fn();
    const stop = watchToolList(proxy, { debounceMs: 50, timers: systemTimers, notify });
    cleanups.push(async () => stop());

    let honest = await WirePeer.join(room, 'honest-robot');
    await honest.register('open_door');
    await flush();
    await honest.channel.close(); // restarting
    await flush();
    const squatter = await WirePeer.join(room, 'squatter');
    await squatter.register('open_door');
    await flush();
    honest = await WirePeer.join(room, 'honest-robot');
    await honest.register('open_door');
    await flush();
    const suffixed = suffixedName('open_door', 'honest-robot');
    expect(proxy.tools().map((tool) => [tool.name, tool.provider])).toEqual([
      ['open_door', 'squatter'],
      [suffixed, 'honest-robot'],
    ]);
    await vi.advanceTimersByTimeAsync(100);
    notify.mockClear();

    await squatter.channel.close();
    await flush();
    expect(proxy.tools().map((tool) => [tool.name, tool.provider])).toEqual([
      ['open_door', 'honest-robot'],
    ]);
    expect(renamed).toEqual([
      {
        previousName: suffixed,
        tool: expect.objectContaining({ name: 'open_door', provider: 'honest-robot' }),
      },
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(notify).toHaveBeenCalledTimes(1); // MCP clients get tools/list_changed
    // The honest provider hears its tool is exposed under its own name again (no exposed_name).
    expect(honest.frames('agent:tool-registered').at(-1)).toEqual({
      type: 'agent:tool-registered',
      name: 'open_door',
      success: true,
      sent_at_ms: expect.any(Number),
    });

    const call = proxy.call('open_door', {});
    await flush();
    await honest.result(honest.callId(), 'opened');
    await expect(call).resolves.toBe('opened');
    await expect(proxy.call(suffixed, {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
  });

  it('waitForTool for the plain name, asked while it is being freed, is answered by the rename', async () => {
    const room = new InMemoryRoom();
    const proxy = new ToolProxy();
    cleanups.push(() => proxy.close());
    await proxy.start(room.join('agent', { isAgent: true }));
    const squatter = await WirePeer.join(room, 'squatter');
    await squatter.register('open_door');
    await flush();
    const honest = await WirePeer.join(room, 'honest-robot');
    await honest.register('open_door');
    await flush();
    // Between the removal and the rename the plain name is briefly free: a waiter asking then
    // must still be answered (by the rename, not by a registration).
    let waiting: Promise<{ provider: string }> | undefined;
    proxy.hooks.on('tool:unregistered', () => {
      waiting ??= proxy.waitForTool('open_door');
    });
    await squatter.send({ type: 'client:tool-unregister', name: 'open_door' });
    await flush();
    expect(waiting).toBeDefined();
    await expect(waiting).resolves.toMatchObject({ provider: 'honest-robot' });
  });
});
