/** How ToolProvider registers its tools: with which peers, when, and what it sends. */
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { defineTool, ToolProvider, ToolProxyError } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { WirePeer } from '../../support/wire-peer.js';
import { add, echo, PROVIDER, setup, track, useFakeTimersAndCleanup } from './fixtures.js';

useFakeTimersAndCleanup();

describe('ToolProvider: registration', () => {
  it('registers every tool with a proxy already present when it connects', async () => {
    const { peer } = await setup([echo, add]);
    const registrations = peer.frames('client:tool-register');
    expect(registrations.map((frame) => frame.name)).toEqual(['echo', 'add']);
    expect(peer.received.every((r) => r.from === PROVIDER)).toBe(true);
  });

  it('registers with a proxy that joins later, and again when it rejoins', async () => {
    const room = new InMemoryRoom();
    const provider = track(new ToolProvider({ tools: [echo, add] }));
    await provider.connect(room.join(PROVIDER));
    await flush();

    const peer = await WirePeer.join(room, 'proxy', { isAgent: true });
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo', 'add']);

    await peer.channel.close();
    await flush();
    const again = await WirePeer.join(room, 'proxy', { isAgent: true });
    await flush();
    expect(again.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      'echo',
      'add',
    ]);
  });

  it('registers its registered tools again on every agent:hello', async () => {
    const { peer } = await setup([echo, add]);
    /** The proxy's answers: every registration received so far succeeds. */
    const answerAll = async () => {
      for (const frame of peer.frames('client:tool-register'))
        await peer.send(
          { type: 'agent:tool-registered', name: frame.name, success: true },
          PROVIDER,
        );
      peer.clear();
      await flush();
    };
    await answerAll();

    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register')).toHaveLength(2);
    await answerAll();

    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo', 'add']);
  });

  it('registers again on a hello, answered or not (a proxy that was not listening lost them)', async () => {
    const { peer } = await setup([echo, add]);
    expect(peer.frames('client:tool-register')).toHaveLength(2);
    await peer.send({ type: 'agent:tool-registered', name: 'echo', success: true }, PROVIDER);
    await peer.hello(PROVIDER);
    await flush();
    expect(peer.frames('client:tool-register').map((frame) => frame.name)).toEqual([
      'echo',
      'add',
      'echo',
      'add',
    ]);
  });

  it('does not register with peers that are not proxies (default: agents only)', async () => {
    const room = new InMemoryRoom();
    const early = await WirePeer.join(room, 'viewer');
    const provider = track(new ToolProvider({ tools: [echo] }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    const late = await WirePeer.join(room, 'late-viewer');
    await flush();

    // A non-proxy's hello does not make it one.
    await early.hello(PROVIDER);
    await flush();

    expect(early.received).toEqual([]);
    expect(late.received).toEqual([]);
  });

  it('honours a custom isProxy', async () => {
    const room = new InMemoryRoom();
    const agent = await WirePeer.join(room, 'agent', { isAgent: true });
    const chosen = await WirePeer.join(room, 'tools-proxy-1');
    const isProxy = vi.fn((peer: { identity: string }) => peer.identity.startsWith('tools-proxy'));
    const provider = track(new ToolProvider({ tools: [echo], isProxy }));
    await provider.connect(room.join(PROVIDER));
    await flush();
    const joinedLater = await WirePeer.join(room, 'tools-proxy-2');
    await flush();

    expect(agent.received).toEqual([]);
    expect(chosen.frames('client:tool-register').map((frame) => frame.name)).toEqual(['echo']);
    expect(joinedLater.frames('client:tool-register')).toHaveLength(1);
    expect(isProxy).toHaveBeenCalledWith(expect.objectContaining({ identity: 'agent' }));

    // Calls follow the same rule: the agent is a stranger here, the chosen proxy is served.
    await agent.call(PROVIDER, 'c1', 'echo', { text: 'from agent' });
    await chosen.call(PROVIDER, 'c2', 'echo', { text: 'from proxy' });
    await flush();
    expect(agent.received).toEqual([]);
    expect(chosen.frames('client:tool-result')).toEqual([
      { type: 'client:tool-result', call_id: 'c2', result: { text: 'from proxy' } },
    ]);
  });

  it('sends input_schema from z.toJSONSchema, the timeout and the annotations', async () => {
    const input = z.object({
      joint: z.enum(['shoulder', 'elbow']),
      degrees: z.number().min(-90).max(90),
      speed: z.number().default(1),
    });
    const move = defineTool({
      name: 'move_arm',
      description: 'Moves one joint',
      input,
      timeoutMs: 45_000,
      annotations: { title: 'Move arm', destructiveHint: true, idempotentHint: false },
      handler: () => 'moved',
    });
    const { peer } = await setup([move, echo]);

    const [registration, plain] = peer.frames('client:tool-register');
    expect(registration).toEqual({
      type: 'client:tool-register',
      name: 'move_arm',
      description: 'Moves one joint',
      input_schema: z.toJSONSchema(input, { io: 'input' }),
      metadata: {
        max_execution_time_ms: 45_000,
        annotations: { title: 'Move arm', destructiveHint: true, idempotentHint: false },
      },
    });
    expect(registration?.input_schema).toMatchObject({
      type: 'object',
      properties: { joint: { enum: ['shoulder', 'elbow'] }, degrees: { type: 'number' } },
      required: expect.arrayContaining(['joint', 'degrees']),
    });
    // Without a timeout or annotations there is no metadata at all.
    expect(plain).toEqual({
      type: 'client:tool-register',
      name: 'echo',
      description: 'Echoes its text',
      input_schema: z.toJSONSchema(echo.input, { io: 'input' }),
    });
  });

  it.each([
    ['starts with a digit', '1tool'],
    ['has a space', 'move arm'],
    ['has a dot', 'arm.move'],
    ['is empty', ''],
    ['is longer than 64 characters', `t${'x'.repeat(64)}`],
  ])('refuses at construction a tool whose name %s', (_what, name) => {
    const bad = defineTool({ name, description: 'bad', input: z.object({}), handler: () => 1 });
    expect(() => new ToolProvider({ tools: [echo, bad] })).toThrow(ToolProxyError);
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL', tool: name }),
    );
  });

  it.each([
    ['a string', z.string()],
    ['a number', z.number()],
    ['an array', z.array(z.object({ a: z.number() }))],
    ['a union of objects and strings', z.union([z.object({ a: z.number() }), z.string()])],
  ])('refuses at construction a tool whose input is %s', (_what, input) => {
    const bad = defineTool({ name: 'bad', description: 'bad', input, handler: () => 1 });
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ name: 'ToolProxyError', code: 'INVALID_TOOL', tool: 'bad' }),
    );
  });

  it('refuses at construction an input that JSON Schema cannot express', () => {
    const bad = defineTool({
      name: 'when',
      description: 'bad',
      input: z.object({ at: z.date() }),
      handler: () => 1,
    });
    expect(() => new ToolProvider({ tools: [bad] })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOOL', tool: 'when' }),
    );
  });
});
