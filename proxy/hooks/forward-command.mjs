// @ts-check
/**
 * The `hook` command and `forwardHook`, in plain JavaScript on node: built-ins only: bin/toolproxy.mjs
 * runs `toolproxy hook` from this file directly, with no build, no tsx and none of the CLI's
 * dependencies, so the command costs little more than Node's own start-up (for a command-hook
 * agent, that start-up is the stop's latency).
 *
 * An agent runs the command with its hook JSON on stdin; it forwards that JSON to the proxy's hook
 * ingress and gets out of the way. It always ends quietly: whatever fails (proxy down, no answer, a
 * refusal, bad stdin) is one warning line on stderr, never a throw, and nothing is written to
 * stdout. The command then exits 0: exit 2 would block Claude Code or docker-agent, and stdout
 * would be read as a hook decision.
 */
// Built-ins come from process.getBuiltinModule, not `import`: an ES module namespace reads every
// export, and node:http's lazy WebSocket getters then load undici (about 25 ms on Node 22 and 24).

/** @typedef {import('./forward.js').ForwardHookOptions} ForwardHookOptions */
/** @typedef {{ write(text: string): unknown }} Sink */
/**
 * @typedef {{ text: string, problem?: undefined, detail?: undefined }
 *   | { text?: undefined, problem: 'too-large' | 'stopped' | 'unreadable', detail?: string }} ReadOutcome
 */
/**
 * @typedef {object} HookCommandIo
 * @property {NodeJS.ReadableStream} stdin
 * @property {Sink} stderr
 * @property {Readonly<Record<string, string | undefined>>} env
 */

export const DEFAULT_HOOK_URL = 'http://127.0.0.1:7300';
const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_INPUT_BYTES = 1024 * 1024;
const MAX_WARNING_CHARS = 500;
/** Enough of a refusal's body for the warning line, which is cut at 500 characters anyway. */
const MAX_ANSWER_CHARS = 4_096;

/**
 * `toolproxy hook <event> [--url URL]`: the URL is `--url`, else `TOOLPROXY_URL`, else
 * 127.0.0.1:7300; the bearer is `TOOLPROXY_HOOK_SECRET`, else the signing secret. Resolves with
 * the exit code, always 0 (a hook must never block its agent).
 * @param {readonly string[]} args
 * @param {HookCommandIo} io
 * @returns {Promise<number>}
 */
export async function runHookCommand(args, io) {
  let parsed;
  try {
    parsed = process.getBuiltinModule('node:util').parseArgs({
      args: [...args],
      options: { url: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (error) {
    warnLine(io.stderr, `toolproxy hook: ${describe(error)}`);
    return 0;
  }
  const [event] = parsed.positionals;
  if (event === undefined) {
    warnLine(io.stderr, 'toolproxy hook: name the event, e.g. `toolproxy hook SessionEnd`');
    return 0;
  }
  const url = parsed.values.url ?? io.env.TOOLPROXY_URL ?? DEFAULT_HOOK_URL;
  const secret = io.env.TOOLPROXY_HOOK_SECRET ?? signingSecret(io.env);
  await forwardHook({
    event,
    url,
    input: io.stdin,
    stderr: io.stderr,
    ...(secret === undefined ? {} : { secret }),
  });
  return 0;
}

/**
 * The secret `serve` signs tokens with (and so asks hooks for), as proxy/cli/config.ts reads it:
 * only when both the key and the secret are set.
 * @param {Readonly<Record<string, string | undefined>>} env
 */
function signingSecret(env) {
  const key = env.LIVEKIT_API_KEY ?? env.TOOLPROXY_API_KEY;
  const secret = env.LIVEKIT_API_SECRET ?? env.TOOLPROXY_API_SECRET;
  return key === undefined || key === '' || secret === '' ? undefined : secret;
}

/**
 * Reads the hook JSON from `input` and POSTs it to `<url>/hooks/<event>`. Resolves within about
 * `timeoutMs` whatever happens; never rejects.
 * @param {ForwardHookOptions} options
 * @returns {Promise<void>}
 */
export async function forwardHook(options) {
  const timeoutMs = validTimeout(options.timeoutMs);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  /** @type {string | undefined} */
  let problem;
  try {
    problem = await deliver(options, controller.signal, timeoutMs);
  } catch (error) {
    problem = controller.signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : `the proxy at ${options.url} could not be reached (${codeOf(error) ?? describe(error)})`;
  } finally {
    clearTimeout(timer);
  }
  if (problem !== undefined)
    warnLine(options.stderr, `toolproxy hook: ${options.event} not delivered: ${problem}`);
}

/**
 * Undefined once delivered, else what went wrong. Throws only what the request throws.
 * @param {ForwardHookOptions} options
 * @param {AbortSignal} signal
 * @param {number} timeoutMs
 * @returns {Promise<string | undefined>}
 */
async function deliver(options, signal, timeoutMs) {
  const target = hookUrl(options.url, options.event);
  if (target === undefined) return `"${options.url}" is not an http(s) URL`;

  const maxBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;
  const read = await readInput(options.input, maxBytes, signal);
  if (read.text === undefined) {
    if (read.problem === 'too-large')
      return `the hook JSON on stdin is larger than ${maxBytes} bytes`;
    if (read.problem === 'stopped') return `stdin did not end within ${timeoutMs} ms`;
    return `stdin could not be read${read.detail === undefined ? '' : ` (${read.detail})`}`;
  }
  const inputProblem = checkJsonObject(read.text);
  if (inputProblem !== undefined) return inputProblem;

  /** @type {Record<string, string>} */
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(read.text)),
  };
  if (options.secret !== undefined) headers.authorization = `Bearer ${options.secret}`;
  const answer = await post(target, headers, read.text, signal);
  if (answer.status >= 200 && answer.status < 300) return undefined;
  return `the proxy answered ${answer.status}${errorOf(answer.body)}`;
}

/**
 * One POST on a connection of its own (closed after the answer, so the command exits at once).
 * Resolves at a 2xx's headers; for anything else, once the start of its body is in.
 * @param {URL} target
 * @param {Record<string, string>} headers
 * @param {string} body
 * @param {AbortSignal} signal
 * @returns {Promise<{ status: number, body: string }>}
 */
function post(target, headers, body, signal) {
  // TLS costs start-up time, so node:https is loaded only for an https URL.
  const { request } = process.getBuiltinModule(
    target.protocol === 'https:' ? 'node:https' : 'node:http',
  );
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      { method: 'POST', headers, signal, agent: false },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          response.resume();
          resolve({ status, body: '' });
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (/** @type {string} */ chunk) => {
          if (text.length < MAX_ANSWER_CHARS) text += chunk;
        });
        // An answer cut short still has its status: report what arrived.
        const answered = () => resolve({ status, body: text });
        response.on('end', answered).on('error', answered).on('close', answered);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * The whole of `input` as UTF-8 (at most `maxBytes`), or why not. When it gives up, `input` is
 * paused and left to its owner.
 * @param {NodeJS.ReadableStream} input
 * @param {number} maxBytes
 * @param {AbortSignal} signal
 * @returns {Promise<ReadOutcome>}
 */
function readInput(input, maxBytes, signal) {
  if (signal.aborted) return Promise.resolve({ problem: 'stopped' });
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let settled = false;
    /** @param {ReadOutcome} outcome */
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      input.off('data', take).off('end', ended).off('error', failed).off('close', closed);
      signal.removeEventListener('abort', stopped);
      if (outcome.text === undefined) input.pause();
      resolve(outcome);
    };
    /** @param {Buffer | string} chunk */
    function take(chunk) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += bytes.length;
      if (size > maxBytes) settle({ problem: 'too-large' });
      else chunks.push(bytes);
    }
    function ended() {
      settle({ text: Buffer.concat(chunks, size).toString('utf8') });
    }
    /** @param {Error} error */
    function failed(error) {
      settle({ problem: 'unreadable', detail: error.message });
    }
    // Closed without an end (after 'end', settle has already run and this does nothing).
    function closed() {
      settle({ problem: 'unreadable' });
    }
    function stopped() {
      settle({ problem: 'stopped' });
    }
    input.on('data', take).on('end', ended).on('error', failed).on('close', closed);
    signal.addEventListener('abort', stopped, { once: true });
    input.resume();
  });
}

/**
 * `<base>/hooks/<event>`, keeping any path prefix of the base; undefined if not http(s).
 * @param {string} base
 * @param {string} event
 */
function hookUrl(base, event) {
  let url;
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

/** @param {string} text */
function checkJsonObject(text) {
  if (text.trim() === '') return 'no hook JSON on stdin';
  let value;
  try {
    value = /** @type {unknown} */ (JSON.parse(text));
  } catch (error) {
    return `stdin is not JSON (${describe(error)})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'the JSON on stdin is not an object';
  }
  return undefined;
}

/**
 * `: <error>` from the ingress's JSON answer, or the start of whatever text came back.
 * @param {string} text
 */
function errorOf(text) {
  try {
    const parsed = /** @type {unknown} */ (JSON.parse(text));
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      if (typeof parsed.error === 'string') return `: ${parsed.error}`;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const trimmed = text.trim();
  return trimmed === '' ? '' : `: ${trimmed}`;
}

/**
 * The system error's code (ECONNREFUSED, ENOTFOUND, ...), on the error or its cause.
 * @param {unknown} error
 * @returns {string | undefined}
 */
function codeOf(error) {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  return 'cause' in error ? codeOf(error.cause) : undefined;
}

/** @param {unknown} value */
function describe(value) {
  return value instanceof Error ? value.message : String(value);
}

/**
 * One line, at most 500 characters, never throwing: there is nowhere left to report to.
 * @param {Sink} sink
 * @param {string} text
 */
function warnLine(sink, text) {
  try {
    sink.write(`${text.replace(/[\r\n]+/g, ' ').slice(0, MAX_WARNING_CHARS)}\n`);
  } catch {
    // The command still ends quietly.
  }
}

/** @param {number | undefined} value */
function validTimeout(value) {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return DEFAULT_TIMEOUT_MS;
  return Math.min(Math.ceil(value), 2_147_483_647);
}
