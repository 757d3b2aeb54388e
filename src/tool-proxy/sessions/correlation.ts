/**
 * Correlations: ids a call and a hook about it both carry, so the hook can place the call in its
 * agent session. Built here, once, so the MCP front and the hook ingress make the same strings.
 */

/** Inputs longer than this (as canonical JSON) are not used to correlate: too costly to keep. */
export const MAX_INPUT_CORRELATION_CHARS = 16_384;

/**
 * An agent's id for one tool use: Claude Code's `toolu_…`, in the call's `_meta` and in its
 * `PreToolUse` hook's `tool_use_id`.
 */
export function toolUseCorrelation(toolUseId: string): string {
  return `tool-use:${toolUseId}`;
}

/**
 * A call's input, for agents whose hook sees the input but whose call carries no id (docker-agent's
 * `pre_tool_use`). Key order does not matter; undefined for input too large or not JSON.
 */
export function inputCorrelation(input: unknown): string | undefined {
  const text = canonicalJson(input, 0);
  if (text === undefined || text.length > MAX_INPUT_CORRELATION_CHARS) return undefined;
  return `input:${text}`;
}

const MAX_DEPTH = 32;

function canonicalJson(value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (value === null || typeof value === 'boolean' || typeof value === 'string')
    return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : undefined;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) {
      const text = canonicalJson(item, depth + 1);
      if (text === undefined) return undefined;
      items.push(text);
    }
    return `[${items.join(',')}]`;
  }
  if (typeof value === 'object') {
    const entries: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const text = canonicalJson((value as Record<string, unknown>)[key], depth + 1);
      if (text === undefined) return undefined;
      entries.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${entries.join(',')}}`;
  }
  return undefined;
}
