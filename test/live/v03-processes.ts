/**
 * The processes of the hermes-livekit v0.3 live test: `toolproxy serve` as a user runs it (the CLI,
 * in LiveKit mode) and the v0.3 Python client (v03_client.py). Both print JSON lines, which are
 * watched as they come: every wait is for a line that matches, bounded, and says what it saw.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'toolproxy.mjs');
const clientScript = join(root, 'test', 'live', 'v03_client.py');

export type JsonLine = Record<string, unknown>;

const running = new Set<Watched>();

/** Stops every process started here that is still running (afterEach). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((watched) => watched.stop()));
}

export interface LiveKitCredentials {
  url: string;
  apiKey: string;
  apiSecret: string;
}

/** A child process whose stream carries JSON lines (others are kept, for failure messages). */
export class Watched {
  readonly lines: JsonLine[] = [];
  readonly #other: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
    stream: 'stdout' | 'stderr',
    readonly endsBy: 'stdin' | 'signal',
  ) {
    let partial = '';
    child[stream].setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) this.#take(part);
      this.#wake();
    });
    child[stream === 'stdout' ? 'stderr' : 'stdout']
      .setEncoding('utf8')
      .on('data', (chunk: string) => this.#other.push(chunk));
    running.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        running.delete(this);
        this.#exitCode = code;
        this.#wake();
        resolve(code);
      });
    });
  }

  #take(line: string): void {
    if (!line.startsWith('{')) {
      this.#other.push(line);
      return;
    }
    try {
      this.lines.push(JSON.parse(line) as JsonLine);
    } catch {
      this.#other.push(line);
    }
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** The first line (from the start) that matches; rejects after `timeoutMs` or on exit. */
  line(matches: (line: JsonLine) => boolean, what: string, timeoutMs = 15_000): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, found?: JsonLine) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (found !== undefined) resolve(found);
        else reject(error);
      };
      const check = () => {
        const found = this.lines.find(matches);
        if (found !== undefined) finish(undefined, found);
        else if (this.#exitCode !== undefined)
          finish(
            new Error(`${this.name} exited (${this.#exitCode}) before ${what}${this.#seen()}`),
          );
      };
      const timer = setTimeout(
        () => finish(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.#seen()}`)),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }

  #seen(): string {
    const lines = this.lines.map((line) => JSON.stringify(line)).join('\n');
    return `\nlines:\n${lines}\nother output:\n${this.#other.join('').slice(-3_000)}`;
  }

  /** Asks it to end (stdin closed: the client leaves the room; SIGTERM: serve shuts down), else SIGKILL. */
  async stop(): Promise<void> {
    if (this.#exitCode !== undefined) return;
    if (this.endsBy === 'stdin') this.child.stdin.end();
    else this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(killer);
  }
}

export interface Serve {
  readonly watched: Watched;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
}

/** `toolproxy serve --port 0` in LiveKit mode, joined to `room`: resolves once it listens. */
export async function startServe(
  livekit: LiveKitCredentials,
  room: string,
  extraArgs: readonly string[],
): Promise<Serve> {
  const args = [bin, 'serve', '--port', '0', '--room', room, '--log-format', 'json', ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      // rtc-node logs debug lines on stdout otherwise (stdout carries the one "listening" line).
      NODE_ENV: 'production',
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
    },
  });
  const watched = new Watched(`serve ${extraArgs.join(' ')}`, child, 'stderr', 'signal');
  let out = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /toolproxy listening on (http:\/\/\S+)\n/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void watched.exited.then((code) => reject(new Error(`serve exited (${code}): ${out}`)));
    timer = setTimeout(() => reject(new Error(`serve did not listen within 30 s: ${out}`)), 30_000);
  }).finally(() => clearTimeout(timer));
  return { watched, url };
}

/** The v0.3 client as `identity`, in `room`, with the venv's `python`. */
export function startClient(
  python: string,
  livekit: LiveKitCredentials,
  room: string,
  identity: string,
): Watched {
  const child = spawn(python, ['-u', clientScript, '--room', room, '--identity', identity], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
    },
  });
  return new Watched(`v0.3 client ${identity}`, child, 'stdout', 'stdin');
}

/** A frame the client received: of `type`, matching `fields`. */
export function received(type: string, fields: JsonLine = {}): (line: JsonLine) => boolean {
  return (line) => {
    if (line.event !== 'received') return false;
    const frame = line.frame as JsonLine | undefined;
    return (
      frame?.type === type &&
      Object.entries(fields).every(
        ([key, value]) => JSON.stringify(frame[key]) === JSON.stringify(value),
      )
    );
  };
}
