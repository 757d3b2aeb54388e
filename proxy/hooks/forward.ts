/**
 * `forwardHook`, what the `hook` command does: reads an agent's hook JSON from a stream and
 * forwards it to the proxy's hook ingress, always ending quietly (one warning line on failure,
 * never a throw, nothing on stdout). It lives in forward-command.mjs, plain JavaScript on node:
 * built-ins only, so `toolproxy hook` runs it with no build and none of the CLI's dependencies.
 */
import { forwardHook as forward } from './forward-command.mjs';

export interface ForwardHookOptions {
  /** The hook event, as the URL's `<event>` (e.g. `SessionEnd`, `turn_end`, `agent_loop_stopped`). */
  event: string;
  /** The proxy's base URL, e.g. `http://127.0.0.1:7300`. */
  url: string;
  /** Where the agent's hook JSON comes from (stdin). */
  input: NodeJS.ReadableStream;
  /** Where the one warning line goes on failure (stderr). */
  stderr: { write(text: string): unknown };
  /** Sent as `Authorization: Bearer <secret>`. */
  secret?: string;
  /** Deadline for reading stdin and delivering, together. Default 1,000 ms. */
  timeoutMs?: number;
  /** Largest hook JSON read from `input`. Default 1 MiB. */
  maxInputBytes?: number;
}

/**
 * Reads the hook JSON from `input` and POSTs it to `<url>/hooks/<event>`. Resolves within about
 * `timeoutMs` whatever happens; never rejects.
 */
export function forwardHook(options: ForwardHookOptions): Promise<void> {
  return forward(options);
}
