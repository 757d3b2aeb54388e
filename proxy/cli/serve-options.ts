/** What `startServe` is given besides its config (io, timeouts, connection limits) and hands back. */
import type { Readable, Writable } from 'node:stream';
import type { Logger, ToolProxy } from '../../src/index.js';
import { DEFAULT_CONNECTION_SLOTS } from './connection-slots.js';

export interface RunningServe {
  /** `http://HOST:PORT` with the real port. */
  readonly url: string;
  readonly proxy: ToolProxy;
  readonly mode: 'livekit' | 'embedded';
  /** Settles when the stdio MCP client has gone (`--mcp stdio`); never with `--mcp http`. */
  readonly ended: Promise<void>;
  close(): Promise<void>;
}

export interface ServeIo {
  /**
   * Where the one "listening" line goes (stderr in stdio mode: stdout then belongs to MCP).
   * Default: nowhere.
   */
  announce?(line: string): void;
  /** Default: silent. */
  logger?: Logger;
  stdin?: Readable;
  stdout?: Writable;
  /**
   * The agent session the stdio client's calls belong to (Claude Code's `CLAUDE_CODE_SESSION_ID`),
   * so that session's stop or end cancels them and no other session's does.
   */
  sessionKey?: string;
}

/**
 * How long slow or silent clients may hold a connection. Node's own defaults would let a client
 * that dribbles its request headers keep a socket for a minute or more.
 */
export interface ServeTimeouts {
  /**
   * A request's headers (an upgrade's included) must be complete this long after its first byte,
   * or after connecting: else 408 and the connection is closed (Node's `headersTimeout`).
   * Default 10,000 ms.
   */
  headersMs?: number;
  /** The whole request, body included (Node's `requestTimeout`). Default 30,000 ms. */
  requestMs?: number;
  /** How often those two are checked (Node's `connectionsCheckingInterval`). Default 1,000 ms. */
  checkIntervalMs?: number;
  /**
   * The WebSocket bridge pings every provider this often; one that has not answered the previous
   * ping is dropped. Default 5,000 ms.
   */
  pingIntervalMs?: number;
  /**
   * A new socket that has not sent its request head this long after connecting may be closed
   * when room is needed (`maxConnections`); before it, only once every other socket that may be
   * closed has been. Default 250 ms.
   */
  graceMs?: number;
}

export const DEFAULT_SERVE_TIMEOUTS: Required<ServeTimeouts> = {
  headersMs: 10_000,
  requestMs: 30_000,
  checkIntervalMs: 1_000,
  pingIntervalMs: 5_000,
  graceMs: DEFAULT_CONNECTION_SLOTS.graceMs,
};

export interface ServeOptions {
  timeouts?: ServeTimeouts;
  /**
   * Connection slots: requests in progress at once (providers' sockets, MCP streams, hook posts);
   * one that begins past it is closed. With `arrivalRoom`, also the sockets held at once: a
   * newcomer past that closes, oldest first, a silent socket past its grace, an idle keep-alive
   * one, a stalled request, or else a newcomer in its grace, never one being served
   * (proxy/cli/connection-slots.ts). A flood of idle sockets can then neither exhaust the
   * process's file descriptors nor keep a hook or a provider out. Default 1,024.
   */
  maxConnections?: number;
  /**
   * Sockets held beyond `maxConnections`, where a flood's silent sockets may wait rather than be
   * closed and reopened ahead of everyone else in the kernel's accept queue. Default 1,024.
   */
  arrivalRoom?: number;
}
