/**
 * MCP over stdio (newline-delimited JSON-RPC), for agents that launch the proxy as a command.
 * In this mode stdout belongs to the MCP stream: nothing else in the process may write to it (logs,
 * banners, console.log), or the client reads garbage. Keeping it clean is the caller's concern;
 * log to stderr.
 *
 * The session ends with its client: the end of stdin, a stdin error, or a failed write to stdout
 * (EPIPE: the client stopped reading). Its calls still running are then cancelled with reason
 * `caller-gone`, since no one is left to receive their results.
 */
import type { Readable, Writable } from 'node:stream';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { describeUnknown, type ToolProxy } from '../../src/index.js';
import { createMcpServer, type McpServerOptions } from './server.js';

/** The channel the stdio session's calls are tagged with, so they can be cancelled together. */
export const STDIO_CHANNEL = 'mcp-stdio';

export interface McpStdioOptions extends McpServerOptions {
  /** Default `process.stdin`. */
  stdin?: Readable;
  /** Default `process.stdout`. */
  stdout?: Writable;
}

export interface McpStdioSession {
  /** Ends the session: running calls are cancelled, the proxy listeners released. Idempotent. */
  close(): Promise<void>;
  /** Settles when the session has ended (by `close()`, or when the client went away). */
  readonly closed: Promise<void>;
}

/** Serves the proxy's tools on stdin/stdout until `close()` or the client goes away. */
export async function serveMcpStdio(
  proxy: ToolProxy,
  options: McpStdioOptions = {},
): Promise<McpStdioSession> {
  const { stdin, stdout, ...serverOptions } = options;
  const channel = serverOptions.channel ?? STDIO_CHANNEL;
  const mcp = createMcpServer(proxy, { ...serverOptions, channel });
  try {
    return await serveOnStdio(mcp.server, {
      stdin,
      stdout,
      // Before the transport closes: closing it would abort the calls as `caller-aborted`.
      clientGone: (detail) => {
        proxy.cancelChannel(channel, 'caller-gone', detail);
      },
      released: () => mcp.close(),
    });
  } catch (error) {
    mcp.close();
    throw error;
  }
}

export interface StdioServing {
  stdin?: Readable;
  stdout?: Writable;
  /**
   * The client went away (stdin ended or failed, stdout failed); the server closes once this has
   * settled.
   */
  clientGone(detail: string): void | Promise<void>;
  /** The transport has closed, whoever closed it. */
  released(): void;
}

/**
 * Connects `server` to stdin/stdout and watches for its client going away. Shared by the proxy's
 * own stdio server and the relay.
 */
export async function serveOnStdio(
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- the low-level Server, as in server.ts
  server: Server,
  serving: StdioServing,
): Promise<McpStdioSession> {
  const { stdin = process.stdin, stdout = process.stdout } = serving;
  const transport = new StdioServerTransport(stdin, stdout);
  let gone = false;
  const close = (): Promise<void> => server.close();
  const goneBecause = (detail: string): void => {
    if (gone) return;
    gone = true;
    // The session closes whatever clientGone met (it reports its own failures).
    void Promise.resolve()
      .then(() => serving.clientGone(detail))
      .catch(() => undefined)
      .then(close);
  };
  const onEnd = (): void => {
    goneBecause('the MCP client closed stdin');
  };
  const onStdinError = (error: Error): void => {
    goneBecause(`stdin failed: ${describeUnknown(error)}`);
  };
  const onStdoutError = (error: NodeJS.ErrnoException): void => {
    goneBecause(
      error.code === 'EPIPE'
        ? 'the MCP client stopped reading stdout (EPIPE)'
        : `stdout failed: ${describeUnknown(error)}`,
    );
  };
  const unwatch = (): void => {
    stdin.off('end', onEnd);
    stdin.off('close', onEnd);
    stdin.off('error', onStdinError);
    stdout.off('error', onStdoutError);
  };
  const closed = new Promise<void>((resolve) => {
    // Set before connect(): the server chains its own close handling after this one.
    transport.onclose = () => {
      unwatch();
      serving.released();
      resolve();
    };
  });
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  stdin.on('error', onStdinError);
  stdout.on('error', onStdoutError);
  try {
    await server.connect(transport);
  } catch (error) {
    unwatch();
    throw error;
  }
  return { close, closed };
}
