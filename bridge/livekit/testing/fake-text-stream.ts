/**
 * Incoming text streams as the fake rooms hand them to `registerTextStreamHandler` handlers, and
 * the chunking of outgoing ones.
 */
import { STREAM_CHUNK_BYTES } from './fake-protocol.js';

/**
 * What a text stream handler gets: `readAll()` resolves the whole text once the stream ends, and
 * `for await` yields each chunk as it arrives. Leaving the loop early closes the reader, as in both
 * SDKs: the chunks still to come are dropped, never buffered.
 */
export class FakeTextStreamReader {
  readonly #chunks: string[] = [];
  readonly #done: Promise<string>;
  #resolve!: (text: string) => void;
  #reject!: (error: Error) => void;
  #read = 0;
  #ended = false;
  #error: Error | undefined;
  #closed = false;
  #wake: (() => void) | undefined;

  /** @internal `sender`: the identity of the participant sending the stream. */
  constructor(readonly sender: string) {
    this.#done = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A reader nobody reads must not turn a disconnect into an unhandled rejection.
    this.#done.catch(() => undefined);
  }

  /** True once a reader left its `for await` loop before the stream ended. */
  get closedEarly(): boolean {
    return this.#closed;
  }

  readAll(): Promise<string> {
    return this.#done;
  }

  [Symbol.asyncIterator](): {
    next: () => Promise<IteratorResult<string>>;
    return: () => Promise<IteratorResult<string>>;
  } {
    return {
      next: () => this.#next(),
      return: () => {
        if (!this.#ended) this.#closed = true;
        this.#chunks.length = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  async #next(): Promise<IteratorResult<string>> {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined };
      const chunk = this.#chunks[this.#read];
      if (chunk !== undefined) {
        this.#read++;
        return { done: false, value: chunk };
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** @internal */
  push(text: string): void {
    if (this.#closed) return;
    this.#chunks.push(text);
    this.#wakeUp();
  }

  /** @internal */
  end(): void {
    this.#ended = true;
    this.#resolve(this.#chunks.join(''));
    this.#wakeUp();
  }

  /** @internal */
  fail(error: Error): void {
    this.#error = error;
    this.#reject(error);
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

export type FakeTextStreamHandler = (
  reader: FakeTextStreamReader,
  participant: { identity: string },
) => void;

/** Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, never inside a code point. */
export function splitUtf8(text: string, maxBytes = STREAM_CHUNK_BYTES): string[] {
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += char;
    bytes += size;
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}
