/**
 * In-process example: a robot offers a slow `move_arm` tool, an agent calls it, the user types
 * /stop, and `agent_loop_stopped` cancels the call at once: the robot's handler sees its signal
 * abort milliseconds later instead of the proxy waiting out its 30-second deadline.
 *
 *   npm start
 */
import { pathToFileURL } from 'node:url';
import { defineTool, isToolProxyError, ToolProvider, ToolProxy } from 'toolproxy';
import { InMemoryRoom } from 'toolproxy/testing';
import { z } from 'zod';

export interface ExampleOptions {
  /** How long the simulated move takes if nobody stops it. */
  moveMs?: number;
  /** When the user types /stop, after the call starts. */
  stopAfterMs?: number;
  log?: (line: string) => void;
}

export interface ExampleResult {
  /** From emitting agent_loop_stopped to the robot's handler seeing its signal abort. */
  cancelLatencyMs: number;
  callError: unknown;
  abortReason: unknown;
}

export async function runMoveArmExample(options: ExampleOptions = {}): Promise<ExampleResult> {
  const { moveMs = 10_000, stopAfterMs = 1_200, log = console.log } = options;
  const t0 = performance.now();
  const at = () => `+${(performance.now() - t0).toFixed(0).padStart(5)} ms`;
  const say = (who: string, what: string) => log(`${at()}  ${who.padEnd(6)} ${what}`);

  let aborted!: (reason: unknown) => void;
  const abortSeen = new Promise<unknown>((resolve) => {
    aborted = resolve;
  });
  let abortedAt = 0;

  const moveArm = defineTool({
    name: 'move_arm',
    description: 'Move the robot arm to (x, y) in centimetres. Slow: takes seconds.',
    input: z.object({ x: z.number(), y: z.number() }),
    annotations: { destructiveHint: false, idempotentHint: true },
    handler: ({ x, y }, { signal, progress }) =>
      new Promise((resolve, reject) => {
        say('robot', `starts moving to (${x}, ${y}), a ${moveMs} ms move`);
        const started = performance.now();
        const tick = setInterval(() => progress(performance.now() - started, moveMs), moveMs / 20);
        const done = setTimeout(() => finish(() => resolve({ x, y, arrived: true })), moveMs);
        const finish = (settle: () => void) => {
          clearInterval(tick);
          clearTimeout(done);
          settle();
        };
        signal.addEventListener(
          'abort',
          () => {
            abortedAt = performance.now();
            const share = ((abortedAt - started) / moveMs) * 100;
            say(
              'robot',
              `signal aborted (${(signal.reason as Error).message}) -> motors stopped at ${share.toFixed(0)} % of the move`,
            );
            finish(() => reject(signal.reason as Error));
            aborted(signal.reason);
          },
          { once: true },
        );
      }),
  });

  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  const robot = new ToolProvider({ tools: [moveArm] });
  robot.events.on('registered', ({ exposedName }) => say('robot', `registered ${exposedName}`));
  await proxy.start(room.join('agent', { isAgent: true }));
  await robot.connect(room.join('robot-arm'));
  await new Promise((resolve) => setTimeout(resolve, 10));

  say('agent', 'calls move_arm {x: 40, y: 12} in session "demo"');
  const call = proxy.call('move_arm', { x: 40, y: 12 }, { sessionKey: 'demo' });
  const settled = call.then(
    () => undefined,
    (error: unknown) => {
      const what = isToolProxyError(error) ? `${error.code} (${error.reason})` : String(error);
      say('agent', `call rejected: ${what}`);
      return error;
    },
  );

  await new Promise((resolve) => setTimeout(resolve, stopAfterMs));
  say('agent', 'user typed /stop -> agent_loop_stopped');
  const stoppedAt = performance.now();
  proxy.lifecycle('agent_loop_stopped', {
    session_key: 'demo',
    platform: 'livekit',
    reason: 'Stop requested',
    invalidation_reason: 'stop_command',
  });
  const callError = await settled;
  const abortReason = await abortSeen;
  const cancelLatencyMs = abortedAt - stoppedAt;

  await robot.close();
  await proxy.close();
  log('');
  log(`The cancel reached the robot ${cancelLatencyMs.toFixed(2)} ms after the stop.`);
  log(
    'Without the hook the proxy would have waited 30,000 ms for the deadline, and the arm would have kept moving.',
  );
  return { cancelLatencyMs, callError, abortReason };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log('toolproxy example: a slow move_arm cancelled by agent_loop_stopped\n');
  await runMoveArmExample();
}
