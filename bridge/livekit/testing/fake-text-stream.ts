/**
 * Incoming text streams as the fake rooms hand them to `registerTextStreamHandler` handlers, and
 * the chunking of outgoing ones.
 */
import { STREAM_CHUNK_BYTES } from './fake-protocol.js';

/** What a text stream handler gets: `readAll()` resolves the whole text once the stream ends. */
export class FakeTextStreamReader {
  readonly #chunks: string[] = [];
  readonly #done: Promise<string>;
  #resolve!: (text: string) => void;
  #reject!: (error: Error) => void;

  /** @internal `sender`: the identity of the participant sending the stream. */
  constructor(readonly sender: string) {
    this.#done = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A reader nobody reads must not turn a disconnect into an unhandled rejection.
    this.#done.catch(() => undefined);
  }

  readAll(): Promise<string> {
    return this.#done;
  }

  /** @internal */
  push(text: string): void {
    this.#chunks.push(text);
  }

  /** @internal */
  end(): void {
    this.#resolve(this.#chunks.join(''));
  }

  /** @internal */
  fail(error: Error): void {
    this.#reject(error);
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
