/**
 * The MCP front end to end: the SDK's real Client, over an in-memory MCP transport, calls tools a
 * real ToolProvider registered with a real ToolProxy on an in-memory room.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  type Progress,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../../../bridge/memory.js';
import {
  createMcpServer,
  type McpServerHandle,
  SESSION_KEY_META,
} from '../../../proxy/mcp/index.js';
import { UNEXPECTED_FAILURE_TEXT } from '../../../proxy/kit/index.js';
import { defineTool, type ToolDefinition, ToolProvider, ToolProxy } from '../../../src/index.js';
import { deferred, flush, spyLogger } from '../../support/util.js';

interface Hold {
  started: ReturnType<typeof deferred<void>>;
  release: ReturnType<typeof deferred<unknown>>;
  aborts: unknown[];
  progress: (n: number) => void;
}

function robotTools(hold: () => Hold): ToolDefinition[] {
  return [
    defineTool({
      name: 'echo',
      description: 'Echo the text back',
      input: z.object({ text: z.string() }),
      annotations: { title: 'Echo', readOnlyHint: true },
      handler: ({ text }) => text,
    }),
    defineTool({
      name: 'pose',
      description: 'Where the arm is',
      input: z.object({}),
      handler: () => ({ x: 40, y: 12, joints: [1, 2] }),
    }),
    defineTool({
      name: 'joints',
      description: 'Joint angles',
      input: z.object({}),
      handler: () => [10, 20, 30],
    }),
    defineTool({
      name: 'fail',
      description: 'Always fails',
      input: z.object({}),
      handler: () => {
        throw new Error('gripper jammed');
      },
    }),
    defineTool({
      name: 'hold',
      description: 'Runs until released or aborted',
      input: z.object({}),
      timeoutMs: 5_000,
      handler: (_args, { signal, progress }) => {
        const current = hold();
        current.progress = (n) => progress(n, 3, `step ${n}`);
        signal.addEventListener('abort', () => current.aborts.push(signal.reason), { once: true });
        current.started.resolve();
        return current.release.promise;
      },
    }),
  ];
}

function newHold(): Hold {
  return { started: deferred(), release: deferred(), aborts: [], progress: () => {} };
}

function textOf(result: unknown): string {
  const { content } = result as { content: Array<{ type: string; text: string }> };
  expect(content).toHaveLength(1);
  expect(content[0]?.type).toBe('text');
  return content[0]?.text ?? '';
}

let room: InMemoryRoom;
let proxy: ToolProxy;
let robot: ToolProvider;
let others: ToolProvider[];
let hold: Hold;
let mcp: McpServerHandle;
let client: Client;

async function connectClient(
  handle: McpServerHandle,
  options: ConstructorParameters<typeof Client>[1] = {},
): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await handle.server.connect(serverSide);
  const connected = new Client({ name: 'test-agent', version: '1.0.0' }, options);
  await connected.connect(clientSide);
  return connected;
}

/** A second provider offering `count` tools named `extra_<i>`. */
async function joinProvider(identity: string, count: number): Promise<ToolProvider> {
  const tools = Array.from({ length: count }, (_, i) =>
    defineTool({
      name: `extra_${i}`,
      description: `extra tool ${i}`,
      input: z.object({}),
      handler: () => i,
    }),
  );
  const provider = new ToolProvider({ tools });
  others.push(provider);
  await provider.connect(room.join(identity));
  return provider;
}

beforeEach(async () => {
  room = new InMemoryRoom();
  proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  hold = newHold();
  others = [];
  robot = new ToolProvider({ tools: robotTools(() => hold) });
  await robot.connect(room.join('robot'));
  await proxy.waitForTool('hold');
  mcp = createMcpServer(proxy, { name: 'toolproxy-test', version: '9.9.9' });
  client = await connectClient(mcp);
});

afterEach(async () => {
  vi.useRealTimers();
  await client.close();
  mcp.close();
  for (const provider of others) await provider.close();
  await robot.close();
  await proxy.close();
});

describe('handshake and tools/list', () => {
  it('advertises tools with listChanged and names itself', () => {
    expect(client.getServerCapabilities()?.tools).toEqual({ listChanged: true });
    expect(client.getServerVersion()).toMatchObject({ name: 'toolproxy-test', version: '9.9.9' });
  });

  it('gives agents no server instructions: provider text stays in tool entries, as data', () => {
    expect(client.getInstructions()).toBeUndefined();
  });

  it('lists the proxy tools in its order, with their schema, annotations and title', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(proxy.tools().map((tool) => tool.name));
    const echo = tools.find((tool) => tool.name === 'echo');
    expect(echo).toEqual({
      name: 'echo',
      title: 'Echo',
      description: 'Echo the text back',
      inputSchema: proxy.getTool('echo')?.inputSchema,
      annotations: { title: 'Echo', readOnlyHint: true },
    });
    expect(echo?.inputSchema).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    });
    const pose = tools.find((tool) => tool.name === 'pose');
    expect(pose).not.toHaveProperty('annotations');
    expect(pose).not.toHaveProperty('title');
  });
});

describe('tools/call', () => {
  it('returns a string result as one text block', async () => {
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hé 👋' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'hé 👋' }] });
  });

  it('returns an object as JSON text plus structuredContent', async () => {
    const result = await client.callTool({ name: 'pose' });
    expect(JSON.parse(textOf(result))).toEqual({ x: 40, y: 12, joints: [1, 2] });
    expect(result.structuredContent).toEqual({ x: 40, y: 12, joints: [1, 2] });
    expect(result.isError).toBeUndefined();
  });

  it('returns other JSON values as JSON text only', async () => {
    const result = await client.callTool({ name: 'joints', arguments: {} });
    expect(textOf(result)).toBe('[10,20,30]');
    expect(result).not.toHaveProperty('structuredContent');
  });

  it('reports a provider error as isError with its text', async () => {
    const result = await client.callTool({ name: 'fail', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Tool "fail" failed: .*gripper jammed/);
  });

  it('reports an unknown tool as isError (TOOL_NOT_FOUND), not a JSON-RPC error', async () => {
    const result = await client.callTool({ name: 'teleport', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^No tool named "teleport" is registered\. Available tools: /);
  });

  it('reports invalid arguments as isError, and nothing reaches the provider', async () => {
    const result = await client.callTool({ name: 'echo', arguments: { text: 5 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Invalid arguments for tool "echo"/);
    expect(proxy.stats()).toMatchObject({ calls: { rejectedBeforeSend: 1 } });
  });

  it('reports an unexpected throw as isError with a generic text, and logs it', async () => {
    const logger = spyLogger();
    const broken = createMcpServer(proxy, { logger });
    const other = await connectClient(broken);
    try {
      vi.spyOn(proxy, 'call').mockImplementation(() => {
        throw new Error('internal detail');
      });
      const result = await other.callTool({ name: 'echo', arguments: { text: 'x' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(UNEXPECTED_FAILURE_TEXT);
      expect(textOf(result)).not.toContain('internal detail');
      expect(logger.error).toHaveBeenCalledWith(
        { tool: 'echo', error: 'internal detail' },
        'MCP tool call failed unexpectedly',
      );
    } finally {
      await other.close();
      broken.close();
    }
  });

  it('reports a timeout as isError with the timeout text, and the provider is stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const call = client.callTool({ name: 'hold', arguments: {} });
    await hold.started.promise;
    await vi.advanceTimersByTimeAsync(5_000);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Tool "hold" did not answer within 5000 ms and was abandoned/);
    await flush();
    expect(hold.aborts).toEqual([expect.objectContaining({ code: 'TIMEOUT' })]);
    expect(proxy.pendingCalls).toBe(0);
  });

  it('a client abort cancels the proxy call (caller-aborted) and the provider handler', async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'hold', arguments: {} }, undefined, {
      signal: controller.signal,
    });
    await hold.started.promise;
    expect(proxy.pendingCalls).toBe(1);
    controller.abort('the user pressed stop');
    await expect(call).rejects.toThrow('the user pressed stop');
    await vi.waitFor(() => expect(hold.aborts).toHaveLength(1));
    expect(hold.aborts[0]).toMatchObject({
      code: 'CANCELLED',
      reason: 'caller-aborted',
      detail: 'the user pressed stop',
    });
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.watchedSignals).toBe(0);
  });

  it('closing the MCP connection cancels the calls still running', async () => {
    const call = client.callTool({ name: 'hold', arguments: {} });
    await hold.started.promise;
    await client.close();
    await expect(call).rejects.toThrow('Connection closed');
    await vi.waitFor(() => expect(hold.aborts).toHaveLength(1));
    expect(hold.aborts[0]).toMatchObject({ code: 'CANCELLED', reason: 'caller-aborted' });
    expect(proxy.pendingCalls).toBe(0);
  });

  it('forwards provider progress to a client that asked for it', async () => {
    const seen: Progress[] = [];
    const call = client.callTool({ name: 'hold', arguments: {} }, undefined, {
      onprogress: (progress) => seen.push(progress),
    });
    await hold.started.promise;
    hold.progress(1);
    hold.progress(2);
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    hold.release.resolve('arrived');
    expect(textOf(await call)).toBe('arrived');
    expect(seen).toEqual([
      { progress: 1, total: 3, message: 'step 1' },
      { progress: 2, total: 3, message: 'step 2' },
    ]);
  });

  it('sends no progress to a client that did not ask for it', async () => {
    const notify = vi.spyOn(mcp.server, 'notification');
    const call = client.callTool({ name: 'hold', arguments: {} });
    await hold.started.promise;
    hold.progress(1);
    await flush();
    hold.release.resolve('done');
    expect(textOf(await call)).toBe('done');
    expect(notify).not.toHaveBeenCalled();
  });
});

describe('sessions', () => {
  it('a call without a session key is cancelled by a stop of any session', async () => {
    const call = client.callTool({ name: 'hold', arguments: {} });
    await hold.started.promise;
    proxy.lifecycle('agent_loop_stopped', {
      session_key: 'someone-else',
      reason: 'Stop requested',
    });
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      /^The tool call was cancelled because the agent loop was stopped/,
    );
  });

  it(`a call with _meta["${SESSION_KEY_META}"] belongs to that session`, async () => {
    const call = client.callTool({
      name: 'hold',
      arguments: {},
      _meta: { [SESSION_KEY_META]: 'chat-1' },
    });
    await hold.started.promise;
    proxy.lifecycle('agent_loop_stopped', { session_key: 'chat-2' });
    await flush();
    expect(proxy.pendingCalls).toBe(1);
    proxy.lifecycle('session:reset', { session_key: 'chat-1', reason: '/new' });
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/because the session was reset \(\/new\)/);
    await vi.waitFor(() => expect(hold.aborts).toHaveLength(1));
    expect(hold.aborts[0]).toMatchObject({ reason: 'session-reset' });
  });
});

describe('notifications/tools/list_changed', () => {
  it('sends one notification for a burst of registrations, and the new list has them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let notifications = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notifications += 1;
    });
    await joinProvider('lab', 20);
    await flush();
    expect(proxy.tools()).toHaveLength(25);
    expect(notifications).toBe(0);
    await vi.advanceTimersByTimeAsync(50);
    expect(notifications).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(notifications).toBe(1);
    const { tools } = await client.listTools();
    expect(tools.filter((tool) => tool.name.startsWith('extra_'))).toHaveLength(20);
  });

  it("the client's listChanged handler sees a provider leave and its tools go", async () => {
    const lists: string[][] = [];
    const second = createMcpServer(proxy);
    const watcher = await connectClientWith(second, lists);
    try {
      const lab = await joinProvider('lab', 2);
      await vi.waitFor(() => expect(lists.at(-1)).toContain('extra_1'));
      await lab.close();
      await vi.waitFor(() => expect(lists.at(-1)).not.toContain('extra_1'));
      expect(lists.at(-1)).toEqual(['echo', 'fail', 'hold', 'joints', 'pose']);
    } finally {
      await watcher.close();
      second.close();
    }
  });

  it('close() detaches from the proxy: no listener left, no notification after', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let notifications = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notifications += 1;
    });
    mcp.close();
    expect(proxy.hooks.listenerCount('tool:registered')).toBe(0);
    expect(proxy.hooks.listenerCount('tool:unregistered')).toBe(0);
    await joinProvider('lab', 3);
    await vi.advanceTimersByTimeAsync(100);
    expect(notifications).toBe(0);
    mcp.close(); // idempotent
  });

  it('a pending notification is dropped by close()', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let notifications = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      notifications += 1;
    });
    await joinProvider('lab', 1);
    await flush();
    mcp.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(notifications).toBe(0);
  });

  it('a server not connected sends nothing and does not throw', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const idle = createMcpServer(proxy);
    const notify = vi.spyOn(idle.server, 'sendToolListChanged');
    try {
      await joinProvider('lab', 1);
      await vi.advanceTimersByTimeAsync(100);
      expect(notify).not.toHaveBeenCalled();
    } finally {
      idle.close();
    }
  });

  it('uses the injected timers and debounce', async () => {
    const scheduled: number[] = [];
    const fire: Array<() => void> = [];
    const timed = createMcpServer(proxy, {
      listChangedDebounceMs: 250,
      timers: {
        setTimeout: (callback, ms) => {
          scheduled.push(ms);
          fire.push(callback);
          return fire.length;
        },
        clearTimeout: () => {},
        now: () => 0,
      },
    });
    try {
      await joinProvider('lab', 4);
      await flush();
      expect(scheduled).toEqual([250]);
    } finally {
      timed.close();
    }
  });

  it('rejects a negative debounce', () => {
    expect(() => createMcpServer(proxy, { listChangedDebounceMs: -1 })).toThrow(RangeError);
  });
});

/** A second client whose `listChanged` handler records every refreshed tool list. */
async function connectClientWith(handle: McpServerHandle, lists: string[][]): Promise<Client> {
  return connectClient(handle, {
    listChanged: {
      tools: {
        debounceMs: 0,
        onChanged: (error, tools) => {
          if (error === null && tools !== null) lists.push(tools.map((tool) => tool.name));
        },
      },
    },
  });
}
