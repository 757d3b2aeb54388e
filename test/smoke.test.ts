import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { InMemoryRoom } from '../bridge/memory.js';
import { defineTool, ToolProvider, ToolProxy } from '../src/index.js';

describe('smoke', () => {
  it('calls a tool and cancels one', async () => {
    const [agentEnd, providerEnd] = InMemoryRoom.createLinkedPair();
    const proxy = new ToolProxy();
    await proxy.start(agentEnd);
    let aborted: unknown;
    const provider = new ToolProvider({
      tools: [
        defineTool({
          name: 'add',
          description: 'adds',
          input: z.object({ a: z.number(), b: z.number() }),
          handler: ({ a, b }) => a + b,
        }),
        defineTool({
          name: 'slow',
          description: 'slow',
          input: z.object({}),
          handler: (_args, { signal }) =>
            new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => {
                aborted = signal.reason;
                reject(signal.reason);
              });
            }),
        }),
      ],
    });
    await provider.connect(providerEnd);
    await proxy.waitForTool('add');
    await proxy.waitForTool('slow');
    expect(proxy.tools().map((t) => t.name)).toEqual(['add', 'slow']);
    await expect(proxy.call('add', { a: 1, b: 2 })).resolves.toBe(3);
    const slow = proxy.call('slow', {}, { sessionKey: 's1' });
    await vi.waitFor(() => expect(provider.runningCalls).toBe(1));
    proxy.lifecycle('agent_loop_stopped', {
      session_key: 's1',
      platform: 'x',
      reason: 'Stop requested',
      invalidation_reason: undefined,
    });
    await expect(slow).rejects.toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    await vi.waitFor(() => expect(aborted).toMatchObject({ code: 'CANCELLED' }));
    await expect(proxy.call('add', { a: 'x' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
    });
    await proxy.close();
  });
});
