/**
 * Which agent session an MCP `tools/call` belongs to, from what real clients send (PROTOCOL.md
 * section 7.1):
 * - `_meta["toolproxy/sessionKey"]`: the caller names it (our own relay, programs that know);
 * - `_meta["io.nous.hermes/context"].session_key` (else `.session_id`): hermes-agent with
 *   `forward_hermes_context: true`;
 * - the server's own session (`CLAUDE_CODE_SESSION_ID` of a stdio server Claude Code launched);
 * - otherwise nothing on the call: the core places it by its channel (the MCP session) and by its
 *   correlations, which a hook names later: Claude Code's `_meta["claudecode/toolUseId"]` (its
 *   PreToolUse hook carries the same `tool_use_id`) and the call's input (docker-agent's
 *   `pre_tool_use` carries the tool's name and input).
 */
import { type CallOptions, inputCorrelation, toolUseCorrelation } from '../../src/index.js';

/** The request `_meta` key by which a caller names its agent session. */
export const SESSION_KEY_META = 'toolproxy/sessionKey';
/** hermes-agent's per-call context (`forward_hermes_context: true` on the server entry). */
export const HERMES_CONTEXT_META = 'io.nous.hermes/context';
/** Claude Code's id for the tool use, on every `tools/call`. */
export const CLAUDE_CODE_TOOL_USE_META = 'claudecode/toolUseId';

/** Longest id taken from `_meta`: a longer one is ignored, not cut (a cut id could name another). */
const MAX_ID_CHARS = 1_000;

/** The channel of the calls made over MCP HTTP session `sessionId`. */
export function mcpSessionChannel(sessionId: string): string {
  return `mcp:${sessionId}`;
}

export interface PlacementDefaults {
  /** The channel when the transport has no session id (stdio). */
  readonly channel?: string | undefined;
  /** The session of every call that names none (a stdio server's agent session). */
  readonly sessionKey?: string | undefined;
}

/** Where a call goes: its explicit session, its channel, its correlations. */
export function placementOf(
  meta: Record<string, unknown> | undefined,
  args: Record<string, unknown>,
  sessionId: string | undefined,
  defaults: PlacementDefaults,
): Pick<CallOptions, 'sessionKey' | 'channel' | 'correlations'> {
  const channel = sessionId === undefined ? defaults.channel : mcpSessionChannel(sessionId);
  const sessionKey =
    id(meta?.[SESSION_KEY_META]) ??
    hermesSession(meta?.[HERMES_CONTEXT_META]) ??
    defaults.sessionKey;
  if (sessionKey !== undefined) return { sessionKey, channel };
  const correlations: string[] = [];
  const toolUseId = id(meta?.[CLAUDE_CODE_TOOL_USE_META]);
  if (toolUseId !== undefined) correlations.push(toolUseCorrelation(toolUseId));
  const input = inputCorrelation(args);
  if (input !== undefined) correlations.push(input);
  return { channel, correlations };
}

function hermesSession(context: unknown): string | undefined {
  if (typeof context !== 'object' || context === null) return undefined;
  const fields = context as Record<string, unknown>;
  return id(fields.session_key) ?? id(fields.session_id);
}

function id(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value.length <= MAX_ID_CHARS
    ? value
    : undefined;
}
