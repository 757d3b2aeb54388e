/**
 * A soak world: one `ToolProxy` on one transport (the in-memory room, or the WebSocket bridge on
 * 127.0.0.1), the providers that come and go on it, and its ledger. At the end it cross-checks the
 * ledger against the proxy's own counters and checks that nothing is left behind.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { InMemoryRoom } from '../../bridge/memory.js';
import { mintProviderToken, WebSocketBridge } from '../../bridge/websocket/index.js';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { type ToolChannel, ToolProxy, type ToolProxyOptions } from '../../src/index.js';
import { Ledger } from './ledger.js';
import { ObservedChannel } from './observed-channel.js';
import { RawProvider, runtimeProvider } from './providers.js';
import { clock, OUTCOMES, type ProviderRef } from './verdict.js';

export interface Transport {
  readonly name: string;
  /** Frames cross a network: the proxy can end a call while its answer is on the way. */
  readonly racy: boolean;
  readonly proxyIdentity: string;
  proxyChannel(): ToolChannel;
  providerChannel(identity: string): Promise<ToolChannel>;
  close(): Promise<void>;
}

export function memoryTransport(): Transport {
  const room = new InMemoryRoom();
  return {
    name: 'memory',
    racy: false,
    proxyIdentity: 'agent',
    proxyChannel: () => room.join('agent', { isAgent: true }),
    providerChannel: (identity) => Promise.resolve(room.join(identity)),
    close: () => Promise.resolve(),
  };
}

const CREDENTIALS = { apiKey: 'soak-key', apiSecret: 'soak-secret-0123456789abcdef0123456789' };

/** The embedded bridge on a node HTTP server on 127.0.0.1; providers connect with `ws`. */
export async function webSocketTransport(): Promise<Transport> {
  const bridge = new WebSocketBridge({ ...CREDENTIALS, room: 'soak', identity: 'toolproxy' });
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!bridge.handleUpgrade(request, socket, head)) socket.destroy();
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    name: 'websocket',
    racy: true,
    proxyIdentity: 'toolproxy',
    proxyChannel: () => bridge,
    providerChannel: async (identity) =>
      webSocketProviderChannel({
        url: `ws://127.0.0.1:${port}/bridge`,
        token: await mintProviderToken({ ...CREDENTIALS, room: 'soak', identity }),
        WebSocket,
        proxyIdentity: 'toolproxy',
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface ProviderHandle extends ProviderRef {
  readonly kind: 'runtime' | 'raw';
  readonly raw: RawProvider | undefined;
  leftAt: number;
  running(): number;
  close(): Promise<void>;
}

/** Left providers stay known this long, for calls made while the proxy had not yet heard. */
const FORGET_AFTER_MS = 10_000;

export class World {
  readonly proxy: ToolProxy;
  readonly ledger: Ledger;
  readonly live: ProviderHandle[] = [];
  readonly churn = { joined: 0, left: 0, failed: 0 };
  readonly #transport: Transport;
  readonly #known = new Map<string, ProviderHandle>();
  readonly #inFlight = new Set<Promise<void>>();
  #generation = 0;

  private constructor(transport: Transport, options: ToolProxyOptions) {
    this.#transport = transport;
    this.proxy = new ToolProxy(options);
    this.ledger = new Ledger(transport.name, transport.racy);
    this.ledger.attach(this.proxy);
  }

  static async create(transport: Transport, options: ToolProxyOptions): Promise<World> {
    const world = new World(transport, options);
    await world.proxy.start(transport.proxyChannel());
    return world;
  }

  get name(): string {
    return this.#transport.name;
  }

  handleOf(identity: string): ProviderHandle | undefined {
    return this.#known.get(identity);
  }

  /** Starts a provider joining; it registers once connected. */
  join(kind: ProviderHandle['kind']): void {
    this.#track(this.#join(kind));
  }

  leave(handle: ProviderHandle): void {
    handle.leftSeq = clock();
    handle.leftAt = Date.now();
    this.live.splice(this.live.indexOf(handle), 1);
    this.churn.left++;
    this.#track(handle.close());
  }

  sweep(now: number): void {
    this.ledger.sweep(now);
    for (const [identity, handle] of this.#known)
      if (handle.leftSeq > 0 && handle.leftAt < now - FORGET_AFTER_MS) this.#known.delete(identity);
  }

  /** Joins and leaves still under way. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Handlers (or raw work) still running on the live providers. */
  running(): number {
    return this.live.reduce((sum, handle) => sum + handle.running(), 0);
  }

  /** Every answer and progress update handed over has been counted by the proxy. */
  balanced(): boolean {
    const { results, progress } = this.proxy.stats();
    const { counts } = this.ledger;
    return (
      counts.answersHanded === results.accepted + results.late + results.unknown &&
      counts.progressHanded === progress.accepted + progress.dropped
    );
  }

  /** The ledger against the proxy's counters, and nothing left behind. */
  check(): void {
    const stats = this.proxy.stats();
    const { counts, outcomes } = this.ledger;
    const expect = (what: string, actual: number, expected: number) => {
      if (actual !== expected)
        this.ledger.violate('stats', `${what}: ${actual}, expected ${expected}`);
    };
    expect('calls.started', stats.calls.started, counts.started);
    expect('calls.rejectedBeforeSend', stats.calls.rejectedBeforeSend, counts.refused);
    for (const outcome of OUTCOMES)
      expect(`calls.settled.${outcome}`, stats.calls.settled[outcome], outcomes[outcome]);
    expect('results.accepted', stats.results.accepted, outcomes.result + outcomes['remote-error']);
    expect('results.duplicate', stats.results.duplicate, 0);
    expect('results.spoofed', stats.results.spoofed, 0);
    const { accepted, late, unknown } = stats.results;
    expect(
      'answers handed over vs accepted+late+unknown',
      counts.answersHanded,
      accepted + late + unknown,
    );
    expect(
      'progress handed over',
      counts.progressHanded,
      stats.progress.accepted + stats.progress.dropped,
    );
    expect('onProgress callbacks', counts.progressCallbacks, stats.progress.accepted);
    expect('frames.malformed', stats.frames.malformed, 0);
    expect('frames.tooLarge', stats.frames.tooLarge, 0);
    expect('frames.unknownType', stats.frames.unknownType, 0);
    if (counts.notices > stats.notices.sent)
      this.ledger.violate(
        'stats',
        `${counts.notices} notices received, ${stats.notices.sent} sent`,
      );
    const leftover = (what: string, n: number) => {
      if (n !== 0) this.ledger.violate('leftover', `${what}: ${n}`);
    };
    leftover('proxy.pendingCalls', this.proxy.pendingCalls);
    leftover('proxy.watchedSignals', this.proxy.watchedSignals);
    leftover('handlers still running on providers', this.running());
    leftover('ledger entries open', this.ledger.open);
  }

  async close(): Promise<void> {
    for (const handle of [...this.live]) this.leave(handle);
    await this.settle();
    await this.proxy.close();
    await this.#transport.close();
  }

  #track(promise: Promise<void>): void {
    const tracked = promise
      .catch((error: unknown) => {
        this.churn.failed++;
        this.ledger.violate('unexpected', `provider join/leave failed: ${String(error)}`);
      })
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  async #join(kind: ProviderHandle['kind']): Promise<void> {
    const identity = `${kind}-${++this.#generation}`;
    const channel = new ObservedChannel(
      await this.#transport.providerChannel(identity),
      this.ledger,
    );
    let handle: ProviderHandle;
    if (kind === 'runtime') {
      const provider = runtimeProvider(this.ledger);
      handle = {
        identity,
        kind,
        raw: undefined,
        leftSeq: 0,
        leftAt: 0,
        running: () => provider.runningCalls,
        close: () => provider.close(),
      };
      this.#add(handle);
      await provider.connect(channel);
    } else {
      const raw = new RawProvider(channel, this.#transport.proxyIdentity, clock, this.ledger);
      handle = {
        identity,
        kind,
        raw,
        leftSeq: 0,
        leftAt: 0,
        running: () => raw.running,
        close: () => raw.close(),
      };
      this.#add(handle);
      await raw.start();
    }
  }

  #add(handle: ProviderHandle): void {
    this.#known.set(handle.identity, handle);
    this.live.push(handle);
    this.churn.joined++;
  }
}
