/**
 * The checks an upgrade request passes, in order, before the bridge completes its handshake:
 * origin, subprotocol offer, access token, then an identity not reserved for the proxy. A request
 * that fails one is refused with an HTTP error and logged; no frame is ever read from it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TokenVerifier } from 'livekit-server-sdk';
import type { Logger, PeerInfo } from '../../src/seam.js';
import {
  authenticate,
  offeredToken,
  type OriginPolicy,
  originAllowed,
  protocolRefusal,
  refuse,
} from './auth.js';
import { isReservedIdentity } from '../livekit/policy.js';

export interface AdmissionRules {
  readonly verifier: TokenVerifier;
  readonly room: string;
  readonly origins: OriginPolicy | undefined;
  /** The proxy's own identity, which no provider may take. */
  readonly proxyIdentity: string;
  readonly logger: Logger;
}

/** The peer the request authenticates as, or undefined once the socket has been refused. */
export async function screenUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  url: URL,
  rules: AdmissionRules,
): Promise<PeerInfo | undefined> {
  const { logger } = rules;
  const from = { address: request.socket.remoteAddress, origin: request.headers.origin };
  if (!originAllowed(request, rules.origins)) {
    logger.warn(from, 'bridge connection refused: origin not allowed');
    refuse(socket, 403, 'origin not allowed');
    return undefined;
  }
  const badOffer = protocolRefusal(request);
  if (badOffer !== undefined) {
    logger.warn({ ...from, reason: badOffer }, 'bridge connection refused');
    refuse(socket, 400, badOffer);
    return undefined;
  }
  const verdict = await authenticate(rules.verifier, offeredToken(request, url), rules.room);
  if (!verdict.ok) {
    logger.warn({ ...from, reason: verdict.reason }, 'bridge connection refused');
    refuse(socket, verdict.status, verdict.reason);
    return undefined;
  }
  const { identity } = verdict.peer;
  if (isReservedIdentity(identity, rules.proxyIdentity)) {
    const reason = `identity "${identity}" is reserved for the proxy`;
    logger.warn({ ...from, identity, reason }, 'bridge connection refused');
    refuse(socket, 403, reason);
    return undefined;
  }
  return verdict.peer;
}

/** The request's URL, or undefined when it does not parse (not the bridge's, then). */
export function requestUrl(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://bridge.invalid');
  } catch {
    return undefined;
  }
}
