/**
 * toolproxy/serve: everything `toolproxy serve` runs (the proxy, its bridge, one HTTP server for
 * MCP, hooks and the page), started in the embedder's own process.
 */
export {
  type Env,
  type LiveKitTarget,
  type ServeConfig,
  serveConfig,
  type ServeFlags,
  type SigningKeys,
} from './cli/config.js';
export {
  DEFAULT_SERVE_TIMEOUTS,
  type RunningServe,
  type ServeIo,
  type ServeOptions,
  type ServeTimeouts,
  type StdioServe,
  startServe,
  startStdioServe,
} from './cli/serve.js';
