/**
 * The `hook` command: an agent runs it as a command hook with its hook JSON on stdin; it forwards
 * that JSON to the proxy's hook ingress and gets out of the way. It always ends quietly: whatever
 * fails (proxy down, no answer, a refusal, bad stdin) is one warning line on stderr, never a
 * throw, and nothing is written to stdout. The command must then exit 0: exit 2 would block
 * Claude Code or docker-agent, and stdout would be read as a hook decision.
 */
import { describeUnknown } from '../../src/errors.js';
import { readLimited } from './read-limited.js';

export interface ForwardHookOptions {
  /** The hook event, as the URL's `<event>` (e.g. `SessionEnd`, `turn_end`, `agent_loop_stopped`). */
  event: string;
  /** The proxy's base URL, e.g. `http://127.0.0.1:7300`. */
  url: string;
  /** Where the agent's hook JSON comes from (stdin). */
  input: NodeJS.ReadableStream;
  /** Where the one warning line goes on failure (stderr). */
  stderr: { write(text: string): unknown };
  /** Sent as `Authorization: Bearer <secret>`. */
  secret?: string;
  /** Deadline for reading stdin and delivering, together. Default 1,000 ms. */
  timeoutMs?: number;
  /** Largest hook JSON read from `input`. Default 1 MiB. */
  maxInputBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;
const MAX_WARNING_CHARS = 500;

/** Why the deadline fired, so the warning can tell a timeout from the other failures. */
class Deadline extends Error {
  override readonly name = 'Deadline';
}

/**
 * Reads the hook JSON from `input` and POSTs it to `<url>/hooks/<event>`. Resolves within about
 * `timeoutMs` whatever happens; never rejects.
 */
export async function forwardHook(options: ForwardHookOptions): Promise<void> {
  const timeoutMs = validTimeout(options.timeoutMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Deadline()), timeoutMs);
  let problem: string | undefined;
  try {
    problem = await deliver(options, controller.signal, timeoutMs);
  } catch (error) {
    problem = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : describeFailure(error, options.url);
  } finally {
    clearTimeout(timer);
  }
  if (problem !== undefined) warn(options, problem);
}

/** Returns undefined once delivered, else what went wrong. Throws only what fetch throws. */
async function deliver(
  options: ForwardHookOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<string | undefined> {
  const target = hookUrl(options.url, options.event);
  if (target === undefined) return `"${options.url}" is not an http(s) URL`;

  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const read = await readLimited(options.input, { maxBytes, signal });
  if (!read.ok) {
    switch (read.problem) {
      case 'too-large':
        return `the hook JSON on stdin is larger than ${maxBytes} bytes`;
      case 'stopped':
        return `stdin did not end within ${timeoutMs} ms`;
      case 'closed':
      case 'error':
        return `stdin could not be read${read.detail === undefined ? '' : ` (${read.detail})`}`;
    }
  }
  const inputProblem = checkJsonObject(read.text);
  if (inputProblem !== undefined) return inputProblem;

  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.secret !== undefined) headers.authorization = `Bearer ${options.secret}`;
  const response = await fetch(target, { method: 'POST', headers, body: read.text, signal });
  if (response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  return `the proxy answered ${response.status}${await errorOf(response)}`;
}

/** `<base>/hooks/<event>`, keeping any path prefix of the base; undefined if not http(s). */
function hookUrl(base: string, event: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const prefix = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  // `:` is kept readable (`session:end`); everything else that needs escaping is escaped.
  url.pathname = `${prefix}hooks/${encodeURIComponent(event).replaceAll('%3A', ':')}`;
  url.search = '';
  url.hash = '';
  return url;
}

function checkJsonObject(text: string): string | undefined {
  if (text.trim() === '') return 'no hook JSON on stdin';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `stdin is not JSON (${describeUnknown(error)})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'the JSON on stdin is not an object';
  }
  return undefined;
}

/** `: <error>` from the ingress's JSON answer, or the start of whatever text came back. */
async function errorOf(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const { error } = parsed;
      if (typeof error === 'string') return `: ${error}`;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const trimmed = text.trim();
  return trimmed === '' ? '' : `: ${trimmed}`;
}

/** fetch's "fetch failed" hides the cause (ECONNREFUSED, ENOTFOUND, ...): name it. */
function describeFailure(error: unknown, url: string): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const detail = code ?? describeUnknown(cause ?? error);
  return `the proxy at ${url} could not be reached (${detail})`;
}

function warn(options: ForwardHookOptions, problem: string): void {
  const line = `toolproxy hook: ${options.event} not delivered: ${problem}`
    .replace(/[\r\n]+/g, ' ')
    .slice(0, MAX_WARNING_CHARS);
  try {
    options.stderr.write(`${line}\n`);
  } catch {
    // Nowhere left to report to; the command still ends quietly.
  }
}

function validTimeout(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return DEFAULT_TIMEOUT_MS;
  return Math.min(Math.ceil(value), 2_147_483_647);
}
