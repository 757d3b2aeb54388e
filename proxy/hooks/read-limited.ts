/**
 * Reads a whole stream (an HTTP request body, a command's stdin) as UTF-8 text, never more than
 * `maxBytes` and never past `signal` or `timeoutMs`: whatever the other side does, the promise
 * settles.
 */

export type ReadOutcome =
  | { ok: true; text: string }
  /** `too-large`: over `maxBytes`; `stopped`: `signal` aborted or `timeoutMs` passed; `closed`: ended without EOF. */
  | { ok: false; problem: 'too-large' | 'stopped' | 'closed' | 'error'; detail?: string };

export interface ReadLimits {
  maxBytes: number;
  signal?: AbortSignal;
  /** Give up this long after the read starts (one timer, cleared when the read ends). */
  timeoutMs?: number;
}

/**
 * Resolves (never rejects) with the text, or why it could not be read. On any outcome other than
 * a complete read, the stream is paused and left to its owner (the HTTP server discards the rest
 * of a request body; a command exits).
 */
export function readLimited(
  stream: NodeJS.ReadableStream,
  limits: ReadLimits,
): Promise<ReadOutcome> {
  const { maxBytes, signal, timeoutMs } = limits;
  if (signal?.aborted === true) return Promise.resolve({ ok: false, problem: 'stopped' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const finish = (outcome: ReadOutcome): void => {
      clearTimeout(timer);
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      stream.removeListener('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (!outcome.ok) stream.pause();
      resolve(outcome);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      size += bytes.length;
      if (size > maxBytes) {
        finish({ ok: false, problem: 'too-large' });
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      ended = true;
      finish({ ok: true, text: Buffer.concat(chunks, size).toString('utf8') });
    };
    const onError = (error: Error): void => {
      finish({ ok: false, problem: 'error', detail: error.message });
    };
    // A request body whose connection closes before its end: the client went away.
    const onClose = (): void => {
      if (!ended) finish({ ok: false, problem: 'closed' });
    };
    const onAbort = (): void => {
      finish({ ok: false, problem: 'stopped' });
    };

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(onAbort, timeoutMs);
    stream.resume();
  });
}
