/**
 * The events on the hook bus: the lifecycle events the agents we serve emit (parsed from untrusted
 * JSON with these schemas), and the proxy's own observable events.
 */
import { z } from 'zod';
import type { CancelReason, ToolProxyError } from '../../shared/errors.js';
import type { ToolAnnotations } from '../../protocol/frames.js';
import { formatIssues } from '../../shared/zod-issues.js';
import type { CallInfo, CallOutcome } from '../calls/outcome.js';

export type { CallInfo, CallOutcome } from '../calls/outcome.js';

const text = z.string().max(1_000);
const optionalText = text.nullish().transform((value) => value ?? undefined);

/** hermes-agent's `agent_loop_stopped` kwargs. */
export const AgentLoopStoppedSchema = z.object({
  session_key: optionalText,
  session_id: optionalText,
  platform: optionalText,
  reason: optionalText,
  invalidation_reason: optionalText,
});

/** hermes gateway `session:start` / `session:end` / `session:reset`, and the like from other agents. */
export const SessionEventSchema = z.object({
  session_key: optionalText,
  session_id: optionalText,
  platform: optionalText,
  reason: optionalText,
});

export const StopEventSchema = z.object({
  session_key: optionalText,
  session_id: optionalText,
  reason: optionalText,
});

export const NotificationEventSchema = z.object({
  session_key: optionalText,
  message: z
    .string()
    .max(10_000)
    .nullish()
    .transform((value) => value ?? undefined),
  level: optionalText,
});

/** Agent lifecycle events: the ones hook ingress accepts from outside. */
const LifecycleEventSchemas = {
  agent_loop_stopped: AgentLoopStoppedSchema,
  'session:start': SessionEventSchema,
  'session:end': SessionEventSchema,
  'session:reset': SessionEventSchema,
  stop: StopEventSchema,
  notification: NotificationEventSchema,
} as const;

/** hermes-agent's `agent_loop_stopped`: the agent loop of `session_key` was interrupted. */
export interface AgentLoopStopped {
  session_key?: string | undefined;
  /** Agents whose events carry only a session id (docker-agent's `turn_end`). */
  session_id?: string | undefined;
  platform?: string | undefined;
  /** Free-form, e.g. "Stop requested", "Session reset requested". */
  reason?: string | undefined;
  /** e.g. "stop_command", "new_command". */
  invalidation_reason?: string | undefined;
}

export interface SessionEvent {
  session_key?: string | undefined;
  session_id?: string | undefined;
  platform?: string | undefined;
  reason?: string | undefined;
}

export interface StopEvent {
  session_key?: string | undefined;
  session_id?: string | undefined;
  reason?: string | undefined;
}

export interface NotificationEvent {
  session_key?: string | undefined;
  message?: string | undefined;
  level?: string | undefined;
}

export interface LifecycleEvents {
  agent_loop_stopped: AgentLoopStopped;
  'session:start': SessionEvent;
  'session:end': SessionEvent;
  'session:reset': SessionEvent;
  stop: StopEvent;
  notification: NotificationEvent;
}
export type LifecycleEventName = keyof LifecycleEvents;

/** Parses an untrusted lifecycle payload (from hook ingress); unknown keys are dropped. */
export function parseLifecycleEvent<K extends LifecycleEventName>(
  name: K,
  payload: unknown,
): { ok: true; event: LifecycleEvents[K] } | { ok: false; error: string } {
  const parsed = LifecycleEventSchemas[name].safeParse(payload);
  if (parsed.success) return { ok: true, event: parsed.data };
  const error = formatIssues(parsed.error.issues, { whole: '(payload)', max: Infinity });
  return { ok: false, error };
}

export interface ToolSummary {
  readonly name: string;
  readonly providerName: string;
  readonly provider: string;
  readonly description: string;
  readonly annotations: ToolAnnotations | undefined;
}

/** The proxy's own events. */
export interface ProxyEvents {
  'tool:registered': { tool: ToolSummary; updated: boolean };
  'tool:unregistered': { tool: ToolSummary; cause: 'unregistered' | 'provider-left' };
  /** A suffixed tool took back its plain name (`tool.name`) when that was freed. */
  'tool:renamed': { tool: ToolSummary; previousName: string };
  'call:started': CallInfo & { timeoutMs: number };
  'call:progress': CallInfo & {
    progress: number;
    total: number | undefined;
    message: string | undefined;
  };
  'call:settled': CallInfo & {
    outcome: CallOutcome;
    durationMs: number;
    reason: CancelReason | undefined;
    error: ToolProxyError | undefined;
  };
}

export type HookEvents = LifecycleEvents & ProxyEvents;
export type HookEventName = keyof HookEvents;
