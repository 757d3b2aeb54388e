/**
 * The live suite (test/live/*.live.test.ts) against a real LiveKit server, run as its own vitest
 * inside a loopback-only network namespace (`unshare -rn test/live/netns.sh …`), so no WebRTC
 * packet can leave the machine. Skipped, saying why, when this machine cannot build the server (no
 * Go) or make the namespace; with TOOLPROXY_REQUIRE_REAL_PEERS=1 (CI) it must run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findMcpPeer, REQUIRE_REAL_PEERS } from './support/mcp-peers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const netns = join(root, 'test', 'live', 'netns.sh');

function unavailable(): string | undefined {
  const server = findMcpPeer('livekit-server');
  if (!server.found) return server.why;
  const probe = spawnSync('unshare', ['-rn', netns, 'true'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0)
    return `cannot make a loopback-only network namespace (unshare -rn): ${probe.error?.message ?? probe.stderr.trim()}`;
  return undefined;
}

const missing = unavailable();
const skip = missing !== undefined && !REQUIRE_REAL_PEERS;
if (skip) console.warn(`live LiveKit suite: skipped: ${missing}`);

describe.skipIf(skip)('live LiveKit suite (real livekit-server, loopback-only namespace)', () => {
  it('passes', async () => {
    if (missing !== undefined) throw new Error(`the live suite must run here: ${missing}`);
    const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
    const child = spawn(
      'unshare',
      ['-rn', netns, process.execPath, vitest, 'run', '--config', 'vitest.live.config.ts'],
      { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // eslint-disable-next-line no-control-regex -- colour codes, should a reporter still add them
    const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
    const passed = /Tests\s+(\d+) passed/.exec(plain)?.[1];
    const skipped = /Tests\s+.*?(\d+) skipped/.exec(plain)?.[1] ?? '0';
    console.log(
      `live LiveKit suite: ${passed ?? 0} tests passed against the real server, ${skipped} skipped (known gaps)`,
    );
    expect(status, output.slice(-6_000)).toBe(0);
    expect(Number(passed)).toBeGreaterThan(0);
  }, 1_200_000);
});
