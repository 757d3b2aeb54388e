/**
 * A simulated robot arm: `move_arm` moves at a fixed speed and stops the moment its signal aborts
 * (the proxy cancelled or timed out the call); `get_position` answers at once.
 */
import { defineTool, type ToolDefinition } from 'toolproxy/provider';
import { z } from 'zod';

export interface ArmOptions {
  /** Centimetres per second. Default 5. */
  speed?: number;
  /** How often the arm reports progress and updates its position, in ms. Default 100. */
  tickMs?: number;
  log?: (line: string) => void;
}

export interface Arm {
  readonly tools: ToolDefinition[];
  position(): { x: number; y: number };
}

export function createArm(options: ArmOptions = {}): Arm {
  const { speed = 5, tickMs = 100, log = () => {} } = options;
  const at = { x: 0, y: 0 };
  const round = (n: number) => Math.round(n * 10) / 10;

  const moveArm = defineTool({
    name: 'move_arm',
    description: 'Move the arm to (x, y), in centimetres. Slow: about 5 cm per second.',
    input: z.object({ x: z.number().min(-100).max(100), y: z.number().min(-100).max(100) }),
    annotations: { destructiveHint: false, idempotentHint: true, openWorldHint: false },
    timeoutMs: 60_000,
    handler: ({ x, y }, { signal, progress }) =>
      new Promise((resolve, reject) => {
        const from = { ...at };
        const distance = Math.hypot(x - from.x, y - from.y);
        const totalMs = (distance / speed) * 1_000;
        const started = Date.now();
        log(`moving from (${from.x}, ${from.y}) to (${x}, ${y}): ${(totalMs / 1000).toFixed(1)} s`);
        const step = () => {
          const share = totalMs === 0 ? 1 : Math.min(1, (Date.now() - started) / totalMs);
          at.x = round(from.x + (x - from.x) * share);
          at.y = round(from.y + (y - from.y) * share);
          if (share >= 1) {
            stop();
            log(`arrived at (${at.x}, ${at.y})`);
            resolve({ arrived: true, position: { ...at } });
          } else {
            progress(Math.round(share * 100), 100, `at (${at.x}, ${at.y})`);
          }
        };
        const timer = setInterval(step, tickMs);
        const stop = () => {
          clearInterval(timer);
          signal.removeEventListener('abort', onAbort);
        };
        const onAbort = () => {
          stop();
          log(`stopped at (${at.x}, ${at.y}): ${(signal.reason as Error).message}`);
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  });

  const getPosition = defineTool({
    name: 'get_position',
    description: 'Where the arm is now, in centimetres.',
    input: z.object({}),
    annotations: { readOnlyHint: true },
    handler: () => ({ ...at }),
  });

  return { tools: [moveArm, getPosition], position: () => ({ ...at }) };
}
