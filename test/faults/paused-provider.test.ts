/**
 * A provider process paused (SIGSTOP: a debugger, a swapped-out VM, a stalled container) with a
 * call in flight, past the bridge's ping window: `serve` drops it and the calls fail
 * PROVIDER_GONE. A call sent just before the drop waits in the paused process's socket buffer;
 * on SIGCONT the process reads it, seconds late. It must not run: the agent was told it failed
 * and may have retried (a robot would move twice). The child journals every handler start to a
 * file, so what ran is known from outside the process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { mintProviderToken } from '../../bridge/websocket/index.js';
import { startServeFixture } from '../e2e/serve-fixture.js';
import { elapsedMs, measured } from '../support/measured.js';
import { sleep, waitFor } from '../support/ws-harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD = join(root, 'test/support/paused-provider-child.ts');
const PING_MS = 500;
/** How long the process stays stopped after the proxy gave it up: the fault being modelled. */
const PAUSED_PAST_DROP_MS = 1_500;

interface JournalEntry {
  at: number;
  event: string;
  tool?: string;
  callId?: string;
  step?: number;
  name?: string;
  ageMs?: number;
  staleAfterMs?: number;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function spawnProvider(url: string, token: string, journal: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=toolproxy-source', CHILD, url, token, journal],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM')
      console.error(`provider child exited ${code ?? signal}: ${stderr}`);
  });
  cleanups.push(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  return child;
}

it('a call buffered in a SIGSTOPped provider past the ping window does not run on SIGCONT: its caller got PROVIDER_GONE, the provider answers CALL_STALE into a dropped connection', async (context) => {
  const fixture = await startServeFixture({ timeouts: { pingIntervalMs: PING_MS } });
  cleanups.push(() => fixture.close());
  const dir = mkdtempSync(join(tmpdir(), 'toolproxy-paused-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const journalFile = join(dir, 'journal.ndjson');
  const journal = (): JournalEntry[] => {
    let text: string;
    try {
      text = readFileSync(journalFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as JournalEntry);
  };
  const ran = (tool: string) =>
    journal().filter((entry) => entry.event === 'ran' && entry.tool === tool);

  const { proxy } = fixture.serve;
  const sent = new Map<string, number>();
  const token = await mintProviderToken({
    ...fixture.keys,
    room: 'toolproxy',
    identity: 'robot',
  });
  const url = `${fixture.serve.url.replace(/^http/, 'ws')}/bridge`;
  const child = spawnProvider(url, token, journalFile);
  await waitFor(
    () => proxy.getTool('actuate') !== undefined && proxy.getTool('hold') !== undefined,
    30_000,
  );

  // Healthy first: the side effect is journalled, so its absence later means something.
  await expect(proxy.call('actuate', { step: 0 })).resolves.toEqual({ moved: 0 });
  expect(ran('actuate').map((entry) => entry.step)).toEqual([0]);

  proxy.hooks.on('call:started', ({ callId }) => sent.set(callId, Date.now()));
  const held = proxy.call('hold');
  held.catch(() => {});
  await waitFor(() => ran('hold').length === 1, 10_000);

  child.kill('SIGSTOP');
  const stoppedAt = performance.now();
  const buffered = proxy.call('actuate', { step: 1 });
  buffered.catch(() => {});
  await expect(held).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
  await expect(buffered).rejects.toMatchObject({ code: 'PROVIDER_GONE' });
  const goneMs = elapsedMs(stoppedAt);
  expect(goneMs).toBeLessThan(2 * PING_MS + 2_000);
  const bufferedId = [...sent.keys()].at(-1);
  expect(bufferedId).toBeDefined();

  await sleep(PAUSED_PAST_DROP_MS);
  child.kill('SIGCONT');
  const resumedAt = Date.now();
  // Whatever the provider does with the buffered call, it journals: a run or a stale refusal.
  const decided = (entry: JournalEntry) =>
    entry.callId === bufferedId && (entry.event === 'stale' || entry.event === 'ran');
  await waitFor(() => journal().some(decided), 15_000);
  expect(ran('actuate').map((entry) => entry.step)).toEqual([0]);
  const stale = journal().find((entry) => entry.event === 'stale' && entry.callId === bufferedId);
  expect(stale).toMatchObject({ event: 'stale', name: 'actuate' });
  const staleAfterMs = stale?.staleAfterMs ?? Number.NaN;
  const ageMs = stale?.ageMs ?? Number.NaN;
  // The bridge vouched for at most two ping intervals; the call came later than that.
  expect(staleAfterMs).toBeGreaterThan(0);
  expect(staleAfterMs).toBeLessThanOrEqual(2 * PING_MS);
  expect(ageMs).toBeGreaterThan(staleAfterMs);
  expect(ageMs).toBeGreaterThan(PAUSED_PAST_DROP_MS);

  // The process carries on: it reconnects and registers again, and a new call runs once.
  await waitFor(
    () => journal().filter((e) => e.event === 'registered' && e.at >= resumedAt).length >= 2,
    30_000,
  );
  await waitFor(() => proxy.getTool('actuate') !== undefined, 10_000);
  await expect(proxy.call('actuate', { step: 2 })).resolves.toEqual({ moved: 2 });
  // What ran: step 0 before the pause and step 2 after it, never the buffered step 1.
  expect(ran('actuate').map((entry) => entry.step)).toEqual([0, 2]);
  expect(ran('hold')).toHaveLength(1);
  // The CALL_STALE answer went into the connection the bridge had dropped: never seen.
  expect(proxy.stats().results.late + proxy.stats().results.unknown).toBe(0);

  const sentAt = sent.get(bufferedId ?? '') ?? Number.NaN;
  const lateMs = (stale?.at ?? Number.NaN) - sentAt;
  await measured(
    context,
    `PROVIDER_GONE ${goneMs} ms after SIGSTOP (ping ${PING_MS} ms); the buffered call reached the provider ${lateMs} ms after it was sent (estimated age ${Math.round(ageMs)} ms > stale_after_ms ${staleAfterMs}); answered CALL_STALE, not run; provider re-registered and the next call ran once`,
  );
}, 60_000);
