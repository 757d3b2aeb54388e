/**
 * For the packaging test: a copy of the checkout to pack, `npm` run with a clean environment, and a
 * `toolproxy serve` child to wait on.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment without the outer `npm test`'s `npm_*` variables (its lifecycle event, its
 * config), so a child npm behaves as one a user starts.
 */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.toLowerCase().startsWith('npm_')) env[name] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', ...extra };
}

export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  options: { input?: string; env?: Record<string, string> } = {},
): Ran {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: options.env ?? userEnv(),
    input: options.input ?? '',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `npm …` and expects it to succeed, saying what npm said when it does not. */
export function npm(args: readonly string[], cwd: string): string {
  const result = run('npm', ['--no-audit', '--no-fund', ...args], cwd);
  expect(result.status, `npm ${args.join(' ')}:\n${result.stdout}${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The checkout's files (tracked and new, not ignored) copied to `to`, node_modules linked. */
export function copyCheckout(root: string, to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && file !== 'node_modules' && !file.startsWith('node_modules/'));
  for (const file of files) {
    try {
      cpSync(join(root, file), join(to, file), { recursive: true });
    } catch {
      // A file deleted in the working tree but still tracked: nothing to copy.
    }
  }
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'));
}

/** A node_modules of links to the checkout's packages, but for `names`. */
export function modulesWithout(root: string, dir: string, names: readonly string[]): string {
  mkdirSync(dir);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (names.includes(entry)) continue;
    symlinkSync(join(root, 'node_modules', entry), join(dir, entry));
  }
  return dir;
}

export interface Serving {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the child wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Resolves once stderr has a line matching `pattern`. */
  logged(pattern: RegExp): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `command args` (a `toolproxy serve`) and resolves with its URL once it listens. */
export async function serving(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Serving> {
  const child = spawn(command, args, options);
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /toolproxy listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited ${String(code)}: ${stderr}`)));
  });
  return {
    url,
    child,
    stderr: () => stderr,
    logged: (pattern) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!pattern.test(stderr)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
