/** `toolproxy demo` runs end to end over real sockets and reports the cancel time in milliseconds. */
import { expect, it } from 'vitest';
import { demo } from '../../proxy/cli/demo.js';

it('the demo cancels the robot through the hook ingress and reports how long it took', async () => {
  const lines: string[] = [];
  const result = await demo((line) => lines.push(line), 200);
  expect(result.callText).toMatch(/cancelled because the agent loop was stopped/);
  expect(result.cancelMs).toBeGreaterThanOrEqual(0);
  expect(lines.join('\n')).toMatch(
    /The cancel reached the robot [\d.]+ ms after agent_loop_stopped/,
  );
  expect(lines.join('\n')).toMatch(/30,000 ms/);
}, 30_000);
