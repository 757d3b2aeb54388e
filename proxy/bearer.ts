/** The shared secret of serve's HTTP routes (hooks, MCP): `Authorization: Bearer <secret>`, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * True when `header` is `Bearer <secret>`. Both sides are hashed first, so the comparison takes
 * the same time whatever the length or content of the presented token.
 */
export function bearerMatches(header: string | undefined, secret: string): boolean {
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  const presented = digest(token ?? '');
  const expected = digest(secret);
  return timingSafeEqual(presented, expected) && token !== undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
