/**
 * Who may open a bridge connection, decided from the HTTP upgrade request alone (before the
 * handshake completes, so before any frame is read): the browser origin, then a LiveKit access
 * token for the bridge's room. The identity is the token's subject, never anything a frame says.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TokenVerifier } from 'livekit-server-sdk';
import type { PeerInfo } from '../../src/seam.js';
import { hostOf, parseHost } from './host-header.js';
import { BEARER_PREFIX, SUBPROTOCOL } from './wire.js';

/** What the upgrade checks read of a request: its headers alone. */
export type UpgradeHeaders = Pick<IncomingMessage, 'headers'>;

export type OriginPolicy = readonly string[] | ((origin: string) => boolean);

export type Verdict = { ok: true; peer: PeerInfo } | { ok: false; status: number; reason: string };

/**
 * Requests without an `Origin` header come from programs, not pages, and pass. A page's origin must
 * be allowed by `policy`, or by default be http(s) on the very host the request was sent to.
 */
export function originAllowed(request: UpgradeHeaders, policy: OriginPolicy | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (typeof policy === 'function') return policy(origin);
  if (policy !== undefined) return policy.includes(origin);
  return sameHost(origin, request.headers.host);
}

function sameHost(origin: string, header: string | undefined): boolean {
  const host = parseHost(header);
  if (host === undefined) return false;
  try {
    const page = new URL(origin);
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return false;
    // With the page's scheme, so default ports compare equal (`example.com:443`).
    return hostOf(host, page.protocol) === page.host;
  } catch {
    return false;
  }
}

/** The token from the `token` query parameter, or from a `bearer.<token>` subprotocol. */
export function offeredToken(request: UpgradeHeaders, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query !== null && query !== '') return query;
  const offered = request.headers['sec-websocket-protocol'];
  for (const protocol of (offered ?? '').split(',')) {
    const trimmed = protocol.trim();
    if (trimmed.startsWith(BEARER_PREFIX) && trimmed.length > BEARER_PREFIX.length) {
      return trimmed.slice(BEARER_PREFIX.length);
    }
  }
  return undefined;
}

/**
 * Why a subprotocol offer is refused, if it is: a client that offers any must offer `toolproxy`,
 * the only one the handshake selects. (Echoing a `bearer.<token>` offered alone would send the
 * token back in the 101 response, into logs and proxies that record response headers.)
 */
export function protocolRefusal(request: UpgradeHeaders): string | undefined {
  const offered = request.headers['sec-websocket-protocol'];
  if (offered === undefined) return undefined;
  const protocols = offered.split(',').map((protocol) => protocol.trim());
  if (protocols.includes(SUBPROTOCOL)) return undefined;
  return `offer the "${SUBPROTOCOL}" subprotocol next to "${BEARER_PREFIX}<token>" (or send no subprotocol and the token in the "token" query parameter)`;
}

/** The subprotocol the handshake answers with: `toolproxy` only (see `protocolRefusal`). */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false;
}

/** Checks signature, expiry and the room grant; the peer is the token's subject. */
export async function authenticate(
  verifier: TokenVerifier,
  token: string | undefined,
  room: string,
): Promise<Verdict> {
  if (token === undefined) return refused(401, 'missing access token');
  let claims: Awaited<ReturnType<TokenVerifier['verify']>>;
  try {
    claims = await verifier.verify(token);
  } catch (error) {
    const expired = error instanceof Error && 'code' in error && error.code === 'ERR_JWT_EXPIRED';
    return refused(401, expired ? 'access token expired' : 'invalid access token');
  }
  if (claims.video?.roomJoin !== true) return refused(401, 'access token does not grant roomJoin');
  if (claims.video.room !== room) return refused(401, `access token is not for room "${room}"`);
  const identity = claims.sub;
  if (identity === undefined || identity === '')
    return refused(401, 'access token has no identity');
  return { ok: true, peer: { identity, isAgent: false, ...attributesOf(claims.attributes) } };
}

function attributesOf(claim: unknown): { attributes?: Readonly<Record<string, string>> } {
  if (typeof claim !== 'object' || claim === null) return {};
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(claim)) {
    if (typeof value === 'string') attributes[key] = value;
  }
  return Object.keys(attributes).length === 0 ? {} : { attributes };
}

function refused(status: number, reason: string): Verdict {
  return { ok: false, status, reason };
}

/** Answers the upgrade request with an HTTP error and a short plain-text reason, then hangs up. */
export function refuse(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}
