/**
 * The promise `ToolProxy.call()` returns: a p-cancelable one, whose `.cancel()` cancels the call
 * like aborting its signal.
 */
import PCancelable, { type OnCancelFunction } from 'p-cancelable';
import type { CallLife } from './call-life.js';
import type { CallOptions, CallRunner } from './call-runner.js';
import { cancelledError } from './messages.js';
import type { PendingCall } from './pending-call.js';

interface CallRequest {
  readonly name: string;
  readonly args: Record<string, unknown>;
  readonly options: CallOptions;
}

export class CancellableCalls {
  readonly #runner: CallRunner;
  /** The request `start()` is starting, handed to `#executor` (see there). */
  #starting: CallRequest | undefined;

  constructor(runner: CallRunner) {
    this.#runner = runner;
  }

  start(name: string, args: Record<string, unknown>, options: CallOptions): PCancelable<unknown> {
    this.#starting = { name, args, options };
    return new PCancelable<unknown>(this.#executor);
  }

  /**
   * The executor of every call's promise, made once. p-cancelable keeps its executor for the life
   * of the promise, so a closure per call over `name`, `args` and `options` would hold the caller's
   * arguments until the call settled; this one takes them from `#starting` instead, which is set just
   * before PCancelable runs it (synchronously) and cleared at once.
   */
  readonly #executor = (
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    onCancel: OnCancelFunction,
  ): void => {
    const starting = this.#starting;
    this.#starting = undefined;
    if (starting === undefined) throw new Error('ToolProxy: a call started without its request');
    onCancel.shouldReject = false;
    const { name, args, options } = starting;
    const call = this.#runner.start(name, args, options, { resolve, reject });
    if (call !== undefined) onCancel(cancelOnRequest(this.#runner.life, call));
  };
}

/** `.cancel()` on a call's promise; a closure over the call alone, not over the caller's request. */
function cancelOnRequest(life: CallLife, call: PendingCall): () => void {
  return () => {
    life.settle(call, 'cancelled', cancelledError('caller-aborted', 'cancel() was called'));
  };
}
