/**
 * 1,000 providers join the in-memory room, register, each take a call, and leave (half closing,
 * half dropped), round after round. After each round the proxy holds nothing of them: no tool, no
 * pending call, no listener; every call to them settled, TOOL_UNREGISTERED for those that closed
 * (they withdraw their tools first) and PROVIDER_GONE for those dropped; the providers themselves
 * are collected; and the heap after GC is back near where it was after the first round.
 */
import { expect, it } from 'vitest';
import { type InMemoryChannel, InMemoryRoom } from '../../bridge/memory.js';
import { isToolProxyError, ToolProxy } from '../../src/index.js';
import { MiB, settledHeap, stillAlive } from '../support/heap.js';
import { holdingProvider } from '../support/hold-provider.js';
import { measured } from '../support/measured.js';
import { flush } from '../support/util.js';
import { waitFor } from '../support/ws-harness.js';

const PROVIDERS = 1_000;
const ROUNDS = 3;

interface RoundResult {
  codes: Map<string, number>;
  refs: Array<WeakRef<object>>;
  ms: number;
}

/**
 * One round: everyone joins, registers and takes a call, then everyone leaves. Identities are new
 * each round, so anything kept per identity would add up.
 */
async function round(room: InMemoryRoom, proxy: ToolProxy, r: number): Promise<RoundResult> {
  const since = performance.now();
  const members: Array<{ held: ReturnType<typeof holdingProvider>; channel: InMemoryChannel }> = [];
  for (let i = 0; i < PROVIDERS; i++) {
    const held = holdingProvider();
    const channel = room.join(`p-${r}-${i}`);
    await held.provider.connect(channel);
    members.push({ held, channel });
  }
  await waitFor(() => proxy.tools().length === PROVIDERS, 10_000);
  const calls = proxy.tools().map((tool) =>
    proxy.call(tool.name).then(
      () => 'resolved',
      (error: unknown) => (isToolProxyError(error) ? error.code : 'other'),
    ),
  );
  await waitFor(() => members.every(({ held }) => held.provider.runningCalls === 1), 10_000);
  for (const [i, { held, channel }] of members.entries()) {
    if (i % 2 === 0) await held.provider.close();
    else channel.drop();
  }
  const codes = new Map<string, number>();
  for (const code of await Promise.all(calls)) codes.set(code, (codes.get(code) ?? 0) + 1);
  await flush();
  for (const { held } of members) expect(held.provider.runningCalls).toBe(0);
  const refs = members.flatMap(({ held, channel }) => [
    new WeakRef(held.provider),
    new WeakRef(channel),
  ]);
  return { codes, refs, ms: performance.now() - since };
}

it(`${PROVIDERS} providers joining and leaving, ${ROUNDS} rounds: nothing of them stays`, async (context) => {
  const room = new InMemoryRoom();
  const proxy = new ToolProxy();
  await proxy.start(room.join('agent', { isAgent: true }));

  await round(room, proxy, -1); // warm-up: code paths compiled, the settled-id memory at its cap
  const baseline = await settledHeap();
  let last: RoundResult | undefined;
  for (let r = 0; r < ROUNDS; r++) {
    last = await round(room, proxy, r);
    expect(new Map(last.codes)).toEqual(
      new Map([
        ['TOOL_UNREGISTERED', PROVIDERS / 2],
        ['PROVIDER_GONE', PROVIDERS / 2],
      ]),
    );
    expect(proxy.tools()).toEqual([]);
    expect(proxy.pendingCalls).toBe(0);
    expect(proxy.watchedSignals).toBe(0);
    expect(room.present().map((member) => member.identity)).toEqual(['agent']);
  }
  const grown = (await settledHeap()) - baseline;
  const alive = await stillAlive(last?.refs ?? []);
  await expect(proxy.call('hold')).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
  expect(alive).toBe(0);
  expect(grown).toBeLessThan(8 * MiB);
  const { settled } = proxy.stats().calls;
  expect(settled['provider-gone'] + settled['tool-unregistered']).toBe((ROUNDS + 1) * PROVIDERS);
  await measured(
    context,
    `${ROUNDS} rounds of ${PROVIDERS}: every call settled (closed: TOOL_UNREGISTERED, dropped: PROVIDER_GONE); registry, calls, listeners back to 0; ` +
      `${alive}/${last?.refs.length} providers and channels still reachable; heap ${(grown / MiB).toFixed(2)} MiB over the first round's ` +
      `(${Math.round(grown / (ROUNDS * PROVIDERS))} bytes per departed provider); ` +
      `${Math.round(last?.ms ?? 0)} ms per round`,
  );
  await proxy.close();
}, 60_000);
