/**
 * One HTTP server for everything `serve` offers: `/mcp` (MCP Streamable HTTP), `POST /hooks/<event>`,
 * `GET /healthz`, the WebSocket bridge's upgrade at `/bridge`, and in embedded mode the page at `/`
 * with `/token` handing provider tokens to pages (loopback only).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostOf, parseHost } from '../../bridge/websocket/host-header.js';
import type { HookIngress } from '../hooks/index.js';
import type { McpHttpEndpoint } from '../mcp/index.js';
import type { PageAssets } from './page.js';

export interface Routes {
  mcp: McpHttpEndpoint;
  hooks: HookIngress;
  health: () => Record<string, unknown>;
  page: PageAssets | undefined;
  /**
   * Mints a provider token for a page, for an identity `/token` chose; undefined where pages may
   * not get tokens.
   */
  pageToken: ((identity: string) => Promise<string>) | undefined;
  /** Which Host headers to serve; on loopback only loopback names (DNS-rebinding defence). */
  hostAllowed: (hostname: string) => boolean;
}

/** The response header that tells a page which identity its token is for. */
export const PAGE_IDENTITY_HEADER = 'x-toolproxy-identity';

const NAMED_IDENTITY_REFUSED =
  '/token mints tokens for fresh page identities only (page-<random>) and takes no identity ' +
  'parameter: any local process can fetch it, so a chosen name would let it take over that ' +
  'provider. For a named identity, mint a token signed with the API secret: ' +
  '`toolproxy token --identity NAME` (or mintProviderToken).\n';

/** `page-` and 16 base64url characters (96 random bits): no two pages, nor a guess, collide. */
export function freshPageIdentity(): string {
  return `page-${randomBytes(12).toString('base64url')}`;
}

export function route(routes: Routes) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    handle(routes, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
}

async function handle(
  routes: Routes,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://toolproxy');
  const path = url.pathname;
  // A web page must not drive the proxy from the user's browser: another site (Origin) or a name
  // rebound to this address (Host) is refused before any route runs.
  if (!hostAndOriginAllowed(routes, request)) {
    return send(response, 403, 'text/plain', 'forbidden host or origin');
  }
  if (path === '/mcp') return routes.mcp.handle(request, response);
  // Not decoded here: the ingress decodes the event name once (a second decode would turn
  // `session%253Aend` into `session:end`).
  if (path.startsWith('/hooks/'))
    return routes.hooks.handle(request, response, path.slice('/hooks/'.length));
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return send(response, 405, 'text/plain', 'method not allowed');
  if (path === '/healthz')
    return send(response, 200, 'application/json', JSON.stringify(routes.health()));
  if (routes.page !== undefined && path === '/')
    return send(response, 200, 'text/html; charset=utf-8', routes.page.html);
  if (routes.page !== undefined && path === '/page.js')
    return send(response, 200, 'text/javascript; charset=utf-8', routes.page.script);
  if (path === '/token' && routes.pageToken !== undefined) {
    // The identity is the proxy's choice: a caller that could name one could displace that provider.
    if (url.searchParams.has('identity'))
      return send(response, 400, 'text/plain', NAMED_IDENTITY_REFUSED);
    const identity = freshPageIdentity();
    const token = await routes.pageToken(identity);
    return send(response, 200, 'text/plain', token, { [PAGE_IDENTITY_HEADER]: identity });
  }
  send(response, 404, 'text/plain', 'not found');
}

export function hostAndOriginAllowed(
  routes: Pick<Routes, 'hostAllowed'>,
  request: IncomingMessage,
): boolean {
  // Strict: `evil@127.0.0.1` or `127.0.0.1/x` is no Host (a lenient URL parse would say 127.0.0.1).
  const host = parseHost(request.headers.host);
  if (host === undefined || !routes.hostAllowed(host.hostname)) return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true; // not a browser request, or a same-origin GET
  try {
    const page = new URL(origin);
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return false;
    return page.host === hostOf(host, page.protocol);
  } catch {
    return false;
  }
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response
    .writeHead(status, { ...headers, 'content-type': type, 'cache-control': 'no-store' })
    .end(body);
}
