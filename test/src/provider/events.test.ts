/** The events ToolProvider emits, and the rate-limit notice it reports. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, type ProviderEvents, ToolProxyError } from '../../../src/index.js';
import { flush, spyLogger } from '../../support/util.js';
import {
  abortableTool,
  add,
  echo,
  nth,
  PROVIDER,
  recordEvents,
  setup,
  useFakeTimersAndCleanup,
} from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: events', () => {
  it('emits registered with the exposed name the proxy chose', async () => {
    const { peer, provider } = await setup([echo, add]);
    const events = recordEvents(provider);

    await peer.send(
      {
        type: 'agent:tool-registered',
        name: 'echo',
        success: true,
        exposed_name: 'echo_1a2b3c4d',
      },
      PROVIDER,
    );
    await peer.send({ type: 'agent:tool-registered', name: 'add', success: true }, PROVIDER);
    await flush();

    expect(events).toEqual([
      {
        event: 'registered',
        payload: { proxy: 'proxy', name: 'echo', exposedName: 'echo_1a2b3c4d' },
      },
      { event: 'registered', payload: { proxy: 'proxy', name: 'add', exposedName: 'add' } },
    ]);
  });

  it('emits registration-failed with the reason and detail, and logs it', async () => {
    const logger = spyLogger();
    const { peer, provider } = await setup([echo], { logger });
    const events = recordEvents(provider);

    await peer.send(
      {
        type: 'agent:tool-registered',
        name: 'echo',
        success: false,
        reason: 'policy-refused',
        detail: 'robot is not allowed to register echo',
      },
      PROVIDER,
    );
    await peer.send({ type: 'agent:tool-registered', name: 'add', success: false }, PROVIDER);
    await flush();

    expect(events).toEqual([
      {
        event: 'registration-failed',
        payload: {
          proxy: 'proxy',
          name: 'echo',
          reason: 'policy-refused',
          detail: 'robot is not allowed to register echo',
        },
      },
      {
        event: 'registration-failed',
        payload: { proxy: 'proxy', name: 'add', reason: undefined, detail: undefined },
      },
    ]);
    expect(logger.warn).toHaveBeenCalled();
  });

  it('emits call:started and call:finished for calls that end', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'fails',
      input: z.object({}),
      handler: () => {
        throw new Error('no');
      },
    });
    const { peer, provider } = await setup([echo, fails]);
    const events = recordEvents(provider);

    await peer.call(PROVIDER, 'c1', 'echo', { text: 'x' });
    await flush();
    await peer.call(PROVIDER, 'c2', 'fails');
    await flush();

    expect(events).toEqual([
      { event: 'call:started', payload: { proxy: 'proxy', callId: 'c1', name: 'echo' } },
      { event: 'call:finished', payload: { proxy: 'proxy', callId: 'c1', name: 'echo', ok: true } },
      { event: 'call:started', payload: { proxy: 'proxy', callId: 'c2', name: 'fails' } },
      {
        event: 'call:finished',
        payload: { proxy: 'proxy', callId: 'c2', name: 'fails', ok: false },
      },
    ]);
  });

  it('emits call:aborted with the reason, then call:finished', async () => {
    const { tool } = abortableTool();
    const { peer, provider } = await setup([tool]);
    const events = recordEvents(provider);

    await peer.call(PROVIDER, 'c1', 'abortable');
    await flush();
    await peer.cancel(PROVIDER, 'c1', 'caller-aborted', 'user pressed stop');
    await flush();

    expect(events.map((e) => e.event)).toEqual(['call:started', 'call:aborted', 'call:finished']);
    const aborted = nth(events, 1).payload;
    expect(aborted).toMatchObject({ proxy: 'proxy', callId: 'c1', name: 'abortable' });
    expect(aborted).toHaveProperty('reason', expect.any(ToolProxyError));
    expect(aborted).toHaveProperty(
      'reason',
      expect.objectContaining({
        code: 'CANCELLED',
        reason: 'caller-aborted',
        detail: 'user pressed stop',
      }),
    );
    expect(nth(events, 2).payload).toMatchObject({ callId: 'c1', ok: false });
  });

  it('keeps going when an event handler throws', async () => {
    const { peer, provider } = await setup([echo]);
    provider.events.on('call:started', () => {
      throw new Error('observer bug');
    });

    await peer.call(PROVIDER, 'c1', 'echo', { text: 'x' });
    await flush();

    expect(peer.frames('client:tool-result')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', result: { text: 'x' } },
    ]);
  });
});

describe('ToolProvider: rate limits', () => {
  it('agent:rate-limited is reported as an event and a warning; nothing is sent back', async () => {
    const logger = spyLogger();
    const { peer, provider } = await setup([echo], { logger });
    peer.clear();
    const seen: ProviderEvents['rate-limited'][] = [];
    provider.events.on('rate-limited', (event) => seen.push(event));

    await peer.send(
      {
        type: 'agent:rate-limited',
        limit: 'frames',
        per_second: 200,
        burst: 400,
        dropped: 3,
        retry_after_ms: 5,
        detail: 'over 200 frames per second',
      },
      PROVIDER,
    );
    await flush();

    expect(seen).toEqual([
      { proxy: 'proxy', limit: 'frames', retryAfterMs: 5, detail: 'over 200 frames per second' },
    ]);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 'frames' }),
      'rate limited',
    );
    expect(peer.received).toEqual([]);
  });
});
