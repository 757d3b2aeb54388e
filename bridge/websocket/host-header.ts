/**
 * The `Host` header, parsed strictly: `host[:port]` and nothing else. `new URL('http://' + host)`
 * is too lenient for a guard: it takes `evil@127.0.0.1` as userinfo and reports 127.0.0.1, and it
 * reads a path or query after the name. A header that is not plainly a host and port is refused.
 */
import { isIPv6 } from 'node:net';

export interface ParsedHost {
  /** Lower-cased; an IPv6 address keeps its brackets (`[::1]`), as `URL.hostname` does. */
  readonly hostname: string;
  readonly port: number | undefined;
}

const REG_NAME = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9.])?$/;
const PORT = /^[0-9]{1,5}$/;

export function parseHost(header: string | undefined): ParsedHost | undefined {
  if (header === undefined || header === '' || header.length > 300) return undefined;
  const value = header.toLowerCase();
  let hostname: string;
  let rest: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || !isIPv6(value.slice(1, close))) return undefined;
    hostname = value.slice(0, close + 1);
    rest = value.slice(close + 1);
  } else {
    const colon = value.indexOf(':');
    hostname = colon < 0 ? value : value.slice(0, colon);
    rest = colon < 0 ? '' : value.slice(colon);
    if (!REG_NAME.test(hostname)) return undefined;
  }
  if (rest === '') return { hostname, port: undefined };
  const digits = rest.slice(1);
  if (!rest.startsWith(':') || !PORT.test(digits)) return undefined;
  const port = Number(digits);
  return port >= 1 && port <= 65_535 ? { hostname, port } : undefined;
}

/** `host[:port]` as a URL's `host` would show it for `scheme` (a default port is left out). */
export function hostOf(parsed: ParsedHost, scheme: 'http:' | 'https:'): string {
  const defaultPort = scheme === 'https:' ? 443 : 80;
  return parsed.port === undefined || parsed.port === defaultPort
    ? parsed.hostname
    : `${parsed.hostname}:${parsed.port}`;
}
