/** Access tokens, minted with livekit-server-sdk: the proxy's own, and providers'. */
import { AccessToken } from 'livekit-server-sdk';
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

/** The proxy joins as an agent that exchanges data only: no media publishing. */
export function mintAgentToken(options: TokenOptions): Promise<string> {
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    identity: options.identity,
    name: options.name ?? options.identity,
    ttl: options.ttl ?? '6h',
  });
  token.kind = 'agent';
  token.addGrant({
    roomJoin: true,
    room: options.room,
    canPublish: false,
    canPublishData: true,
    canSubscribe: true,
  });
  return token.toJwt();
}

/**
 * A provider's token: data only, marked `toolproxy.provider=true` (what the default provider policy
 * asks for), and unable to change its own attributes.
 */
export function mintProviderToken(options: TokenOptions): Promise<string> {
  const token = new AccessToken(options.apiKey, options.apiSecret, {
    identity: options.identity,
    name: options.name ?? options.identity,
    ttl: options.ttl ?? '6h',
    attributes: { [PROVIDER_ATTRIBUTE]: 'true' },
  });
  token.addGrant({
    roomJoin: true,
    room: options.room,
    canPublish: false,
    canPublishData: true,
    canSubscribe: true,
    canUpdateOwnMetadata: false,
  });
  return token.toJwt();
}
