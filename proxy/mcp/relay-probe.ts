/**
 * Is a toolproxy already serving at this address? `GET /healthz` answers
 * `{"service":"toolproxy",...}` on every `toolproxy serve`; anything else (no answer, another
 * program, another body) is not one, and a relay must not attach to it.
 */

/** The `service` field of a toolproxy's `/healthz`. */
export const HEALTH_SERVICE = 'toolproxy';

const DEFAULT_PROBE_TIMEOUT_MS = 1_000;
/** A health answer is a few dozen bytes; a larger body is not a toolproxy's. */
const MAX_HEALTH_BYTES = 4_096;

export interface ProbeOptions {
  /** Gives up (answering false) after this long. Default 1,000 ms. */
  timeoutMs?: number;
}

/** True when `baseUrl` (e.g. `http://127.0.0.1:7300`) answers `/healthz` as a toolproxy. */
export async function isToolproxyAt(baseUrl: string, options: ProbeOptions = {}): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
  }, options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS);
  try {
    const response = await fetch(new URL('/healthz', baseUrl), {
      signal: controller.signal,
      redirect: 'manual',
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return false;
    }
    const text = await readCapped(response, MAX_HEALTH_BYTES);
    if (text === undefined) return false;
    const body: unknown = JSON.parse(text);
    return (
      typeof body === 'object' &&
      body !== null &&
      (body as Record<string, unknown>).service === HEALTH_SERVICE
    );
  } catch {
    return false; // refused, timed out, not JSON: not a toolproxy
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text, or undefined (and the rest left unread) once it passes `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
}

/** A listen that failed because something already holds the port. */
export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/** Why a port cannot be served or relayed to: some other program holds it. */
export function portTakenMessage(url: string): string {
  return `${url} is in use by a program that is not toolproxy (its /healthz does not answer as one): stop it, or choose another --port`;
}
