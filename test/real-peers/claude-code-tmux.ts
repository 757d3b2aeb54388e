/**
 * Drives an interactive program in a real terminal: a tmux server of its own (private socket, no
 * user configuration) running one session whose pane runs the program with exactly the given
 * environment. The test reads the screen (`capture-pane`) and types (`send-keys`) as a person
 * would: Claude Code's interactive UI only runs on a terminal.
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why tmux cannot be used here, or undefined when it can. */
export function tmuxMissing(): string | undefined {
  const result = spawnSync('tmux', ['-V'], { encoding: 'utf8' });
  if (result.error) return `tmux is not installed (apt-get install tmux): ${result.error.message}`;
  return result.status === 0 ? undefined : `tmux -V exited ${result.status}: ${result.stderr}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface TerminalOptions {
  /** A scratch folder: the tmux socket goes there. */
  readonly dir: string;
  readonly cwd: string;
  /** The program's whole environment (TERM is added). */
  readonly env: Record<string, string>;
  readonly command: readonly string[];
}

export class Terminal {
  readonly #socket: string;
  /** The program's pid (`env` execs it in the pane). */
  #pid: number | undefined;

  private constructor(socket: string) {
    this.#socket = socket;
  }

  /** Starts the program in a detached 120×40 session. */
  static async start(options: TerminalOptions): Promise<Terminal> {
    const terminal = new Terminal(join(options.dir, 'tmux.sock'));
    const env = { TERM: 'xterm-256color', ...options.env };
    // `env -i`: the pane gets exactly `env`, not the tmux server's environment.
    const command = [
      'env',
      '-i',
      ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
      ...options.command,
    ];
    await terminal.#tmux(
      ['new-session', '-d', '-s', 'main', '-x', '120', '-y', '40', '-c', options.cwd, ...command],
      // The server itself needs a PATH and a HOME; the pane's environment is the `env -i` above.
      { PATH: options.env.PATH ?? '/usr/bin:/bin', HOME: options.env.HOME ?? options.dir },
    );
    const shown = await terminal.#tmux(['display-message', '-p', '-t', 'main', '#{pane_pid}']);
    terminal.#pid = Number(shown.stdout.trim()) || undefined;
    return terminal;
  }

  /** The visible screen, as text. */
  async screen(): Promise<string> {
    return (await this.#tmux(['capture-pane', '-p', '-t', 'main'])).stdout;
  }

  /** Resolves with the screen once `pattern` is on it; rejects with the screen past `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() <= deadline) {
      screen = await this.screen().catch((error: unknown) => `(no screen: ${String(error)})`);
      if (pattern.test(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${pattern} not on the screen within ${timeoutMs} ms:\n${screen}`);
  }

  /** Presses keys by tmux name (`Enter`, `Escape`, `Up`, `C-c`). */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux(['send-keys', '-t', 'main', ...keys]);
  }

  /**
   * Moves a menu's cursor (`❯`) with `key` until it is on the option starting `option`, then
   * presses Enter. Keys pressed while a dialog is still being drawn are lost, so each press is
   * checked on the screen.
   */
  async choose(option: string, key: 'Up' | 'Down', timeoutMs = 15_000): Promise<void> {
    const selected = new RegExp(`❯ ${option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    const deadline = Date.now() + timeoutMs;
    while (!selected.test(await this.screen())) {
      if (Date.now() > deadline)
        throw new Error(`"${option}" not selected within ${timeoutMs} ms:\n${await this.screen()}`);
      await this.keys(key);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.keys('Enter');
  }

  /** `promise`, failing with the screen appended: what the program showed when it did not happen. */
  async showing<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      const screen = await this.screen().catch(() => '(no screen)');
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}; screen:\n${screen}`, { cause: error });
    }
  }

  /** Types `text` literally. */
  async type(text: string): Promise<void> {
    await this.#tmux(['send-keys', '-t', 'main', '-l', text]);
  }

  /**
   * Types `text` into the prompt and sends it: Enter once the text is on the screen, again until
   * `sent` shows (an Enter right after typed text can be taken as part of a paste).
   */
  async submit(text: string, sent: RegExp, timeoutMs = 15_000): Promise<void> {
    await this.type(text);
    await this.waitFor(new RegExp(text.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const deadline = Date.now() + timeoutMs;
    do {
      await this.keys('Enter');
      if (
        await this.waitFor(sent, 1_000).then(
          () => true,
          () => false,
        )
      )
        return;
    } while (Date.now() < deadline);
    throw new Error(`${sent} not on the screen after Enter:\n${await this.screen()}`);
  }

  /**
   * Ends the session (its program gets SIGHUP, as when a terminal window is closed) and waits for
   * the program to exit, so nothing writes into its folders afterwards; SIGKILL after 10 s.
   */
  async close(): Promise<void> {
    await this.#tmux(['kill-server']).catch(() => undefined);
    const pid = this.#pid;
    if (pid === undefined) return;
    const deadline = Date.now() + 10_000;
    while (alive(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #tmux(args: readonly string[], env?: Record<string, string>) {
    return run('tmux', ['-S', this.#socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      ...(env === undefined ? {} : { env }),
    });
  }
}
