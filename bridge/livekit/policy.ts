/**
 * Which participants may offer tools. In a LiveKit room anyone holding a token can join, and a
 * tool's description reaches the LLM, so by default only participants whose token carries the
 * attribute `toolproxy.provider=true` may register tools. Attributes come from the token minted by
 * the application server; a participant cannot set its own unless granted `canUpdateOwnMetadata`
 * (do not grant it to providers).
 */
import type { PeerInfo } from '../../src/seam.js';
import type { ProviderPolicy } from './room-port.js';

export const PROVIDER_ATTRIBUTE = 'toolproxy.provider';

/**
 * The proxy's own names (the WebSocket bridge's and the LiveKit agent's defaults). A provider under
 * one of them would pass for the proxy in logs and to other participants, so none may offer tools
 * (and the WebSocket bridge refuses the connection outright).
 */
export const RESERVED_IDENTITIES: readonly string[] = ['toolproxy', 'toolproxy-agent'];

export function isReservedIdentity(identity: string, own: string | undefined): boolean {
  return identity === own || RESERVED_IDENTITIES.includes(identity);
}

export type ProviderPolicyOption =
  /** Only participants whose token has `toolproxy.provider=true` (the default). */
  | 'attribute'
  /** Any participant except other agents (a trusted room, e.g. your own robot fleet). */
  | 'any'
  /** These identities only. */
  | readonly string[]
  | ProviderPolicy;

/** The policy `option` names; never true for a reserved identity (or `ownIdentity`). */
export function providerPolicy(
  option: ProviderPolicyOption = 'attribute',
  ownIdentity?: string,
): ProviderPolicy {
  const allowed = basePolicy(option);
  return (peer: PeerInfo) => !isReservedIdentity(peer.identity, ownIdentity) && allowed(peer);
}

function basePolicy(option: ProviderPolicyOption): ProviderPolicy {
  if (typeof option === 'function') return option;
  if (option === 'attribute')
    return (peer: PeerInfo) => peer.attributes?.[PROVIDER_ATTRIBUTE] === 'true';
  if (option === 'any') return (peer: PeerInfo) => peer.isAgent !== true;
  const allowed = new Set(option);
  return (peer: PeerInfo) => allowed.has(peer.identity);
}
