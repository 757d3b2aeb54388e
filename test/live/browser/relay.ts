/**
 * The test's side of the browser relay: Debian's Chromium (playwright-core), one page per
 * participant running page.ts, and a ToolChannel in the test process that forwards to the page's
 * bridge channel. Peers are mirrored from the page's events, since `peers()` must answer at once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  type ChannelHandlers,
  FrameTooLargeError,
  type PeerInfo,
  type ToolChannel,
} from '../../../src/shared/channel.js';
import {
  API_GLOBAL,
  EVENT_BINDING,
  type RelayApi,
  type RelayEvent,
  type Seat,
} from './relay-api.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

/**
 * Chromium in the live suite's namespace: no sandbox (it runs as root in a user namespace), no
 * background traffic of its own. Without media permission Chromium offers only the address of the
 * default route as an ICE candidate, and the namespace has no route: the fake media UI grants that
 * permission, so it gathers host candidates on every interface, here the namespace's 198.18.0.1
 * (the server's node_ip).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
    ],
  });
}

export interface RelayPageServer {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Serves the relay page on 127.0.0.1. A real loopback origin, not one playwright makes up: Chromium's
 * local network access checks block a page of unknown address space from reaching the server.
 */
export async function serveRelayPage(): Promise<RelayPageServer> {
  const script = await bundleRelayPage();
  const html = '<!doctype html><title>relay</title><script src="/relay.js"></script>';
  const server = createServer((request, response) => {
    const isScript = request.url === '/relay.js';
    response
      .writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html' })
      .end(isScript ? script : html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Bundles page.ts (livekit-client, the bridge's browser side) as one classic script. */
async function bundleRelayPage(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    conditions: ['toolproxy-source'],
    write: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error('esbuild produced no relay page');
  return script;
}

type Result<K extends keyof RelayApi> = Awaited<ReturnType<RelayApi[K]>>;

/** One participant in Chromium: a page holding one livekit-client room. */
export class RelaySeat {
  readonly #page: Page;
  #identity = '';
  #peers: readonly PeerInfo[] = [];
  #handlers: ChannelHandlers | undefined;
  readonly #watchers = new Set<(peers: readonly PeerInfo[]) => void>();

  private constructor(page: Page) {
    this.#page = page;
  }

  static async open(browser: Browser, origin: string): Promise<RelaySeat> {
    const page = await browser.newPage();
    const seat = new RelaySeat(page);
    await page.exposeFunction(EVENT_BINDING, (event: RelayEvent) => seat.#dispatch(event));
    await page.goto(`${origin}/relay`);
    await page.waitForFunction((name) => name in window, API_GLOBAL);
    return seat;
  }

  get identity(): string {
    return this.#identity;
  }

  peers(): readonly PeerInfo[] {
    return this.#peers;
  }

  /** Called with the page's peers whenever they change; returns the function that stops. */
  watchPeers(watcher: (peers: readonly PeerInfo[]) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  async join(url: string, token: string, seat: Seat): Promise<void> {
    const { identity, peers } = await this.#call('join', url, token, seat);
    this.#identity = identity;
    this.#setPeers(peers);
  }

  /** The page's channel, as a ToolChannel here. */
  channel(): ToolChannel {
    return {
      identity: this.#identity,
      start: async (handlers) => {
        this.#handlers = handlers;
        this.#setPeers(await this.#call('start'));
      },
      peers: () => this.#peers,
      send: (to, text) => this.#call('send', to, text).catch(rethrowFromPage),
      close: async () => {
        this.#handlers = undefined;
        await this.#call('close');
      },
    };
  }

  simulate(scenario: Parameters<RelayApi['simulate']>[0]): Promise<void> {
    return this.#call('simulate', scenario);
  }

  /** Leaves the room (if still in it) and closes the page. */
  async dispose(): Promise<void> {
    await this.#call('leave').catch(() => {});
    await this.#page.close().catch(() => {});
  }

  #call<K extends keyof RelayApi>(method: K, ...args: Parameters<RelayApi[K]>): Promise<Result<K>> {
    return this.#page.evaluate(
      ({ api, name, values }) => {
        const relay = (window as unknown as Record<string, Record<string, unknown>>)[api];
        const fn = relay?.[name] as (...all: unknown[]) => unknown;
        return fn(...values);
      },
      { api: API_GLOBAL, name: method, values: args as unknown[] },
    ) as Promise<Result<K>>;
  }

  #setPeers(peers: readonly PeerInfo[]): void {
    this.#peers = peers;
    for (const watcher of this.#watchers) watcher(peers);
  }

  #dispatch(event: RelayEvent): void {
    const handlers = this.#handlers;
    switch (event.kind) {
      case 'frame':
        handlers?.onFrame(event.from, event.text);
        return;
      case 'joined':
        this.#setPeers(event.peers);
        handlers?.onPeerJoined(event.peer);
        return;
      case 'left':
        this.#setPeers(event.peers);
        handlers?.onPeerLeft(event.peer);
        return;
      case 'connected':
        this.#setPeers(event.peers);
        handlers?.onConnected(event.resumed ? { resumed: true } : undefined);
        return;
      case 'closed':
        handlers?.onClosed(event.error === undefined ? undefined : new Error(event.error));
        return;
    }
  }
}

/**
 * `page.evaluate` hands back only an error's message: a frame the page's channel refused as too
 * large is that error again here, as the proxy would have seen it had the channel been in Node.
 */
function rethrowFromPage(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  const tooLarge = /frame of (\d+) bytes exceeds the maximum of (\d+) bytes/.exec(message);
  if (tooLarge === null) throw error;
  throw new FrameTooLargeError(Number(tooLarge[1]), Number(tooLarge[2]));
}
