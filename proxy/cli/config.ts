/**
 * Where `serve` gets its settings: flags first, then the environment. With no signing key set it
 * makes a development pair, so the browser page works out of the box on localhost.
 */
import { randomBytes } from 'node:crypto';

export interface SigningKeys {
  apiKey: string;
  apiSecret: string;
  /** True when made up at start (no LIVEKIT_* / TOOLPROXY_* key in the environment). */
  generated: boolean;
}

export interface LiveKitTarget {
  url: string;
  token?: string;
  apiKey?: string;
  apiSecret?: string;
}

export interface ServeConfig {
  host: string;
  port: number;
  logLevel: string;
  mcp: 'http' | 'stdio';
  room: string;
  keys: SigningKeys;
  /**
   * `TOOLPROXY_HOOK_SECRET`: when set, `/hooks/*` and `/mcp` require `Authorization: Bearer <it>`
   * on any address. When not set, they require the signing secret off loopback, nothing on it.
   */
  httpSecret?: string | undefined;
  /** Set when LIVEKIT_URL is: join that room instead of serving the embedded WebSocket bridge. */
  livekit: LiveKitTarget | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

export function signingKeys(env: Env): SigningKeys | undefined {
  const apiKey = env.LIVEKIT_API_KEY ?? env.TOOLPROXY_API_KEY;
  const apiSecret = env.LIVEKIT_API_SECRET ?? env.TOOLPROXY_API_SECRET;
  if (apiKey === undefined || apiSecret === undefined || apiKey === '' || apiSecret === '')
    return undefined;
  return { apiKey, apiSecret, generated: false };
}

export function developmentKeys(): SigningKeys {
  return {
    apiKey: `dev-${randomBytes(4).toString('hex')}`,
    apiSecret: randomBytes(32).toString('hex'),
    generated: true,
  };
}

export function serveConfig(
  flags: { host?: string; port?: string; logLevel?: string; mcp?: string; room?: string },
  env: Env,
): ServeConfig {
  const port = Number(flags.port ?? env.TOOLPROXY_PORT ?? 7300);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port must be 0..65535, not ${flags.port}`);
  const mcp = flags.mcp ?? 'http';
  if (mcp !== 'http' && mcp !== 'stdio') throw new Error(`--mcp must be http or stdio, not ${mcp}`);
  const keys = signingKeys(env) ?? developmentKeys();
  const url = env.LIVEKIT_URL;
  const livekit =
    url === undefined || url === ''
      ? undefined
      : {
          url,
          ...(env.LIVEKIT_TOKEN === undefined
            ? { apiKey: keys.apiKey, apiSecret: keys.apiSecret }
            : { token: env.LIVEKIT_TOKEN }),
        };
  if (livekit !== undefined && !('token' in livekit) && keys.generated) {
    throw new Error(
      'LIVEKIT_URL is set: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or LIVEKIT_TOKEN) too',
    );
  }
  return {
    host: flags.host ?? env.TOOLPROXY_HOST ?? '127.0.0.1',
    port,
    logLevel: flags.logLevel ?? env.TOOLPROXY_LOG_LEVEL ?? 'info',
    mcp,
    room: flags.room ?? env.LIVEKIT_ROOM ?? 'toolproxy',
    keys,
    httpSecret: env.TOOLPROXY_HOOK_SECRET === '' ? undefined : env.TOOLPROXY_HOOK_SECRET,
    livekit,
  };
}

/** Loopback hosts: the only ones where unauthenticated hook posts and page tokens are allowed. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}
