/** The bridge's token check on its own, for claims a well-behaved token minter never produces. */
import type { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../bridge/websocket/auth.js';

function verifierOf(claims: Record<string, unknown>): TokenVerifier {
  return { verify: () => Promise.resolve(claims) } as unknown as TokenVerifier;
}

const joinLab = { video: { roomJoin: true, room: 'lab' } };

describe('authenticate', () => {
  it.each([
    ['no subject', { ...joinLab }],
    ['an empty subject', { ...joinLab, sub: '' }],
  ])('refuses a verified token with %s: there is no identity to trust', async (_, claims) => {
    await expect(authenticate(verifierOf(claims), 'token', 'lab')).resolves.toEqual({
      ok: false,
      status: 401,
      reason: 'access token has no identity',
    });
  });

  it('keeps only string attributes, and never takes isAgent from the token', async () => {
    const claims = {
      ...joinLab,
      sub: 'robot',
      kind: 'agent',
      attributes: { 'toolproxy.provider': 'true', n: 1, nested: { a: 'b' } },
    };
    await expect(authenticate(verifierOf(claims), 'token', 'lab')).resolves.toEqual({
      ok: true,
      peer: { identity: 'robot', isAgent: false, attributes: { 'toolproxy.provider': 'true' } },
    });
  });
});
