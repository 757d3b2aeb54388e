/**
 * A provider's channel that tells an observer (the ledger) what the provider hands to its transport
 * and what reaches it: results, progress, call frames and notices. It keeps no frame.
 */
import type { ChannelHandlers, PeerInfo, ToolChannel } from '../../src/index.js';

export type Answer = { kind: 'result'; value: unknown } | { kind: 'error'; message: string };

/** What the ledger learns from the providers' channels. */
export interface WireObserver {
  /** A provider handed a result frame to its transport; `handed` settles as the transport does. */
  answerSent(callId: string, answer: Answer, handed: Promise<void>): void;
  progressSent(handed: Promise<void>): void;
  callReceived(callId: string): void;
  noticeReceived(callId: string): void;
  /**
   * A provider stopped working on a call: `cancelled:<reason>` or `timeout` when the proxy told it
   * to, `abandoned` when it gave up on its own (it is closing, or the proxy left).
   */
  workStopped(callId: string, why: string): void;
}

const RESULT = '{"type":"client:tool-result"';
const PROGRESS = '{"type":"client:tool-progress"';
const CALL = '{"type":"agent:tool-call",';
const NOTICES = ['{"type":"agent:tool-call-cancelled"', '{"type":"agent:tool-call-timeout"'];
const CALL_ID = /"call_id":"([^"]+)"/;

/** A provider's channel that reports result, progress, call and notice frames to an observer. */
export class ObservedChannel implements ToolChannel {
  readonly #inner: ToolChannel;
  readonly #observer: WireObserver;

  constructor(inner: ToolChannel, observer: WireObserver) {
    this.#inner = inner;
    this.#observer = observer;
  }

  get identity(): string {
    return this.#inner.identity;
  }

  start(handlers: ChannelHandlers): Promise<void> {
    return this.#inner.start({
      ...handlers,
      onFrame: (from, text) => {
        const callId = CALL_ID.exec(text.slice(0, 120))?.[1];
        if (callId !== undefined && text.startsWith(CALL)) this.#observer.callReceived(callId);
        else if (callId !== undefined && NOTICES.some((p) => text.startsWith(p)))
          this.#observer.noticeReceived(callId);
        handlers.onFrame(from, text);
      },
    });
  }

  peers(): readonly PeerInfo[] {
    return this.#inner.peers();
  }

  send(to: string, text: string): Promise<void> {
    let handed: Promise<void>;
    try {
      handed = Promise.resolve(this.#inner.send(to, text));
    } catch (error) {
      handed = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (text.startsWith(RESULT)) {
      const frame = JSON.parse(text) as { call_id: string; result?: unknown; error?: unknown };
      const answer: Answer =
        frame.error === undefined || frame.error === null
          ? { kind: 'result', value: frame.result ?? null }
          : {
              kind: 'error',
              message: typeof frame.error === 'string' ? frame.error : JSON.stringify(frame.error),
            };
      this.#observer.answerSent(frame.call_id, answer, handed);
    } else if (text.startsWith(PROGRESS)) {
      this.#observer.progressSent(handed);
    }
    return handed;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
