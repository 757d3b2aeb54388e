/**
 * Providers joining and leaving the WebSocket bridge on real sockets (127.0.0.1): each connects
 * with its own token, registers, takes a call, and leaves, half with a close handshake, half by
 * its TCP connection going without one. After each round nothing of them stays: no peer, no
 * tool, no pending call, no open socket; every call settled (TOOL_UNREGISTERED for those that
 * closed, PROVIDER_GONE for those cut off); the heap after GC is
 * back near where it was after the first round.
 */
import { expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { isToolProxyError, ToolProxy } from '../../src/index.js';
import { MiB, settledHeap, stillAlive } from '../support/heap.js';
import { holdingProvider } from '../support/hold-provider.js';
import { measured } from '../support/measured.js';
import { newBridge, providerToken, serve, type Served, waitFor } from '../support/ws-harness.js';

const PROVIDERS = Number(process.env.CHURN_SOCKETS ?? 1_000);
const ROUNDS = 2;

interface RoundResult {
  codes: Map<string, number>;
  refs: Array<WeakRef<object>>;
  joinMs: number;
  leaveMs: number;
}

async function round(served: Served, proxy: ToolProxy, r: number): Promise<RoundResult> {
  const since = performance.now();
  const members = await Promise.all(
    Array.from({ length: PROVIDERS }, async (_, i) => {
      const held = holdingProvider();
      const sockets: WebSocket[] = [];
      class Tracked extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      }
      await held.provider.connect(
        webSocketProviderChannel({
          url: served.url,
          token: () => providerToken(`p-${r}-${i}`),
          WebSocket: Tracked,
          reconnect: { initialDelayMs: 60_000 }, // a provider cut off stays away
        }),
      );
      return { held, sockets };
    }),
  );
  await waitFor(() => proxy.tools().length === PROVIDERS, 20_000);
  const joinMs = performance.now() - since;
  expect(await openConnections(served)).toBe(PROVIDERS);
  const calls = proxy.tools().map((tool) =>
    proxy.call(tool.name).then(
      () => 'resolved',
      (error: unknown) => (isToolProxyError(error) ? error.code : 'other'),
    ),
  );
  await waitFor(() => members.every(({ held }) => held.provider.runningCalls === 1), 20_000);
  const leaving = performance.now();
  await Promise.all(
    members.map(async ({ held, sockets }, i) => {
      if (i % 2 === 0) await held.provider.close();
      else sockets.at(-1)?.terminate(); // no close frame: the bridge sees the TCP connection go
    }),
  );
  const codes = new Map<string, number>();
  for (const code of await Promise.all(calls)) codes.set(code, (codes.get(code) ?? 0) + 1);
  const leaveMs = performance.now() - leaving;
  await Promise.all(members.map(({ held }) => held.provider.close())); // stop reconnecting
  await waitFor(() => served.bridge.peers().length === 0, 10_000);
  await vi.waitFor(
    async () => {
      if ((await openConnections(served)) > 0) throw new Error('sockets still open');
    },
    { timeout: 10_000, interval: 10 },
  );
  for (const { held } of members) expect(held.provider.runningCalls).toBe(0);
  const refs = members.flatMap(({ held, sockets }) => [
    new WeakRef(held.provider),
    ...sockets.map((socket) => new WeakRef(socket)),
  ]);
  return { codes, refs, joinMs, leaveMs };
}

/** TCP connections the server holds now (upgraded ones included). */
function openConnections(served: Served): Promise<number> {
  return new Promise((resolve, reject) => {
    served.server.getConnections((error, count) => (error ? reject(error) : resolve(count)));
  });
}

it(`${PROVIDERS} providers on real sockets joining and leaving, ${ROUNDS} rounds: nothing of them stays`, async (context) => {
  const served = await serve(newBridge());
  const proxy = new ToolProxy();
  await proxy.start(served.bridge);
  try {
    await round(served, proxy, -1); // warm-up
    served.upgrades.length = 0;
    const baseline = await settledHeap();
    let last: RoundResult | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      last = await round(served, proxy, r);
      served.upgrades.length = 0; // the harness keeps every upgraded socket: let them go
      // Those that closed withdrew their tools first; those cut off were found gone.
      expect(new Map(last.codes)).toEqual(
        new Map([
          ['TOOL_UNREGISTERED', PROVIDERS / 2],
          ['PROVIDER_GONE', PROVIDERS / 2],
        ]),
      );
      expect(proxy.tools()).toEqual([]);
      expect(proxy.pendingCalls).toBe(0);
    }
    const grown = (await settledHeap()) - baseline;
    const alive = await stillAlive(last?.refs ?? []);
    expect(alive).toBe(0);
    expect(grown).toBeLessThan(16 * MiB);
    await measured(
      context,
      `${ROUNDS} rounds of ${PROVIDERS} sockets: every call settled (closed: TOOL_UNREGISTERED, cut off: PROVIDER_GONE); peers, tools, calls and sockets back to 0; ` +
        `${alive}/${last?.refs.length} providers and sockets still reachable; heap ${(grown / MiB).toFixed(2)} MiB over the first round's; ` +
        `join+register ${Math.round(last?.joinMs ?? 0)} ms, all calls settled ${Math.round(last?.leaveMs ?? 0)} ms after leaving began`,
    );
  } finally {
    await proxy.close();
    await served.close();
  }
}, 60_000);
