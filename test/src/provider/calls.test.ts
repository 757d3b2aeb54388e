/** How ToolProvider runs a call: arguments, results, errors, the sender, and progress. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { defineTool, type ToolContext } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';
import {
  controlledTool,
  echo,
  nth,
  PROVIDER,
  recordEvents,
  setup,
  useFakeTimersAndCleanup,
} from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: calls', () => {
  it('runs the handler with validated, parsed arguments and sends the result', async () => {
    const handler = vi.fn(
      (args: { text: string; times: number; unit: number }, ctx: ToolContext) => ({
        said: args.text.repeat(args.times),
        unit: args.unit,
        callId: ctx.callId,
        caller: ctx.caller,
      }),
    );
    const say = defineTool({
      name: 'say',
      description: 'Says something',
      input: z.object({
        text: z.string().trim(),
        times: z.number().int().default(2),
        unit: z.enum(['mm', 'cm']).transform((unit) => (unit === 'cm' ? 10 : 1)),
      }),
      handler,
    });
    const { peer } = await setup([say]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'say', { text: '  hi  ', unit: 'cm' });
    await flush();

    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]?.[0]).toEqual({ text: 'hi', times: 2, unit: 10 });
    expect(peer.frames()).toEqual([
      {
        type: 'client:tool-result',
        call_id: 'c1',
        result: { said: 'hihi', unit: 10, callId: 'c1', caller: 'proxy' },
      },
    ]);
  });

  it('sends result: null when the handler returns undefined', async () => {
    const nothing = defineTool({
      name: 'nothing',
      description: 'returns nothing',
      input: z.object({}),
      handler: async () => undefined,
    });
    const { peer } = await setup([nothing]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'nothing');
    await flush();

    expect(peer.frames()).toEqual([{ type: 'client:tool-result', call_id: 'c1', result: null }]);
    expect(nth(peer.received, 0).text).toContain('"result":null');
  });

  it('sends the message of a handler that throws or rejects as error', async () => {
    const fails = defineTool({
      name: 'fails',
      description: 'throws',
      input: z.object({ how: z.enum(['throw', 'reject', 'string']) }),
      handler: ({ how }) => {
        if (how === 'throw') throw new Error('gripper jammed');
        if (how === 'string') throw 'plain text failure';
        return Promise.reject(new Error('arm out of reach'));
      },
    });
    const { peer } = await setup([fails]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'fails', { how: 'throw' });
    await peer.call(PROVIDER, 'c2', 'fails', { how: 'reject' });
    await peer.call(PROVIDER, 'c3', 'fails', { how: 'string' });
    await flush();

    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', error: 'gripper jammed' },
    ]);
    expect(peer.framesFor('c2')).toEqual([
      { type: 'client:tool-result', call_id: 'c2', error: 'arm out of reach' },
    ]);
    expect(peer.framesFor('c3')).toEqual([
      { type: 'client:tool-result', call_id: 'c3', error: 'plain text failure' },
    ]);
  });

  it('sends an error, not nothing, for a result that cannot be serialised', async () => {
    const weird = defineTool({
      name: 'weird',
      description: 'returns what JSON cannot hold',
      input: z.object({ kind: z.enum(['bigint', 'circular']) }),
      handler: ({ kind }) => {
        if (kind === 'bigint') return { count: 10n };
        const circular: Record<string, unknown> = { name: 'loop' };
        circular.self = circular;
        return circular;
      },
    });
    const { peer } = await setup([weird]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'weird', { kind: 'bigint' });
    await peer.call(PROVIDER, 'c2', 'weird', { kind: 'circular' });
    await flush();

    for (const callId of ['c1', 'c2']) {
      const frames = peer.framesFor(callId);
      expect(frames).toEqual([
        { type: 'client:tool-result', call_id: callId, error: expect.any(String) },
      ]);
      expect(nth(frames, 0).error).not.toBe('');
    }
  });

  it('answers invalid arguments with an error without running the handler', async () => {
    const handler = vi.fn(() => 'ran');
    const strict = defineTool({
      name: 'strict',
      description: 'strict',
      input: z.object({ count: z.number().int().positive() }),
      handler,
    });
    const { peer } = await setup([strict]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'strict', { count: 'three' });
    await peer.call(PROVIDER, 'c2', 'strict', {});
    await peer.call(PROVIDER, 'c3', 'strict', { count: -1 });
    await flush();

    expect(handler).not.toHaveBeenCalled();
    for (const callId of ['c1', 'c2', 'c3']) {
      expect(peer.framesFor(callId)).toEqual([
        {
          type: 'client:tool-result',
          call_id: callId,
          error: expect.stringMatching(/^invalid arguments: .*count/),
        },
      ]);
    }
  });

  it('answers with an error, not nothing, when parsing the arguments throws', async () => {
    const handler = vi.fn(() => 'ran');
    const picky = defineTool({
      name: 'picky',
      description: 'its input transform throws on "bad"',
      input: z.object({
        code: z.string().transform((code) => {
          if (code === 'bad') throw new Error('transform threw');
          return code;
        }),
      }),
      handler,
    });
    const checked = defineTool({
      name: 'checked',
      description: 'its input has an async refinement',
      input: z.object({ id: z.string().refine(async (id) => id.length > 0) }),
      handler: () => 'checked',
    });
    const { peer, provider } = await setup([picky, checked]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'picky', { code: 'bad' });
    await peer.call(PROVIDER, 'c2', 'checked', { id: 'x' });
    await flush();
    await flush();

    expect(handler).not.toHaveBeenCalled();
    expect(peer.framesFor('c1')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', error: expect.any(String) },
    ]);
    // Either the refinement is awaited and the handler runs, or the call is answered with an
    // error; a call that is never answered is what must not happen.
    expect(peer.framesFor('c2')).toEqual([
      expect.objectContaining({ type: 'client:tool-result', call_id: 'c2' }),
    ]);
    expect(provider.runningCalls).toBe(0);
  });

  it('answers a call to an unknown tool with an error', async () => {
    const { peer, provider } = await setup([echo]);
    const events = recordEvents(provider);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'no_such_tool', {});
    await flush();

    expect(peer.frames()).toEqual([
      {
        type: 'client:tool-result',
        call_id: 'c1',
        error: expect.stringContaining('no_such_tool'),
      },
    ]);
    expect(events).toEqual([]);
  });

  it('runs calls from two proxies independently, answering each to its sender', async () => {
    const { room, peer } = await setup([echo]);
    const other = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await flush();
    peer.clear();
    other.clear();

    await peer.call(PROVIDER, 'same-id', 'echo', { text: 'one' });
    await other.call(PROVIDER, 'same-id', 'echo', { text: 'two' });
    await flush();

    expect(peer.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'same-id', result: { text: 'one' } },
    ]);
    expect(other.frames()).toEqual([
      { type: 'client:tool-result', call_id: 'same-id', result: { text: 'two' } },
    ]);
  });
});

describe('ToolProvider: progress', () => {
  it('sends client:tool-progress frames and stops once the call is aborted', async () => {
    const { tool, runs } = controlledTool();
    const { peer } = await setup([tool]);
    peer.clear();

    await peer.call(PROVIDER, 'c1', 'slow');
    await flush();
    const run = nth(runs, 0);
    run.ctx.progress(1, 4, 'a quarter');
    run.ctx.progress(2);
    await flush();

    expect(peer.frames()).toEqual([
      { type: 'client:tool-progress', call_id: 'c1', progress: 1, total: 4, message: 'a quarter' },
      { type: 'client:tool-progress', call_id: 'c1', progress: 2 },
    ]);

    await peer.cancel(PROVIDER, 'c1', 'caller-aborted');
    await flush();
    peer.clear();
    run.ctx.progress(3, 4);
    await flush();
    expect(peer.frames()).toEqual([]);
  });
});
