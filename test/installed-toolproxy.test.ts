/**
 * The pack cache's lock (test/support/installed-toolproxy.ts): test files running at once share
 * one `npm pack`, so the lock must be exclusive while its holder lives and taken over once the
 * holder is gone. The packing itself runs in test/e2e/package.test.ts and the *-installed suites.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireLock, packageKey } from './support/installed-toolproxy.js';

const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolproxy-lock-'));
  dirs.push(dir);
  return join(dir, 'key.lock');
}

describe('the pack cache lock', () => {
  it('is created with its holder and removed on release', async () => {
    const lock = lockPath();
    const release = await acquireLock(lock);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it('waits while a live process holds it, and is taken once released', async () => {
    vi.useFakeTimers();
    const lock = lockPath();
    const release = await acquireLock(lock);
    let second: (() => void) | undefined;
    const waiting = acquireLock(lock).then((got) => (second = got));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(second).toBeUndefined();
    release();
    await vi.advanceTimersByTimeAsync(300);
    await waiting;
    expect(second).toBeDefined();
    second?.();
  });

  it('is taken over from a holder that has exited', async () => {
    const lock = lockPath();
    const exited = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lock, JSON.stringify({ pid: exited, at: Date.now() }));
    const release = await acquireLock(lock);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    release();
  });
});

describe('the pack key', () => {
  it('is a stable hash of the packaged sources', () => {
    expect(packageKey()).toMatch(/^[0-9a-f]{16}$/);
    expect(packageKey()).toBe(packageKey());
  });
});
