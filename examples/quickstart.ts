import { setTimeout as sleep } from 'node:timers/promises';
import { defineTool, isToolProxyError, ToolProvider, ToolProxy } from 'toolproxy';
import { InMemoryRoom } from 'toolproxy/testing';
import { z } from 'zod';

const room = new InMemoryRoom(); // stands in for a LiveKit room
const proxy = new ToolProxy(); // the agent side: 30 s deadline per call
await proxy.start(room.join('agent', { isAgent: true }));

const moveArm = defineTool({
  name: 'move_arm',
  description: 'Move the robot arm to (x, y); takes 10 s',
  input: z.object({ x: z.number(), y: z.number() }),
  handler: (_target, { signal }) => sleep(10_000, 'arrived', { signal }), // stops on abort
});
await new ToolProvider({ tools: [moveArm] }).connect(room.join('robot'));
await proxy.waitForTool('move_arm');

const call = proxy.call('move_arm', { x: 40, y: 12 }, { sessionKey: 'chat-1' });
proxy.lifecycle('agent_loop_stopped', { session_key: 'chat-1', reason: 'Stop requested' });
const error = await call.catch((reason: unknown) => reason);
console.log(isToolProxyError(error) && error.code); // CANCELLED, at once; the robot's signal aborts
await proxy.close();
