/** The bridge's token check on its own, for claims a well-behaved token minter never produces. */
import type { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import {
  authenticate,
  originAllowed,
  protocolRefusal,
  type UpgradeHeaders,
} from '../../../bridge/websocket/auth.js';
import { hostOf, parseHost } from '../../../bridge/websocket/host-header.js';

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

describe('parseHost: host[:port] and nothing else', () => {
  it.each([
    ['127.0.0.1', { hostname: '127.0.0.1', port: undefined }],
    ['127.0.0.1:8080', { hostname: '127.0.0.1', port: 8080 }],
    ['LocalHost:1', { hostname: 'localhost', port: 1 }],
    ['[::1]:65535', { hostname: '[::1]', port: 65535 }],
    ['[::1]', { hostname: '[::1]', port: undefined }],
    ['robot.example.', { hostname: 'robot.example.', port: undefined }],
  ])('reads %s', (header, parsed) => {
    expect(parseHost(header)).toEqual(parsed);
  });

  it.each([
    'evil@127.0.0.1',
    'evil:pw@127.0.0.1:80',
    '127.0.0.1@evil.example',
    '127.0.0.1/x',
    '127.0.0.1?x',
    '127.0.0.1#x',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:8a',
    '127.0.0.1:',
    '127.0.0.1:80:80',
    '[::1',
    '[::1]x',
    '[not-v6]',
    '-evil',
    'a b',
    '',
    undefined,
    'a'.repeat(301),
  ])('refuses %s', (header) => {
    expect(parseHost(header)).toBeUndefined();
  });

  it('hostOf leaves out the default port of the scheme, as URL.host does', () => {
    expect(hostOf({ hostname: 'a', port: 80 }, 'http:')).toBe('a');
    expect(hostOf({ hostname: 'a', port: 443 }, 'https:')).toBe('a');
    expect(hostOf({ hostname: 'a', port: 443 }, 'http:')).toBe('a:443');
  });
});

function upgradeRequest(headers: Record<string, string>): UpgradeHeaders {
  return { headers };
}

describe('originAllowed (default: the page is on the host the request was sent to)', () => {
  it('a Host with userinfo matches no origin, not even the one its lenient parse names', () => {
    const request = upgradeRequest({
      host: 'evil@127.0.0.1:8080',
      origin: 'http://127.0.0.1:8080',
    });
    expect(originAllowed(request, undefined)).toBe(false);
    const plain = upgradeRequest({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' });
    expect(originAllowed(plain, undefined)).toBe(true);
  });
});

describe('protocolRefusal: an offer must include toolproxy', () => {
  it.each([
    [undefined, false],
    ['toolproxy', false],
    ['toolproxy, bearer.abc', false],
    ['bearer.abc, toolproxy', false],
    ['bearer.abc', true],
    ['json', true],
    ['', true],
  ])('%s: refused %s', (offer, refused) => {
    const request = upgradeRequest(offer === undefined ? {} : { 'sec-websocket-protocol': offer });
    expect(protocolRefusal(request) !== undefined).toBe(refused);
  });
});
