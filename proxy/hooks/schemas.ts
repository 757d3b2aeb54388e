/**
 * zod schemas for the hook payloads agents really send (hermes-agent plugin hooks and gateway
 * events, docker-agent and Claude Code command hooks). Only the fields the mapping reads are
 * declared; unknown keys are dropped. Every field is optional and may be `null` (hermes passes
 * Python `None` through), but a present field of the wrong type is refused with a message a person
 * can act on. Identifiers that are too long are refused (a cut key could name another session);
 * free text that is too long is cut.
 */
import { z } from 'zod';

/** Matches the core's cap on `session_key`, `platform` and the like (src/tool-proxy/hooks/events.ts). */
export const MAX_ID_CHARS = 1_000;
/** Matches the core's cap on free-form reasons. */
export const MAX_TEXT_CHARS = 1_000;
/** Matches the core's cap on a notification's message. */
export const MAX_MESSAGE_CHARS = 10_000;

/** `null`, `an array`, `a number`...: what a value is, for messages. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const kind = typeof value;
  return kind === 'object' ? 'an object' : `a ${kind}`;
}

const string = z.string({ error: (issue) => `expected a string, got ${kindOf(issue.input)}` });

/** An identifier: session key or id, platform, user id, event name. Too long is an error. */
const id = string
  .max(MAX_ID_CHARS, `must be at most ${MAX_ID_CHARS} characters`)
  .nullish()
  .transform((value) => value ?? undefined);

/** Free text: kept to `max` characters, the cut marked with an ellipsis. */
function text(max: number) {
  return string.nullish().transform((value) => (value == null ? undefined : clip(value, max)));
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

const reason = text(MAX_TEXT_CHARS);
const message = text(MAX_MESSAGE_CHARS);

/** Fields every agent hook may carry; `session_key` wins over `session_id` as the session key. */
const common = {
  hook_event_name: id,
  session_key: id,
  session_id: id,
};

/** hermes-agent plugin hook `agent_loop_stopped` (and the core event of that name). */
export const HermesLoopStoppedPayload = z.object({
  ...common,
  platform: id,
  reason,
  invalidation_reason: reason,
  telemetry_schema_version: id,
});

/** hermes-agent plugin hooks `on_session_finalize` and `on_session_reset`. */
export const HermesSessionHookPayload = z.object({
  ...common,
  platform: id,
  reason,
  old_session_id: id,
  new_session_id: id,
  telemetry_schema_version: id,
});

/**
 * Session start / end / reset: hermes gateway `session:*` events, docker-agent `session_start` /
 * `session_end`, Claude Code `SessionStart` / `SessionEnd`. `source` is the start's cause
 * (`startup|resume|clear|compact`), `reason` the end's (`clear|logout|prompt_input_exit|other`).
 */
export const SessionHookPayload = z.object({
  ...common,
  platform: id,
  user_id: id,
  reason,
  source: reason,
});

/** docker-agent `stop`, Claude Code `Stop`, the core `stop`: the model finished its answer. */
export const StopHookPayload = z.object({ ...common, reason });

/**
 * Notifications: docker-agent (`notification_level`, `notification_message`), Claude Code
 * (`message`, `notification_type`), the core event (`message`, `level`).
 */
export const NotificationHookPayload = z.object({
  ...common,
  message,
  level: reason,
  notification_message: message,
  notification_level: reason,
  notification_type: reason,
});

/** docker-agent `turn_end`: `reason` is `normal|continue|steered|error|canceled|hook_blocked|loop_detected`. */
export const TurnEndHookPayload = z.object({ ...common, reason });

/**
 * Tool hooks that place a call in its session: Claude Code `PreToolUse` (`tool_use_id` is also on
 * the `tools/call`), docker-agent `pre_tool_use` (found by `tool_name` and `tool_input`).
 */
export const ToolHookPayload = z.object({
  ...common,
  tool_name: id,
  tool_use_id: id,
  tool_input: z.unknown().optional(),
});

/** Any other known agent hook: accepted, nothing emitted; only the common fields are checked. */
export const OtherHookPayload = z.object(common);
