/**
 * The bench's handle on a participant in a process of its own (child.ts), as a robot is: it starts
 * a provider or the floor's answering side there, tells it to leave the room, or kills it, and
 * hands over, in order, what that process saw and when (CLOCK_MONOTONIC, after the fact, over IPC).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AbortedReport, StartedReport } from '../b4-peer.js';
import type { EchoReport } from './floor.js';
import { Mailbox } from '../mailbox.js';

export type PeerCommand =
  | {
      readonly type: 'provider';
      readonly url: string;
      readonly token: string;
      readonly tool: string;
    }
  | { readonly type: 'echo'; readonly url: string; readonly token: string }
  /**
   * The provider's room disconnects (`room.disconnect()`), the process stays; with `withdraw`, the
   * provider is closed first (`ToolProvider.close()` withdraws its tools).
   */
  | { readonly type: 'leave'; readonly withdraw: boolean }
  | { readonly type: 'close' };

export interface LeavingReport {
  readonly type: 'leaving';
  /** `monotonicMs()` just before `room.disconnect()`. */
  readonly at: number;
}

export type PeerReport =
  | { readonly type: 'ready' }
  | StartedReport
  | AbortedReport
  | EchoReport
  | LeavingReport
  | { readonly type: 'failed'; readonly message: string };

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const REGISTER = new URL('../register.mjs', import.meta.url).href;

export class ChildPeer {
  readonly #child: ChildProcess;
  readonly #ready = new Mailbox<void>();
  readonly started = new Mailbox<StartedReport>();
  readonly aborted = new Mailbox<AbortedReport>();
  readonly echoed = new Mailbox<EchoReport>();
  readonly leaving = new Mailbox<LeavingReport>();
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: PeerReport) => this.#received(message));
    this.exited = once(child, 'exit').then(() => {
      const error = new Error(
        `bench: the peer process exited (${child.exitCode ?? child.signalCode})`,
      );
      for (const box of [this.#ready, this.started, this.aborted, this.echoed, this.leaving])
        box.fail(error);
    });
  }

  /** Forks the peer; it runs the TypeScript as the bench does (register.mjs, not tsx). */
  static start(): ChildPeer {
    const child = fork(CHILD, [], {
      execArgv: [`--import=${REGISTER}`],
      // rtc-node logs at debug level to stdout unless NODE_ENV is production (decided at load).
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ChildPeer(child);
  }

  /** Runs `command` there and resolves once it is done (the room joined, the provider connected). */
  async command(command: Extract<PeerCommand, { type: 'provider' | 'echo' }>): Promise<void> {
    this.#child.send(command);
    await this.#ready.take();
  }

  /** Its provider's room disconnects (its provider closed first, with `withdraw`); resolves with the moment just before. */
  async leave(withdraw: boolean): Promise<LeavingReport> {
    this.#child.send({ type: 'leave', withdraw } satisfies PeerCommand);
    return this.leaving.take();
  }

  /** SIGKILL: no goodbye on any socket, as a crash or a power cut. */
  kill(): void {
    this.#child.kill('SIGKILL');
  }

  /** Closes what runs there and waits for the process to exit (kills it if it does not). */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    if (this.#child.connected) this.#child.send({ type: 'close' } satisfies PeerCommand);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  #received(message: PeerReport): void {
    switch (message.type) {
      case 'ready':
        return this.#ready.put();
      case 'started':
        return this.started.put(message);
      case 'aborted':
        return this.aborted.put(message);
      case 'echoed':
        return this.echoed.put(message);
      case 'leaving':
        return this.leaving.put(message);
      case 'failed':
        return this.#ready.fail(new Error(`bench: the peer process failed: ${message.message}`));
    }
  }
}
