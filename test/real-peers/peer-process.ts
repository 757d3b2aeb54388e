/**
 * Runs a real peer (the MCP Inspector, the conformance suite) as a child process in a process group
 * of its own, collecting what it prints. Every run is bounded: past its limit the whole group is
 * killed and the run rejects. `killAll()` (afterEach/afterAll) ends whatever is still running,
 * the servers a peer launched included.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PeerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PeerRun {
  readonly child: ChildProcess;
  /** Settles when the process has exited (rejects past the run's limit, after killing it). */
  readonly exited: Promise<PeerExit>;
  /** Resolves with the first match of `pattern` in stderr, once it has been printed. */
  stderrMatch(pattern: RegExp): Promise<RegExpExecArray>;
}

export interface PeerOptions {
  /** The whole environment: nothing else is inherited (see `peerEnv`). */
  env: Record<string, string>;
  cwd?: string;
  /** Default 60 s. */
  limitMs?: number;
}

const running = new Set<ChildProcess>();

/**
 * What a peer inherits: PATH and the given HOME, nothing else, so no proxy setting, Node option or
 * test-runner variable of this process changes what the peer does.
 */
export function peerEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
}

/** A throwaway HOME: the Inspector keeps a catalog and storage under ~/.mcp-inspector. */
export function scratchHome(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'toolproxy-peer-home-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function startPeer(command: string, args: readonly string[], options: PeerOptions): PeerRun {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so killAll reaches the servers it launched
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const watcher of [...watchers]) watcher();
  });
  const limitMs = options.limitMs ?? 60_000;
  const exited = new Promise<PeerExit>((resolve, reject) => {
    const limit = setTimeout(() => {
      killGroup(child);
      reject(
        new Error(
          `${command} ${args.join(' ')} still running after ${limitMs} ms: killed\n${stderr}`,
        ),
      );
    }, limitMs);
    child.once('error', (error) => {
      clearTimeout(limit);
      running.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(limit);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  const stderrMatch = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(stderr);
        if (match === null) return;
        watchers.delete(check);
        resolve(match);
      };
      watchers.add(check);
      check();
      exited.then(
        () => {
          if (!watchers.delete(check)) return;
          reject(new Error(`exited without printing ${pattern}: ${stderr}`));
        },
        (error: unknown) => {
          if (watchers.delete(check)) reject(error);
        },
      );
    });
  return { child, exited, stderrMatch };
}

/** Kills every peer still running, with its process group. */
export function killAll(): void {
  for (const child of running) killGroup(child);
  running.clear();
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
