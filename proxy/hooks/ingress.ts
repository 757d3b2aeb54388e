/**
 * Hook ingress: `POST /hooks/<event>` on a node http.Server the caller owns. The agent's hook
 * JSON is mapped onto lifecycle events and session bindings (mapping.ts) and handed to the core
 * (`proxy.lifecycle`, `proxy.bindSession`), where `agent_loop_stopped`, `session:end` and
 * `session:reset` cancel that session's pending calls; the answer says what was cancelled and why.
 *
 * Shared secret. When `requireSecret` is set, every request must carry `Authorization: Bearer
 * <secret>`. The server sets it unless it is bound to loopback: a hook can only cancel or announce,
 * never run a tool, but anyone who can reach the port could otherwise cancel every pending call (an
 * event without a session key cancels them all) or spoof session starts and ends. On loopback only
 * local processes can post, which is the same trust as the agent that launched us; a secret there
 * would only make the hook configuration harder to get right.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type BindingResult,
  type CancelRule,
  DEFAULT_MAX_JSON_DEPTH,
  describeUnknown,
  type Logger,
  scanJson,
  silentLogger,
  type ToolProxy,
  tooDeepMessage,
} from '../../src/index.js';
import { MAX_TIMER_MS, positiveInteger } from '../../src/seam.js';
import { bearerMatches } from '../bearer.js';
import { EVENT_AGE_HEADER, parseEventAge } from './event-age.js';
import { isKnownHookEvent, mapAgentHook, unknownEventReason } from './mapping.js';
import { readLimited } from './read-limited.js';
import type { MappedEvent, MappedHook } from './routes.js';

export interface HookIngressOptions {
  /** The shared secret, checked when `requireSecret` is set. */
  secret?: string;
  /** Refuse requests without `Authorization: Bearer <secret>` (401). Needs `secret`. */
  requireSecret: boolean;
  /** Largest body accepted, in bytes; larger is 413. Default 64 KiB. */
  maxBodyBytes?: number;
  /** The body must arrive within this time, else 408. Default 5,000 ms. */
  bodyTimeoutMs?: number;
  logger?: Logger;
}

/**
 * What a 200 says: the events applied; how many calls they cancelled, of which `scoped` were placed
 * in the named session and `unscoped` were not (unbound calls of a session nothing was ever placed
 * in, or every call for an event naming no session), and by which `rule`; the bindings recorded.
 */
export interface HookAccepted {
  accepted: true;
  events: MappedEvent['name'][];
  /** The session the events named, if any. */
  session?: string;
  cancelled: number;
  scoped: number;
  unscoped: number;
  /** The rule of the (last) cancelling event; absent when no event cancels. */
  rule?: CancelRule;
  /** One entry per binding the hook gave: whether it placed a call or was remembered. */
  bound?: BindingResult[];
  /**
   * With `X-Toolproxy-Event-Age-Ms`: calls the events would have cancelled but left pending, as
   * they started after the event was raised (the next turn's, when a stop arrives late).
   */
  spared?: number;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_BODY_TIMEOUT_MS = 5_000;

export class HookIngress {
  readonly #proxy: ToolProxy;
  readonly #secret: string | undefined;
  readonly #maxBodyBytes: number;
  readonly #bodyTimeoutMs: number;
  readonly #logger: Logger;

  constructor(proxy: ToolProxy, options: HookIngressOptions) {
    const { secret, requireSecret } = options;
    if (requireSecret && (secret === undefined || secret === '')) {
      throw new TypeError(
        'HookIngress: requireSecret is set but no secret was given; pass a non-empty secret (or bind to loopback)',
      );
    }
    this.#proxy = proxy;
    this.#secret = requireSecret ? secret : undefined;
    this.#maxBodyBytes = positiveInteger(
      options.maxBodyBytes,
      DEFAULT_MAX_BODY_BYTES,
      'HookIngress: maxBodyBytes',
      MAX_TIMER_MS,
    );
    this.#bodyTimeoutMs = positiveInteger(
      options.bodyTimeoutMs,
      DEFAULT_BODY_TIMEOUT_MS,
      'HookIngress: bodyTimeoutMs',
      MAX_TIMER_MS,
    );
    this.#logger = options.logger ?? silentLogger;
  }

  /**
   * Answers `request` (whose path was `/hooks/<event>`; `event` exactly as in the URL, not yet
   * percent-decoded: it is decoded here, once). Never rejects: an unexpected failure is logged and
   * answered 500.
   */
  async handle(request: IncomingMessage, response: ServerResponse, event: string): Promise<void> {
    try {
      const decoded = decodeEvent(event);
      if (decoded === undefined) {
        const reason = `the event name in the URL is not valid percent-encoding: /hooks/${clip(event)}`;
        this.#refuse(response, event, 400, reason);
        return;
      }
      await this.#handle(request, response, decoded);
    } catch (error) {
      this.#logger.error({ event, error: describeUnknown(error) }, 'hook ingress failed');
      try {
        if (!response.headersSent)
          reply(response, 500, { accepted: false, error: 'internal error' });
        else response.destroy();
      } catch {
        response.destroy();
      }
    }
  }

  async #handle(request: IncomingMessage, response: ServerResponse, event: string): Promise<void> {
    if (request.method !== 'POST') {
      const error = `use POST /hooks/${event} with the hook's JSON as the body`;
      reply(response, 405, { accepted: false, error }, { allow: 'POST' });
      return;
    }
    if (this.#secret !== undefined && !bearerMatches(request.headers.authorization, this.#secret)) {
      this.#logger.warn({ event }, 'hook refused: missing or wrong secret');
      const error = 'send the shared secret as "Authorization: Bearer <secret>"';
      reply(response, 401, { accepted: false, error }, { 'www-authenticate': 'Bearer' });
      return;
    }
    if (!isKnownHookEvent(event)) {
      this.#refuse(response, event, 404, unknownEventReason(event));
      return;
    }
    const age = parseEventAge(request.headers[EVENT_AGE_HEADER]);
    if (!age.ok) {
      this.#refuse(response, event, 400, age.reason);
      return;
    }
    const body = await this.#readBody(request, response, event);
    if (body === undefined) return;
    // Parse time grows with nesting, not size: a deep body is refused before it is parsed.
    if (scanJson(body, DEFAULT_MAX_JSON_DEPTH).tooDeep) {
      this.#refuse(response, event, 400, tooDeepMessage('the body', DEFAULT_MAX_JSON_DEPTH));
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch (error) {
      const reason = `the body is not valid JSON (${describeUnknown(error)})`;
      this.#refuse(response, event, 400, reason);
      return;
    }
    const mapped = mapAgentHook(event, payload);
    if (!mapped.ok) {
      this.#refuse(response, event, mapped.status, mapped.reason);
      return;
    }
    const answer = this.#apply(mapped, age.ageMs);
    const { events, cancelled, rule, bound, spared } = answer;
    const ageMs = age.ageMs;
    this.#logger.info({ event, events, cancelled, rule, bound, ageMs, spared }, 'hook accepted');
    reply(response, 200, answer);
  }

  /**
   * Hands the hook to the core: bindings first (a stop in the same hook then sees them). With
   * `ageMs`, a cancelling event takes only the calls started by the time it was raised.
   */
  #apply(mapped: MappedHook, ageMs: number | undefined): HookAccepted {
    const answer: HookAccepted = {
      accepted: true,
      events: mapped.events.map((mappedEvent) => mappedEvent.name),
      cancelled: 0,
      scoped: 0,
      unscoped: 0,
    };
    if (mapped.bindings.length > 0)
      answer.bound = mapped.bindings.map((evidence) => this.#proxy.bindSession(evidence));
    for (const { name, payload } of mapped.events) {
      const outcome = this.#proxy.lifecycle(name, payload, ageMs === undefined ? {} : { ageMs });
      if (outcome.session !== undefined) answer.session = outcome.session;
      if (outcome.spared !== undefined) answer.spared = (answer.spared ?? 0) + outcome.spared;
      if (outcome.rule === 'none') continue;
      answer.rule = outcome.rule;
      answer.cancelled += outcome.cancelled;
      answer.scoped += outcome.scoped;
      answer.unscoped += outcome.unscoped;
    }
    return answer;
  }

  /** The body as text, or undefined once an error has been answered. */
  async #readBody(
    request: IncomingMessage,
    response: ServerResponse,
    event: string,
  ): Promise<string | undefined> {
    const tooLarge = `the body is larger than ${this.#maxBodyBytes} bytes`;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (declared > this.#maxBodyBytes) {
      this.#refuse(response, event, 413, tooLarge, true);
      request.resume();
      return undefined;
    }
    const read = await readLimited(request, {
      maxBytes: this.#maxBodyBytes,
      timeoutMs: this.#bodyTimeoutMs,
    });
    if (read.ok) return read.text;
    switch (read.problem) {
      case 'too-large':
        this.#refuse(response, event, 413, tooLarge, true);
        request.resume(); // discard the rest, so the client can read the answer
        break;
      case 'stopped': {
        const reason = `the body did not arrive within ${this.#bodyTimeoutMs} ms`;
        this.#refuse(response, event, 408, reason, true);
        break;
      }
      case 'closed':
      case 'error':
        this.#logger.debug({ event, detail: read.detail }, 'hook request went away');
        response.destroy();
        break;
    }
    return undefined;
  }

  #refuse(
    response: ServerResponse,
    event: string,
    status: number,
    reason: string,
    close = false,
  ): void {
    this.#logger.warn({ event, status, reason }, 'hook refused');
    reply(
      response,
      status,
      { accepted: false, error: reason },
      close ? { connection: 'close' } : {},
    );
  }
}

function reply(
  response: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/**
 * The `<event>` of a request URL `/hooks/<event>` (query ignored, not yet decoded), or undefined
 * when the path is not a hook path: for the server that routes requests to `handle`.
 */
export function hookEventFromPath(url: string | undefined): string | undefined {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  const match = /^\/hooks\/([^/]+)\/?$/.exec(path);
  return match?.[1];
}

/** `session%3Aend` → `session:end`, once; undefined for a malformed escape. */
function decodeEvent(event: string): string | undefined {
  if (!event.includes('%')) return event;
  try {
    return decodeURIComponent(event);
  } catch {
    return undefined;
  }
}

function clip(value: string): string {
  return value.length <= 80 ? value : `${value.slice(0, 79)}…`;
}
