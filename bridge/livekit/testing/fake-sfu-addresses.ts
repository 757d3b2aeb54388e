/** The URLs a fake server listens on, and what a connect to any other URL fails with. */
import { FakeConnectError } from './fake-protocol.js';

export class ListenAddresses {
  readonly #keys = new Set<string>();

  /** Throws for anything but a ws:// or wss:// URL. */
  add(url: string): void {
    const key = urlKey(url);
    if (key === undefined) throw new Error(`not a ws:// or wss:// URL: ${url}`);
    this.#keys.add(key);
  }

  accepts(url: string): boolean {
    const key = urlKey(url);
    return key !== undefined && this.#keys.has(key);
  }
}

/** The error rtc-node gives when nothing listens at `url`. */
export function connectionRefused(url: string): FakeConnectError {
  return new FakeConnectError(
    'unreachable',
    `failed to connect to ${url}: engine: signal failure: transport connection error: IO error: Connection refused (os error 111)`,
  );
}

/** 'ws://host/path' without a trailing slash, or undefined for anything but ws(s) URLs. */
function urlKey(url: string): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return undefined;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
