/**
 * MCP over stdio (newline-delimited JSON-RPC), for agents that launch the proxy as a command.
 * In this mode stdout belongs to the MCP stream: nothing else in the process may write to it (logs,
 * banners, console.log), or the client reads garbage. Keeping it clean is the caller's concern;
 * log to stderr.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { ToolProxy } from '../../src/index.js';
import { createMcpServer, type McpServerOptions } from './server.js';

export interface McpStdioOptions extends McpServerOptions {
  /** Default `process.stdin`. */
  stdin?: Readable;
  /** Default `process.stdout`. */
  stdout?: Writable;
}

export interface McpStdioSession {
  /** Ends the session: running calls are cancelled, the proxy listeners released. Idempotent. */
  close(): Promise<void>;
  /** Settles when the session has ended (by `close()` or when the client closes stdin). */
  readonly closed: Promise<void>;
}

/** Serves the proxy's tools on stdin/stdout until `close()` or the end of stdin. */
export async function serveMcpStdio(
  proxy: ToolProxy,
  options: McpStdioOptions = {},
): Promise<McpStdioSession> {
  const { stdin = process.stdin, stdout = process.stdout, ...serverOptions } = options;
  const mcp = createMcpServer(proxy, serverOptions);
  const transport = new StdioServerTransport(stdin, stdout);
  const close = (): Promise<void> => mcp.server.close();
  const onEnd = (): void => {
    void close();
  };
  const closed = new Promise<void>((resolve) => {
    // Set before connect(): the server chains its own close handling after this one.
    transport.onclose = () => {
      stdin.off('end', onEnd);
      mcp.close();
      resolve();
    };
  });
  stdin.once('end', onEnd);
  try {
    await mcp.server.connect(transport);
  } catch (error) {
    stdin.off('end', onEnd);
    mcp.close();
    throw error;
  }
  return { close, closed };
}
