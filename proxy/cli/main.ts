/**
 * The `toolproxy` command: serve | token | hook | demo. See `toolproxy --help`.
 */
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { serveConfig, signingKeys } from './config.js';

// Each command loads what it needs when it runs; `hook` (the stop path of command-hook agents)
// loads nothing but node: built-ins.

export const USAGE = `toolproxy: tools registered by room clients, called by AI agents, cancelled the moment the agent stops

Usage:
  toolproxy serve [--host 127.0.0.1] [--port 7300] [--mcp http|stdio] [--room toolproxy] [--log-level info]
                  [--log-format auto|json|pretty] [--providers attribute|any|identities:ID,...]
      Start the proxy. With LIVEKIT_URL (+ LIVEKIT_API_KEY/LIVEKIT_API_SECRET or LIVEKIT_TOKEN) it joins
      that LiveKit room; otherwise it serves the embedded WebSocket bridge at /bridge and a browser page
      at /. One HTTP server carries /mcp (MCP Streamable HTTP), POST /hooks/<event>, GET /healthz.
      Prints "toolproxy listening on http://HOST:PORT"; logs go to stderr, as readable lines at a
      terminal and JSON lines otherwise (--log-format json|pretty to choose). --port 0 picks a free port.
      --mcp stdio: MCP on stdin/stdout (for agents that launch MCP servers as a command); exits 0
      when stdin ends, its calls cancelled. Its calls are in the session CLAUDE_CODE_SESSION_ID when set.
      If a toolproxy already runs on the port, it relays to that one's /mcp instead (and takes the
      port over should that one stop); a port held by another program is an error.
      --mcp-max-sessions N (64): MCP HTTP sessions open at once; at the cap a new one replaces the
      least recently used idle one. --mcp-session-idle 10m (ms, or with ms/s/m/h): unused sessions close.
      --providers: who may register tools. attribute (default): participants whose token carries
      toolproxy.provider=true (what \`toolproxy token\` mints); any: every participant that is not an
      agent; identities:robot-1,robot-2: these identities only. hermes-livekit v0.3 clients mint their
      own token without attributes: admit them with any or identities: (see SECURITY.md).
  toolproxy token --identity NAME [--ttl 6h] [--room toolproxy]
      Print a provider token (signed with LIVEKIT_API_KEY/SECRET or TOOLPROXY_API_KEY/SECRET).
  toolproxy hook <event> [--url http://127.0.0.1:7300]
      Read an agent's hook JSON on stdin and forward it to a running proxy. Always exits 0 within
      about a second; prints nothing on stdout (warnings go to stderr).
  toolproxy demo
      One process: serve, a simulated robot, an agent calling its slow tool, then agent_loop_stopped;
      prints the timeline and how fast the cancel reached the robot.

Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, LIVEKIT_TOKEN, LIVEKIT_ROOM,
TOOLPROXY_API_KEY, TOOLPROXY_API_SECRET, TOOLPROXY_HOOK_SECRET (/hooks and /mcp), TOOLPROXY_URL (for hook),
TOOLPROXY_HOST, TOOLPROXY_PORT, TOOLPROXY_LOG_FORMAT, TOOLPROXY_MCP_MAX_SESSIONS, TOOLPROXY_MCP_SESSION_IDLE_MS,
TOOLPROXY_PROVIDERS, CLAUDE_CODE_SESSION_ID (stdio).`;

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: Readonly<Record<string, string | undefined>>;
}

const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
};

/** Runs one command; resolves with the exit code (serve resolves only when it has shut down). */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'token':
        return await token(rest, io);
      case 'hook':
        // The same module bin/toolproxy.mjs runs directly: node: built-ins only.
        return await (await import('../hooks/forward-command.mjs')).runHookCommand(rest, io);
      case 'demo':
        return await (await import('./demo.js')).runDemo(io.stdout);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`toolproxy: unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    io.stderr.write(
      `toolproxy ${command}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      mcp: { type: 'string' },
      room: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'mcp-max-sessions': { type: 'string' },
      'mcp-session-idle': { type: 'string' },
      providers: { type: 'string' },
    },
  });
  const config = serveConfig(
    {
      ...values,
      logLevel: values['log-level'],
      logFormat: values['log-format'],
      mcpMaxSessions: values['mcp-max-sessions'],
      mcpSessionIdle: values['mcp-session-idle'],
    },
    io.env,
  );
  const [{ pino }, { startServe, startStdioServe }, { logDestination }] = await Promise.all([
    import('pino'),
    import('./serve.js'),
    import('./log-destination.js'),
  ]);
  const stderrIsTty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const logger = pino(
    { level: config.logLevel, base: { name: 'toolproxy' } },
    await logDestination(config.logFormat ?? 'auto', stderrIsTty),
  );
  const stdio = config.mcp === 'stdio';
  const announceTo = stdio ? io.stderr : io.stdout;
  // Claude Code sets it for the stdio servers it launches: their calls are that session's.
  const sessionKey = io.env.CLAUDE_CODE_SESSION_ID;
  const serveIo = {
    logger,
    announce: (line: string) => announceTo.write(`${line}\n`),
    stdin: io.stdin,
    stdout: io.stdout,
    sessionKey: sessionKey === '' ? undefined : sessionKey,
  };
  const running = stdio
    ? await startStdioServe(config, serveIo)
    : await startServe(config, serveIo);
  if (stdio) {
    // Once the MCP session has ended, a late EPIPE from the gone client must not crash the exit.
    io.stdout.on('error', (error) => {
      logger.debug({ error: error.message }, 'stdout failed after the MCP session ended');
    });
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ why }, 'shutting down');
      // Whatever happens, the process is gone within 2 s.
      setTimeout(() => process.exit(0), 2_000).unref();
      void running.close().finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // With --mcp stdio the process lives as long as its client (stdin open, stdout read).
    void running.ended.then(() => {
      stop('the MCP client went away');
    });
  });
  return 0;
}

async function token(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { identity: { type: 'string' }, ttl: { type: 'string' }, room: { type: 'string' } },
  });
  if (values.identity === undefined) throw new Error('--identity NAME is required');
  const keys = signingKeys(io.env);
  if (keys === undefined) {
    throw new Error(
      'set LIVEKIT_API_KEY/LIVEKIT_API_SECRET or TOOLPROXY_API_KEY/TOOLPROXY_API_SECRET (serve logs its development pair)',
    );
  }
  const ttl =
    values.ttl === undefined ? '6h' : /^\d+$/.test(values.ttl) ? Number(values.ttl) : values.ttl;
  const room = values.room ?? io.env.LIVEKIT_ROOM ?? 'toolproxy';
  const { mintProviderToken } = await import('../../bridge/livekit/token.js');
  io.stdout.write(
    `${await mintProviderToken({ ...keys, room, identity: values.identity, ttl })}\n`,
  );
  return 0;
}
