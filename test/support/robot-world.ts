/**
 * The world the front suites share: a started proxy on an in-memory room and a robot (a real
 * ToolProvider) offering the suite's tools, with the tools most suites give it.
 */
import { z } from 'zod';
import { InMemoryRoom } from '../../bridge/memory.js';
import { defineTool, ToolProvider, type ToolProviderOptions, ToolProxy } from '../../src/index.js';

export const echoTool = defineTool({
  name: 'echo',
  description: 'Echo the text back',
  input: z.object({ text: z.string() }),
  handler: ({ text }) => text,
});

export const failTool = defineTool({
  name: 'fail',
  description: 'Always fails',
  input: z.object({}),
  handler: () => {
    throw new Error('gripper jammed');
  },
});

export interface RobotWorld {
  readonly room: InMemoryRoom;
  readonly proxy: ToolProxy;
  readonly robot: ToolProvider;
}

/** Resolves once the proxy has every tool (the last one registered means all of them are). */
export async function robotWorld(tools: ToolProviderOptions['tools']): Promise<RobotWorld> {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));
  const robot = new ToolProvider({ tools });
  await robot.connect(room.join('robot'));
  const last = tools.at(-1);
  if (last !== undefined) await proxy.waitForTool(last.name);
  return { room, proxy, robot };
}
