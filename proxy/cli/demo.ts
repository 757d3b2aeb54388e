/**
 * `toolproxy demo`: everything in one process, over real sockets. `serve` in embedded mode, a
 * simulated robot connected over the WebSocket bridge, an agent calling its slow `move_arm` over
 * MCP, then `agent_loop_stopped` posted to the hook ingress. Prints the timeline and how long the
 * cancel took to reach the robot, next to the 30,000 ms it would take without the hook.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { mintProviderToken } from '../../bridge/livekit/token.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { defineTool, silentLogger, ToolProvider } from '../../src/index.js';
import { developmentKeys } from './config.js';
import { startServe } from './serve.js';

export interface DemoResult {
  /** From posting agent_loop_stopped to the robot's handler seeing its signal abort. */
  cancelMs: number;
  /** What the agent's MCP call returned. */
  callText: string;
}

export async function runDemo(
  out: { write(text: string): unknown },
  stopAfterMs = 1_000,
): Promise<number> {
  await demo((line) => out.write(`${line}\n`), stopAfterMs);
  return 0;
}

export async function demo(
  print: (line: string) => void,
  stopAfterMs = 1_000,
): Promise<DemoResult> {
  const t0 = performance.now();
  const say = (who: string, what: string) =>
    print(`+${(performance.now() - t0).toFixed(0).padStart(5)} ms  ${who.padEnd(6)} ${what}`);
  const keys = developmentKeys();
  const serve = await startServe(
    {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      mcp: 'http',
      room: 'toolproxy',
      keys,
      livekit: undefined,
    },
    { logger: silentLogger, announce: (line) => say('proxy', line) },
  );
  let abortedAt = 0;
  let robotAbort: () => void = () => {};
  const aborted = new Promise<void>((resolve) => {
    robotAbort = resolve;
  });
  const robot = new ToolProvider({
    tools: [
      defineTool({
        name: 'move_arm',
        description: 'Move the robot arm to (x, y). Slow: about ten seconds.',
        input: z.object({ x: z.number(), y: z.number() }),
        handler: ({ x, y }, { signal }) =>
          new Promise((resolve, reject) => {
            say('robot', `moving to (${x}, ${y}) — a 10 s move`);
            const arrive = setTimeout(() => resolve({ arrived: true }), 10_000);
            signal.addEventListener('abort', () => {
              abortedAt = performance.now();
              clearTimeout(arrive);
              say('robot', `signal aborted (${(signal.reason as Error).message}): motors stopped`);
              reject(signal.reason as Error);
              robotAbort();
            });
          }),
      }),
    ],
  });
  const bridgeUrl = `${serve.url.replace(/^http/, 'ws')}/bridge`;
  const token = () => mintProviderToken({ ...keys, room: 'toolproxy', identity: 'robot-arm' });
  await robot.connect(webSocketProviderChannel({ url: bridgeUrl, token, WebSocket }));
  await serve.proxy.waitForTool('move_arm');
  say('robot', 'connected over the WebSocket bridge; move_arm offered');

  const agent = new Client({ name: 'demo-agent', version: '1.0.0' });
  await agent.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp`)));
  say('agent', 'MCP tools/call move_arm {x: 40, y: 12}');
  const call = agent.callTool({ name: 'move_arm', arguments: { x: 40, y: 12 } });

  await new Promise((resolve) => setTimeout(resolve, stopAfterMs));
  say('agent', 'user typed /stop -> POST /hooks/agent_loop_stopped');
  const stoppedAt = performance.now();
  await fetch(`${serve.url}/hooks/agent_loop_stopped`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      session_key: 'demo',
      platform: 'demo',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    }),
  });
  const result = CallToolResultSchema.parse(await call);
  const first = result.content[0];
  const callText = first?.type === 'text' ? first.text : JSON.stringify(result.content);
  say('agent', `tools/call returned isError=${String(result.isError)}: ${callText.slice(0, 90)}…`);
  await aborted;
  const cancelMs = abortedAt - stoppedAt;

  await agent.close();
  await robot.close();
  await serve.close();
  print('');
  print(`The cancel reached the robot ${cancelMs.toFixed(1)} ms after agent_loop_stopped.`);
  print(
    'Without the hook it would have waited out the 30,000 ms deadline, and the arm would have kept moving.',
  );
  return { cancelMs, callText };
}
