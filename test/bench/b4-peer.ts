/**
 * The bench's handle on B4's far end (b4-provider.ts), a child process: it starts the provider or
 * the floor's client there and hands over, in order, what that process saw and when.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Mailbox } from './mailbox.js';

/** The provider's tool: it never answers, and reports when its signal aborts. */
export const HOLD_TOOL = 'hold';

export type ChildCommand =
  | { readonly type: 'provider'; readonly url: string; readonly token: string }
  | { readonly type: 'floor'; readonly url: string }
  | { readonly type: 'close' };

export interface StartedReport {
  readonly type: 'started';
  readonly callId: string;
  readonly at: number;
}

export interface AbortedReport {
  readonly type: 'aborted';
  readonly callId: string;
  /** `monotonicMs()` in the provider's abort listener. */
  readonly at: number;
  /** The signal's reason: its error code and cancel reason. */
  readonly code: string;
  readonly reason: string | undefined;
}

export interface FrameReport {
  readonly type: 'frame';
  /** `monotonicMs()` in the floor client's `message` listener. */
  readonly at: number;
  readonly text: string;
}

export type ChildReport =
  | { readonly type: 'ready' }
  | StartedReport
  | AbortedReport
  | FrameReport
  | { readonly type: 'failed'; readonly message: string };

const CHILD = fileURLToPath(new URL('./b4-provider.ts', import.meta.url));
const REGISTER = new URL('./register.mjs', import.meta.url).href;

export class FarEnd {
  readonly #child: ChildProcess;
  readonly #ready = new Mailbox<void>();
  readonly started = new Mailbox<StartedReport>();
  readonly aborted = new Mailbox<AbortedReport>();
  readonly frames = new Mailbox<FrameReport>();

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: ChildReport) => this.#received(message));
    child.once('exit', (code, signal) => {
      const error = new Error(`bench: the provider process exited (${code ?? signal})`);
      for (const box of [this.#ready, this.started, this.aborted, this.frames]) box.fail(error);
    });
  }

  /** Forks the far end (TypeScript run as the bench runs it, without tsx). */
  static start(): FarEnd {
    const child = fork(CHILD, [], {
      execArgv: [`--import=${REGISTER}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new FarEnd(child);
  }

  /** Runs `command` there; resolves once it is done (the provider connected, the socket open). */
  async command(command: Exclude<ChildCommand, { type: 'close' }>): Promise<void> {
    this.#child.send(command);
    await this.#ready.take();
  }

  /** Closes what runs there and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    if (this.#child.connected) this.#child.send({ type: 'close' } satisfies ChildCommand);
    else this.#child.kill();
    await exited;
  }

  #received(message: ChildReport): void {
    switch (message.type) {
      case 'ready':
        this.#ready.put();
        break;
      case 'started':
        this.started.put(message);
        break;
      case 'aborted':
        this.aborted.put(message);
        break;
      case 'frame':
        this.frames.put(message);
        break;
      case 'failed':
        this.#ready.fail(new Error(`bench: the provider process failed: ${message.message}`));
        break;
    }
  }
}
