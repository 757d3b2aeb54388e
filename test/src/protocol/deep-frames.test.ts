/**
 * JSON nested past the depth cap (64), refused before it is parsed at each place the network
 * sends JSON: provider frames (dropped and counted as too large; a result still fails its call at
 * once), a provider's own answers and the calls it is sent, MCP HTTP bodies (400, -32700) and hook
 * bodies (400). Each time the connection goes on serving honest traffic. And the character budget
 * charging what parsing costs: structural characters weigh `charsPerStructural`, into debt.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { HookIngress, hookEventFromPath } from '../../../proxy/hooks/index.js';
import { McpHttpEndpoint } from '../../../proxy/mcp/index.js';
import { defineTool, ToolProvider, ToolProxy } from '../../../src/index.js';
import { LIMIT_DEFAULTS } from '../../../src/tool-proxy/limits/limit-options.js';
import { DEEP_CALL_ERROR } from '../../../src/provider/answers.js';
import { setup } from '../../support/harness.js';
import { limitsWorld, registered, startCall } from '../../support/limits-world.js';
import { flush, spyLogger, useFakeClock } from '../../support/util.js';
import { registerFrame, WirePeer } from '../../support/wire-peer.js';

const nested = (depth: number, inner = '0') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
/** A frame nested `depth` deep in all (its own braces included). */
const deepUnregister = (depth: number) =>
  `{"type":"client:tool-unregister","name":"x","pad":${nested(depth - 1)}}`;

describe('provider frames past the depth cap', () => {
  const logger = spyLogger();
  let world: Awaited<ReturnType<typeof limitsWorld>> | undefined;
  useFakeClock(logger, () => world?.proxy);
  beforeEach(async () => {
    world = await limitsWorld({ logger });
  });

  it('are dropped unparsed and counted as too large; 64 deep is still taken', async () => {
    const { proxy, robot } = world!;
    await robot.sendText(deepUnregister(65));
    await flush();
    expect(robot.frames()).toEqual([]);
    expect(proxy.stats().frames).toMatchObject({ tooLarge: 1, malformed: 0, rateLimited: 0 });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ sender: 'robot', problem: 'too-deep' }),
      'protocol error: frame dropped',
    );
    await robot.sendText(deepUnregister(64));
    await robot.send(registerFrame('grip'));
    await flush();
    expect(robot.frames().map((frame) => [frame.type, frame.name])).toEqual([
      ['agent:tool-unregistered', 'x'],
      ['agent:tool-registered', 'grip'],
    ]);
    expect(proxy.getTool('grip')?.provider).toBe('robot');
  });

  it('a result nested too deep fails its call at once, with an error that says why', async () => {
    const { proxy, robot } = world!;
    await registered(robot, 'dump');
    const { call, callId } = await startCall(proxy, robot, 'dump');
    await robot.sendText(
      `{"type":"client:tool-result","call_id":"${callId}","result":${nested(400_000)}}`,
    );
    await expect(call).rejects.toMatchObject({
      code: 'INVALID_RESULT',
      callId,
      detail: 'result-too-deep',
      message: expect.stringContaining('nested more than 64 levels deep'),
    });
    expect(proxy.stats().results).toMatchObject({ tooLarge: 1, accepted: 0 });
    expect(proxy.stats().frames.tooLarge).toBe(1);
    // The provider's next answer is taken as usual.
    const next = await startCall(proxy, robot, 'dump');
    await robot.result(next.callId, [[['fine']]]);
    await expect(next.call).resolves.toEqual([[['fine']]]);
  });

  it('a deep result fails its call even when its provider is over budget', async () => {
    await world?.proxy.close();
    world = await limitsWorld({ logger, framesPerSecond: 1, frameBurst: 2 });
    const { proxy, robot } = world;
    await registered(robot, 'dump');
    const { call, callId } = await startCall(proxy, robot, 'dump');
    await robot.sendText(deepUnregister(10)); // the last frame of its budget
    await robot.sendText(
      `{"type":"client:tool-result","call_id":"${callId}","result":${nested(90)}}`,
    );
    await expect(call).rejects.toMatchObject({ code: 'INVALID_RESULT', detail: 'result-too-deep' });
    expect(proxy.stats().frames).toMatchObject({ tooLarge: 1, rateLimited: 0 });
  });
});

describe('the character budget charges structure', () => {
  const logger = spyLogger();
  let world: Awaited<ReturnType<typeof limitsWorld>> | undefined;
  useFakeClock(logger, () => world?.proxy);
  beforeEach(async () => {
    world = await limitsWorld({
      logger,
      maxFrameChars: 20_000,
      charsPerSecond: 10_000,
      charBurst: 20_000,
    });
  });
  const weight = LIMIT_DEFAULTS.charsPerStructural;
  /** A frame of about `chars` characters, half of them commas. */
  const structured = (chars: number) =>
    `{"type":"client:tool-unregister","name":"x","pad":[${Array(chars / 2)
      .fill(0)
      .join(',')}]}`;
  const flat = (chars: number) =>
    `{"type":"client:tool-unregister","name":"x","pad":"${'p'.repeat(chars)}"}`;

  it('a flat frame costs its characters: the next one goes straight through', async () => {
    const { robot, proxy } = world!;
    await robot.sendText(flat(10_000));
    await robot.sendText(flat(100));
    await flush();
    expect(robot.frames('agent:tool-unregistered')).toHaveLength(2);
    expect(proxy.stats().frames.rateLimited).toBe(0);
  });

  it('a frame of the same length full of structure costs more than the burst: it goes, into debt', async () => {
    const { robot, proxy } = world!;
    const text = structured(10_000);
    const cost = text.length + weight * 5_003; // 4,999 commas, 2 brackets, 2 braces... near enough
    expect(cost).toBeGreaterThan(20_000 * 4);
    await robot.sendText(text);
    await robot.sendText(flat(100));
    await flush();
    // The big one was taken; the small one after it was not: the budget is in debt.
    expect(robot.frames('agent:tool-unregistered')).toHaveLength(1);
    expect(proxy.stats().frames.rateLimited).toBe(1);
    const [notice] = robot.frames('agent:rate-limited');
    expect(notice).toMatchObject({ limit: 'chars' });
    // Repaid at 10,000 a second: 20,000 − cost in debt, plus the small frame's own characters.
    const repaidMs = Math.ceil(((cost - 20_000 + flat(100).length) * 1_000) / 10_000);
    expect(notice?.retry_after_ms).toBeGreaterThan(repaidMs - 200);
    expect(notice?.retry_after_ms).toBeLessThan(repaidMs + 200);
    robot.clear();
    await vi.advanceTimersByTimeAsync(repaidMs - 300);
    await robot.sendText(flat(100));
    await flush();
    expect(robot.frames('agent:tool-unregistered')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(600);
    await robot.sendText(flat(100));
    await flush();
    expect(robot.frames('agent:tool-unregistered')).toHaveLength(1);
  });

  it('a too-deep frame costs what was read of it, not its whole structure', async () => {
    const { robot, proxy } = world!;
    // 10,000 structural characters (320,000 at their weight), of which the scan read 65.
    await robot.sendText(deepUnregister(5_000));
    await robot.sendText(flat(100));
    await flush();
    expect(proxy.stats().frames).toMatchObject({ tooLarge: 1, rateLimited: 0 });
    expect(robot.frames('agent:tool-unregistered')).toHaveLength(1);
  });
});

describe("toolproxy's provider runtime", () => {
  let proxy: ToolProxy | undefined;
  let provider: ToolProvider | undefined;
  afterEach(async () => {
    await provider?.close();
    await proxy?.close();
  });

  async function world(result: unknown) {
    const room = new InMemoryRoom();
    proxy = new ToolProxy();
    await proxy.start(room.join('agent', { isAgent: true }));
    provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'answer',
          description: 'd',
          input: z.object({}),
          handler: () => result,
        }),
        defineTool({ name: 'echo', description: 'd', input: z.looseObject({}), handler: (a) => a }),
      ],
    });
    await provider.connect(room.join('robot'));
    await proxy.waitForTool('echo');
    return room;
  }

  it('turns a result nested too deep into an error the agent can read', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = [deep];
    await world(deep);
    await expect(proxy!.call('answer', {})).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      message: expect.stringContaining('more than 63 levels deep'),
    });
    expect(proxy!.stats().frames.tooLarge).toBe(0); // refused by the provider, not dropped here
    await expect(proxy!.call('echo', { ok: [1] })).resolves.toEqual({ ok: [1] });
  });

  it('answers a call nested too deep to parse with an error, and never runs it', async () => {
    const room = await world(null);
    const fakeProxy = await WirePeer.join(room, 'proxy-2', { isAgent: true });
    await fakeProxy.sendText(
      `{"type":"agent:tool-call","call_id":"c1","name":"echo","arguments":{"a":${nested(100)}}}`,
      'robot',
    );
    await fakeProxy.call('robot', 'c2', 'echo', { a: 1 });
    await vi.waitFor(() => expect(fakeProxy.frames('client:tool-result')).toHaveLength(2));
    expect(fakeProxy.frames('client:tool-result')).toEqual([
      { type: 'client:tool-result', call_id: 'c1', error: DEEP_CALL_ERROR },
      { type: 'client:tool-result', call_id: 'c2', result: { a: 1 } },
    ]);
  });
});

describe('HTTP bodies past the depth cap', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
  async function listen(handle: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handle);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const jsonHeaders = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };

  it('an MCP body: 400, JSON-RPC parse error -32700 naming the limit; the session goes on', async () => {
    const { proxy } = await setup();
    const endpoint = new McpHttpEndpoint(proxy, { logger: spyLogger() });
    const base = await listen((request, response) => void endpoint.handle(request, response));
    const url = `${base}/mcp`;
    const opened = await fetch(url, {
      method: 'POST',
      headers: jsonHeaders,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 't', version: '1' },
        },
      }),
    });
    await opened.text();
    const session = {
      ...jsonHeaders,
      'mcp-session-id': opened.headers.get('mcp-session-id') ?? '',
    };
    const deep = await fetch(url, {
      method: 'POST',
      headers: session,
      body: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ping","arguments":{"a":${nested(400_000)}}}}`,
    });
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: expect.stringContaining('more than 64 levels deep') },
    });
    const listed = await fetch(url, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain('"move_arm"');
    await endpoint.close();
    await proxy.close();
  });

  it('a hook body: 400 naming the limit; the next hook is taken', async () => {
    const { proxy } = await setup();
    const ingress = new HookIngress(proxy, { requireSecret: false, logger: spyLogger() });
    const base = await listen((request, response) => {
      void ingress.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    const post = (body: string) =>
      fetch(`${base}/hooks/agent_loop_stopped`, { method: 'POST', headers: jsonHeaders, body });
    const deep = await post(`{"session_key":"abc","extra":${nested(20_000)}}`); // within 64 KiB
    expect(deep.status).toBe(400);
    expect(await deep.json()).toEqual({
      accepted: false,
      error: expect.stringContaining('the body nests arrays and objects more than 64 levels deep'),
    });
    const honest = await post(JSON.stringify({ session_key: 'abc', platform: 'livekit' }));
    expect(honest.status).toBe(200);
    expect(await honest.json()).toMatchObject({ accepted: true });
    await proxy.close();
  });
});
