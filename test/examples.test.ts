/** The examples run, and the README's quick start is exactly examples/quickstart.ts (which tsc checks). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { runMoveArmExample } from '../examples/move-arm.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('examples', () => {
  it('move-arm: agent_loop_stopped cancels the call and aborts the robot handler before the move ends', async () => {
    const lines: string[] = [];
    const result = await runMoveArmExample({
      moveMs: 5_000,
      stopAfterMs: 20,
      log: (line) => lines.push(line),
    });
    expect(result.callError).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    expect(result.abortReason).toMatchObject({ code: 'CANCELLED', reason: 'agent-loop-stopped' });
    expect(lines.some((line) => line.includes('motors stopped'))).toBe(true);
    expect(lines.some((line) => line.includes('arrived'))).toBe(false);
    expect(lines.join('\n')).toMatch(/The cancel reached the robot [\d.]+ ms after the stop/);
  });

  it('quickstart runs and prints CANCELLED', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../examples/quickstart.js');
    expect(log).toHaveBeenCalledWith('CANCELLED');
  });

  it('the README quick start is examples/quickstart.ts, at most 20 lines of code', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const quickstart = readFileSync(join(root, 'examples', 'quickstart.ts'), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${quickstart}\`\`\``);
    expect(quickstart.split('\n').filter((line) => line.trim() !== '').length).toBeLessThanOrEqual(
      20,
    );
  });

  it('the README gives the two commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    expect(readme).toMatch(/^npm start\b/m);
    expect(readme).toMatch(/^npm test\b/m);
    expect(scripts.prestart).toContain('ensure-deps');
    expect(scripts.pretest).toContain('ensure-deps');
    // CI runs exactly the README's test command (with the real-peer suites made mandatory).
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(
      /\n(TOOLPROXY_REQUIRE_REAL_PEERS=1 )?npm test\n/,
    );
  });
});
