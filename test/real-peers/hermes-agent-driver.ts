/**
 * The test's side of hermes_agent_driver.py: a HERMES_HOME laid out as examples/hermes/README.md
 * tells a user to (the plugin's two files in plugins/toolproxy/, config.yaml with the example's
 * `mcp_servers` entry pointed at the test's `serve` and the plugin enabled), and the driver run by
 * hermes' own python in it, spoken to one JSON line at a time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';

const EXAMPLE = fileURLToPath(new URL('../../examples/hermes/', import.meta.url));
const DRIVER = fileURLToPath(new URL('./hermes_agent_driver.py', import.meta.url));
const ANSWER_LIMIT_MS = 60_000;

export const Loaded = z.object({
  valid_hooks_has_stop: z.boolean(),
  enabled: z.boolean(),
  error: z.string().nullable(),
  hooks: z.array(z.string()),
  warnings: z.array(z.string()),
});
export const Stopped = z.object({
  invoked_at_ms: z.number(),
  hook_us: z.number(),
  ticks: z.number(),
  max_gap_ms: z.number(),
});
/** What a call through hermes came to: hermes' handler's JSON text, or the raw MCP result. */
export const CallResult = z.union([
  z.string(),
  z.object({ is_error: z.boolean(), text: z.string() }),
  z.object({ raised: z.string() }),
]);

/**
 * A HERMES_HOME with the plugin installed and enabled, the example's MCP entry pointed at
 * `mcpUrl`, and `dotenv` in its .env (where the README puts TOOLPROXY_URL for another port).
 */
export function hermesHome(
  mcpUrl: string,
  dotenv: Record<string, string> = {},
): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'toolproxy-hermes-home-'));
  const plugin = join(path, 'plugins', 'toolproxy');
  mkdirSync(plugin, { recursive: true });
  for (const file of ['plugin.yaml', '__init__.py'])
    copyFileSync(join(EXAMPLE, file), join(plugin, file));
  const example = z
    .object({ mcp_servers: z.object({ toolproxy: z.record(z.string(), z.unknown()) }) })
    .parse(parseYaml(readFileSync(join(EXAMPLE, 'config.yaml'), 'utf8')));
  const config = {
    // What `hermes plugins enable toolproxy` writes (README's step).
    plugins: { enabled: ['toolproxy'] },
    mcp_servers: { toolproxy: { ...example.mcp_servers.toolproxy, url: mcpUrl } },
  };
  writeFileSync(join(path, 'config.yaml'), stringifyYaml(config));
  const lines = Object.entries(dotenv).map(([name, value]) => `${name}=${value}\n`);
  writeFileSync(join(path, '.env'), lines.join(''));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

type Answer = Record<string, unknown>;

export class HermesDriver {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<string, (message: Answer) => void>();
  readonly #ended: Promise<void>;
  #next = 0;
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.#onLine(line);
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-20_000);
    });
    this.#ended = new Promise((resolve) => child.once('close', () => resolve()));
  }

  /** Starts the driver with hermes' `python` in `home`; resolves once it is ready. */
  static async start(python: string, home: string, env: Record<string, string>) {
    const child = spawn(python, [DRIVER], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        HERMES_HOME: home,
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const driver = new HermesDriver(child);
    await driver.#answer('ready');
    return driver;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Sends `op` and resolves with the driver's answer; rejects with its error. */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<Answer> {
    const id = `r${++this.#next}`;
    const answer = this.#answer(id);
    this.#child.stdin?.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    const message = await answer;
    if (message.ok !== true)
      throw new Error(`driver ${op} failed: ${String(message.error)}\n${this.#stderr}`);
    return message;
  }

  /** Starts a call through hermes; the promise settles with its result when the call ends. */
  async call(tool: string, args: Record<string, unknown>, context?: Record<string, string>) {
    const id = `c${++this.#next}`;
    const result = this.#answer(`result:${id}`).then((message) => CallResult.parse(message.result));
    const started = this.#answer(id);
    this.#child.stdin?.write(`${JSON.stringify({ id, op: 'call', tool, args, context })}\n`);
    await started;
    return { result };
  }

  async close(): Promise<void> {
    this.#child.stdin?.end();
    const limit = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.#ended;
    clearTimeout(limit);
  }

  #answer(key: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const limit = setTimeout(() => {
        this.#waiting.delete(key);
        reject(new Error(`no answer "${key}" from the hermes driver\n${this.#stderr}`));
      }, ANSWER_LIMIT_MS);
      this.#waiting.set(key, (message) => {
        clearTimeout(limit);
        resolve(message);
      });
      void this.#ended.then(() => {
        if (!this.#waiting.delete(key)) return;
        clearTimeout(limit);
        reject(new Error(`the hermes driver exited before "${key}"\n${this.#stderr}`));
      });
    });
  }

  #onLine(line: string): void {
    let message: Answer;
    try {
      message = z.record(z.string(), z.unknown()).parse(JSON.parse(line));
    } catch {
      return; // not a protocol line
    }
    const key =
      message.event === 'ready'
        ? 'ready'
        : message.event === 'result'
          ? `result:${String(message.id)}`
          : String(message.id);
    const waiter = this.#waiting.get(key);
    this.#waiting.delete(key);
    waiter?.(message);
  }
}
