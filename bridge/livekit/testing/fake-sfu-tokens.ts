/**
 * The fake server's access tokens: minted with livekit-server-sdk's `AccessToken`, checked with its
 * `TokenVerifier`, and read for the room and the participant's identity, name, metadata,
 * attributes and kind, as the real server does.
 */
import { AccessToken, type ClaimGrants, type TokenVerifier } from 'livekit-server-sdk';
import type { VideoGrant } from 'livekit-server-sdk';
import { FakeConnectError, type FakeParticipantInfo } from './fake-protocol.js';

export interface FakeTokenOptions {
  identity: string;
  room: string;
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  /** The participant kind claim, e.g. 'agent'. */
  kind?: string;
  /** Token lifetime: seconds or a zeit/ms string. Default '6h'. */
  ttl?: number | string;
  /** Overrides of the default grant `{ roomJoin: true, room, canPublish, canSubscribe, canPublishData }`. */
  grant?: Partial<VideoGrant>;
}

/** An unsigned join token for `options`; `toJwt()` signs it. */
export function joinToken(
  apiKey: string,
  apiSecret: string,
  options: FakeTokenOptions,
): AccessToken {
  const { identity, room, grant, kind, ...rest } = options;
  const token = new AccessToken(apiKey, apiSecret, { identity, ...rest });
  token.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, ...grant });
  if (kind !== undefined) token.kind = kind;
  return token;
}

/** The token's claims; rejects with `FakeConnectError('unauthorized')` if it does not verify. */
export function verifyToken(
  verifier: TokenVerifier,
  url: string,
  token: string,
): Promise<ClaimGrants> {
  return verifier.verify(token).catch((e: unknown) => {
    throw new FakeConnectError('unauthorized', `${url}: 401 Unauthorized: ${String(e)}`);
  });
}

/** The room to join and who joins it; throws `FakeConnectError('unauthorized')` without a grant. */
export function joinClaims(
  url: string,
  claims: ClaimGrants,
): { room: string; participant: Omit<FakeParticipantInfo, 'sid'> } {
  const room = claims.video?.room;
  const identity = claims.sub;
  if (claims.video?.roomJoin !== true || room === undefined || room === '' || !identity)
    throw new FakeConnectError('unauthorized', `${url}: 401 Unauthorized: no roomJoin grant`);
  return {
    room,
    participant: {
      identity,
      name: claims.name ?? '',
      metadata: claims.metadata ?? '',
      attributes: { ...claims.attributes },
      kind: claims.kind ?? '',
    },
  };
}
