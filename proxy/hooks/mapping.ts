/**
 * `mapAgentHook`: one hook as an agent sent it (the URL's `<event>` and the JSON body) becomes the
 * lifecycle events to emit, or a refusal: 404 for an unknown event, 400 for a body that is not a
 * JSON object, a `hook_event_name` that names another event, or a field of the wrong type. Which
 * event becomes what is the table in routes.ts.
 */
import { kindOf } from './schemas.js';
import { type HookSource, type MappedHook, ROUTES } from './routes.js';

export type HookMapping =
  ({ ok: true } & MappedHook) | { ok: false; status: 400 | 404; reason: string };

/** Every event name `POST /hooks/<event>` accepts. */
export const HOOK_EVENT_NAMES: readonly string[] = [...ROUTES.keys()];

export function isKnownHookEvent(event: string): boolean {
  return ROUTES.has(event);
}

/** Which agent sends `event` (undefined if unknown). */
export function hookSource(event: string): HookSource | undefined {
  return ROUTES.get(event)?.source;
}

/**
 * Maps one hook (`event` from the URL, `payload` the parsed JSON body) onto lifecycle events and
 * session bindings.
 * 404: unknown event. 400: the body is not a JSON object, its `hook_event_name` names another
 * event, or a field has the wrong type. An accepted hook may map to no event.
 */
export function mapAgentHook(event: string, payload: unknown): HookMapping {
  const found = ROUTES.get(event);
  if (found === undefined) return { ok: false, status: 404, reason: unknownEventReason(event) };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return {
      ok: false,
      status: 400,
      reason: `the body of ${event} must be a JSON object (the agent's hook input), not ${kindOf(payload)}`,
    };
  }
  const fields = payload as Record<string, unknown>;
  const named = fields.hook_event_name;
  if (typeof named === 'string' && named !== event) {
    return {
      ok: false,
      status: 400,
      reason: `hook_event_name is "${clipForMessage(named)}" but the URL names "${event}": post each hook to /hooks/<its hook_event_name>`,
    };
  }
  const mapped = found.map(fields);
  return mapped.ok
    ? mapped
    : { ok: false, status: 400, reason: `invalid ${event} payload: ${mapped.reason}` };
}

/** Why `event` is not accepted, naming the close match or the known names. */
export function unknownEventReason(event: string): string {
  const shown = clipForMessage(event);
  const lower = event.toLowerCase();
  const near = HOOK_EVENT_NAMES.find((name) => name.toLowerCase() === lower);
  if (near !== undefined)
    return `unknown hook event "${shown}"; did you mean "${near}"? (names are case-sensitive)`;
  return (
    `unknown hook event "${shown}"; known: hermes-agent agent_loop_stopped, on_session_finalize, ` +
    `on_session_reset; hermes gateway session:start, session:end, session:reset; docker-agent ` +
    `session_start, session_end, turn_end, stop, notification (and its other hooks); Claude Code ` +
    `SessionStart, SessionEnd, Stop, Notification (and its other hooks)`
  );
}

function clipForMessage(value: string): string {
  return value.length <= 80 ? value : `${value.slice(0, 79)}…`;
}
