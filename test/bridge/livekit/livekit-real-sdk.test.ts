/**
 * The real @livekit/rtc-node, no server: joining an unreachable URL fails with a clear error, the
 * process exits by itself (rtc-node disposed), and rtc-node's own logging stays off stdout.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

function run(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=toolproxy-source',
        join(root, 'examples/livekit-proxy/proxy.ts'),
      ],
      { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('an unreachable LiveKit URL: a clear error, exit code 1, and the process exits on its own', async () => {
  const { code, stdout, stderr } = await run({
    LIVEKIT_URL: 'ws://127.0.0.1:9',
    LIVEKIT_API_KEY: 'devkey',
    LIVEKIT_API_SECRET: 'secret',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(
    /could not join LiveKit room "toolproxy" at ws:\/\/127\.0\.0\.1:9: .*refused/i,
  );
  expect(stdout).toBe(''); // no rtc-node debug lines
}, 30_000);
