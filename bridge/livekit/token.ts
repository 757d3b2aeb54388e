/** Access tokens, minted with livekit-server-sdk: the proxy's own, and providers'. */
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { PROVIDER_ATTRIBUTE } from './policy.js';

export interface TokenOptions {
  apiKey: string;
  apiSecret: string;
  room: string;
  identity: string;
  name?: string;
  /** Lifetime, as livekit-server-sdk takes it: seconds or a string such as '6h'. Default '6h'. */
  ttl?: number | string;
}

/** Both kinds of participant exchange data only: no media publishing. */
function dataOnlyToken(options: TokenOptions, attributes?: Record<string, string>): AccessToken {
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    identity: options.identity,
    name: options.name ?? options.identity,
    ttl: options.ttl ?? '6h',
    ...(attributes === undefined ? {} : { attributes }),
  });
  const grant: VideoGrant = {
    roomJoin: true,
    room: options.room,
    canPublish: false,
    canPublishData: true,
    canSubscribe: true,
    canUpdateOwnMetadata: false,
  };
  token.addGrant(grant);
  return token;
}

/** The proxy joins as a participant of kind `agent` (providers register with agents). */
export function mintAgentToken(options: TokenOptions): Promise<string> {
  const token = dataOnlyToken(options);
  token.kind = 'agent';
  return token.toJwt();
}

/**
 * A provider's token, marked `toolproxy.provider=true` (what the default provider policy asks for)
 * and unable to change its own attributes.
 */
export function mintProviderToken(options: TokenOptions): Promise<string> {
  return dataOnlyToken(options, { [PROVIDER_ATTRIBUTE]: 'true' }).toJwt();
}
