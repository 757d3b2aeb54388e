/**
 * toolproxy as a user gets it from a tarball: the checkout packed (`npm pack`, whose `prepack`
 * builds) and installed into a consumer project of its own (`npm install <tgz>`). Packing and
 * installing take 11–60 s, so the result is kept in `$TMPDIR/toolproxy-installed/<key>`, where
 * `key` hashes every file that goes into the package or its build: test files running at once
 * share one pack (an exclusive-create lock file, taken over when its holder is gone), and a
 * changed source makes a new one. Entries unused for an hour are removed.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyCheckout, npm } from './packed.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = join(tmpdir(), 'toolproxy-installed');
const UNUSED_FOR_MS = 60 * 60 * 1000;
/** A lock older than this is taken over even if its holder still runs (a hung npm). */
const LOCK_LIMIT_MS = 10 * 60 * 1000;

export interface PackedToolproxy {
  /** The content hash naming this pack. */
  readonly key: string;
  /** `…/toolproxy-<version>.tgz` */
  readonly tarball: string;
  /** The paths `npm pack` put in it. */
  readonly files: readonly string[];
  /** The packed copy of the checkout, built (its node_modules links to the checkout's). */
  readonly checkout: string;
}

export interface InstalledToolproxy extends PackedToolproxy {
  /** A project with only the tarball installed (production dependencies). Do not write in it. */
  readonly consumer: string;
  /** `<consumer>/node_modules/.bin/toolproxy` */
  readonly bin: string;
}

interface Ready {
  readonly tarball: string;
  readonly files: readonly string[];
}

/** The files that go into the package or its build, as `git` sees the working tree. */
function packageInputs(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  const shipped = manifest.files.filter((entry) => !entry.startsWith('!') && entry !== 'dist');
  const always = ['package.json', 'package-lock.json', 'README.md', 'LICENSE'];
  const build = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build-page.mjs'];
  const wanted = (file: string) =>
    always.includes(file) ||
    build.includes(file) ||
    shipped.some((entry) => file === entry || file.startsWith(`${entry}/`));
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && wanted(file))
    .sort();
}

/** sha256 over the inputs' paths and contents (a file deleted but still tracked counts as gone). */
export function packageKey(): string {
  const hash = createHash('sha256');
  for (const file of packageInputs()) {
    if (!existsSync(join(ROOT, file))) continue;
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(ROOT, file)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Takes `lock` (exclusive create), waiting while another live process holds it. */
export async function acquireLock(lock: string): Promise<() => void> {
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, at: Date.now() }));
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: { pid?: number } = {};
    let age = 0;
    try {
      holder = JSON.parse(readFileSync(lock, 'utf8')) as { pid?: number };
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      // Released (or half written) between our attempt and now: try again.
    }
    const gone = typeof holder.pid === 'number' && !pidAlive(holder.pid);
    if (gone || age > LOCK_LIMIT_MS) {
      // Renamed, not removed: of two takers only one moves it, the other tries the create again.
      try {
        renameSync(lock, `${lock}.stale-${process.pid}`);
        rmSync(`${lock}.stale-${process.pid}`, { force: true });
      } catch {
        // Someone else took it over first.
      }
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Removes other entries nobody used for an hour (and whose lock, if any, is not held). */
function prune(keep: string): void {
  let entries: string[];
  try {
    entries = readdirSync(CACHE);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry === keep || entry.endsWith('.lock')) continue;
    const dir = join(CACHE, entry);
    if (existsSync(`${dir}.lock`)) continue;
    const marker = join(dir, 'ready.json');
    try {
      const used = existsSync(marker) ? statSync(marker).mtimeMs : statSync(dir).mtimeMs;
      if (Date.now() - used > UNUSED_FOR_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another test process's prune.
    }
  }
}

/** Writes a consumer project's package.json in `dir` and installs `tarball` there. */
export function installTarball(tarball: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"consumer","private":true,"type":"module"}');
  npm(['install', '--prefer-offline', tarball], dir);
}

function build(dir: string): Ready {
  rmSync(dir, { recursive: true, force: true });
  const checkout = join(dir, 'checkout');
  mkdirSync(checkout, { recursive: true });
  copyCheckout(ROOT, checkout);
  const report = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], checkout)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const [packed] = report;
  if (packed === undefined) throw new Error('npm pack reported no tarball');
  const ready = { tarball: packed.filename, files: packed.files.map((file) => file.path) };
  installTarball(join(dir, ready.tarball), join(dir, 'consumer'));
  writeFileSync(join(dir, 'ready.json'), JSON.stringify(ready));
  return ready;
}

const memo = new Map<string, Promise<InstalledToolproxy>>();

/** The checkout packed and installed, from the cache when these sources were packed before. */
export function installedToolproxy(): Promise<InstalledToolproxy> {
  const key = packageKey();
  let installed = memo.get(key);
  if (installed === undefined) {
    installed = prepare(key);
    memo.set(key, installed);
  }
  return installed;
}

async function prepare(key: string): Promise<InstalledToolproxy> {
  mkdirSync(CACHE, { recursive: true });
  const dir = join(CACHE, key);
  const marker = join(dir, 'ready.json');
  let ready: Ready;
  const release = await acquireLock(`${dir}.lock`);
  try {
    ready = existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as Ready) : build(dir);
    const now = new Date();
    utimesSync(marker, now, now); // in use: not to be pruned for another hour
    prune(key);
  } finally {
    release();
  }
  const consumer = join(dir, 'consumer');
  return {
    key,
    tarball: join(dir, ready.tarball),
    files: ready.files,
    checkout: join(dir, 'checkout'),
    consumer,
    bin: join(consumer, 'node_modules', '.bin', 'toolproxy'),
  };
}

/**
 * A project of a test's own in `dir` whose `node_modules` is the installed consumer's: the
 * README's commands run there (copying files into it, editing them) without touching the shared
 * install. `npx toolproxy` and `node_modules/toolproxy/...` work in it as in the consumer.
 */
export function consumerProject(installed: InstalledToolproxy, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"project","private":true,"type":"module"}');
  symlinkSync(join(installed.consumer, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
