/**
 * Where `serve` gets its settings: flags first, then the environment. With no signing key set it
 * makes a development pair, so the browser page works out of the box on localhost.
 */
import { randomBytes } from 'node:crypto';
import { LOG_FORMATS, type LogFormat } from './log-destination.js';

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
  /**
   * The CLI's log lines: `json`, `pretty` for people, or `auto` (the default): pretty when stderr is
   * a terminal. `startServe` takes a logger and ignores this.
   */
  logFormat?: LogFormat;
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
  /** `--mcp-max-sessions` / `TOOLPROXY_MCP_MAX_SESSIONS`; unset: the endpoint's default (64). */
  mcpMaxSessions?: number | undefined;
  /** `--mcp-session-idle` / `TOOLPROXY_MCP_SESSION_IDLE_MS`; unset: the endpoint's default (10 min). */
  mcpSessionIdleMs?: number | undefined;
  /**
   * `--providers` / `TOOLPROXY_PROVIDERS`: who may offer tools (LiveKit room and WebSocket bridge
   * alike). `attribute` (the default): tokens with `toolproxy.provider=true`; `any`: every
   * participant that is not an agent; a list: these identities only. See SECURITY.md.
   */
  providers?: ServeProviders | undefined;
}

/** Who may offer tools to `serve`; a `ProviderPolicyOption` of the bridges. */
export type ServeProviders = 'attribute' | 'any' | readonly string[];

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

export interface ServeFlags {
  host?: string;
  port?: string;
  logLevel?: string;
  logFormat?: string;
  mcp?: string;
  room?: string;
  mcpMaxSessions?: string;
  mcpSessionIdle?: string;
  providers?: string;
}

function logFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === '') return 'auto';
  const format = LOG_FORMATS.find((known) => known === value);
  if (format === undefined)
    throw new Error(`--log-format must be ${LOG_FORMATS.join(', ')}, not ${value}`);
  return format;
}

/** `serve`'s settings from its flags (the CLI's strings, e.g. `{ port: '0' }`) and environment. */
export function serveConfig(flags: ServeFlags = {}, env: Env = process.env): ServeConfig {
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
    logFormat: logFormat(flags.logFormat ?? env.TOOLPROXY_LOG_FORMAT),
    mcp,
    room: flags.room ?? env.LIVEKIT_ROOM ?? 'toolproxy',
    keys,
    httpSecret: env.TOOLPROXY_HOOK_SECRET === '' ? undefined : env.TOOLPROXY_HOOK_SECRET,
    livekit,
    mcpMaxSessions: setting(
      [flags.mcpMaxSessions, '--mcp-max-sessions'],
      [env, 'TOOLPROXY_MCP_MAX_SESSIONS'],
      SESSION_COUNT,
    ),
    mcpSessionIdleMs: setting(
      [flags.mcpSessionIdle, '--mcp-session-idle'],
      [env, 'TOOLPROXY_MCP_SESSION_IDLE_MS'],
      IDLE_DURATION,
    ),
    providers: providerSetting(flags.providers, env.TOOLPROXY_PROVIDERS),
  };
}

const PROVIDER_FORMS = 'attribute, any, or identities:ID[,ID...]';
/** A participant identity as `--providers identities:` takes it: no separator, space or control. */
const IDENTITY = /^[^\s,\p{C}]{1,128}$/u;

/** `--providers`, else `TOOLPROXY_PROVIDERS` (empty: unset); unset is `attribute`. */
function providerSetting(flag: string | undefined, env: string | undefined): ServeProviders {
  const [text, from] = flag !== undefined ? [flag, '--providers'] : [env, 'TOOLPROXY_PROVIDERS'];
  if (text === undefined || (text === '' && from === 'TOOLPROXY_PROVIDERS')) return 'attribute';
  const value = text.trim();
  if (value === 'attribute' || value === 'any') return value;
  if (!value.startsWith('identities:'))
    throw new Error(`${from} must be ${PROVIDER_FORMS}, not "${text}"`);
  const list = value.slice('identities:'.length).trim();
  if (list === '')
    throw new Error(`${from} identities: names no identity; it must be ${PROVIDER_FORMS}`);
  const identities = list.split(',').map((identity) => identity.trim());
  for (const identity of identities) {
    if (!IDENTITY.test(identity)) {
      throw new Error(
        `${from}: ${JSON.stringify(identity)} is not a participant identity (1 to 128 characters, no spaces, commas or control characters); it must be ${PROVIDER_FORMS}`,
      );
    }
  }
  return [...new Set(identities)];
}

/** The policy as the flag spells it, for logs. */
export function describeProviders(providers: ServeProviders | undefined): string {
  if (providers === undefined) return 'attribute';
  return typeof providers === 'string' ? providers : `identities:${providers.join(',')}`;
}

/** A flag, else its environment variable, parsed; undefined when neither is set (or empty). */
function setting(
  [flag, flagName]: [string | undefined, string],
  [env, envName]: [Env, string],
  rule: { parse: (text: string) => number | undefined; says: string },
): number | undefined {
  const [text, from] = flag !== undefined ? [flag, flagName] : [env[envName], envName];
  if (text === undefined || (text === '' && from === envName)) return undefined;
  const value = rule.parse(text.trim());
  if (value === undefined) throw new Error(`${from} must be ${rule.says}, not "${text}"`);
  return value;
}

const SESSION_COUNT = {
  says: 'a positive whole number',
  parse: (text: string) => {
    const value = /^\d+$/.test(text) ? Number(text) : 0;
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  },
};

/** The longest idle time a session can have (Node's timers fire at once beyond it: ~24.8 days). */
const MAX_IDLE_MS = 2_147_483_647;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Milliseconds (`600000`) or a duration (`10m`, `90s`, `1.5h`, `500ms`). */
const IDLE_DURATION = {
  says: 'a duration from 1 ms to 24 days: milliseconds, or a number with ms, s, m or h (10m)',
  parse: (text: string) => {
    const match = DURATION.exec(text);
    if (match === null) return undefined;
    const ms = Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS]);
    return ms > 0 && ms <= MAX_IDLE_MS ? ms : undefined;
  },
};

/** Loopback hosts: the only ones where unauthenticated hook posts and page tokens are allowed. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}
