/**
 * The routing table of hook ingress: for each `<event>` of `POST /hooks/<event>`, the agent that
 * sends it, the zod schema of its payload (schemas.ts), the lifecycle events it becomes and the
 * session bindings it gives. The core names the session (`session_key`, else `session_id`) and
 * decides what cancels (src/tool-proxy/sessions/lifecycle.ts); rows marked "cancels" become an event that does.
 * Rows marked "binds" place a call in the hook's session (src/tool-proxy/sessions/session-router.ts).
 *
 * | `<event>`              | sent by                | emits                                   | session key / notes                               |
 * | ---------------------- | ---------------------- | --------------------------------------- | ------------------------------------------------- |
 * | `agent_loop_stopped`   | hermes-agent plugin    | `agent_loop_stopped` (cancels)          | session_key; reason, invalidation_reason, platform |
 * | `on_session_finalize`  | hermes-agent plugin    | `session:end` (cancels)                 | session_id, else old_session_id                   |
 * | `on_session_reset`     | hermes-agent plugin    | `session:reset` (cancels)               | old_session_id, else session_id (the new one)     |
 * | `session:start`        | hermes gateway         | `session:start`                         | session_key; platform                             |
 * | `session:end`          | hermes gateway         | `session:end` (cancels)                 | session_key; platform                             |
 * | `session:reset`        | hermes gateway         | `session:reset` (cancels)               | session_key; platform                             |
 * | `session_start`        | docker-agent           | `session:start`                         | session_id; reason = source                       |
 * | `session_end`          | docker-agent           | `session:end` (cancels)                 | session_id; reason                                |
 * | `turn_end`             | docker-agent           | `reason: "canceled"`: `agent_loop_stopped` {reason: "canceled"} (cancels); other reasons: nothing | session_id |
 * | `stop`                 | docker-agent, or core  | `stop` (does not cancel)                | session_id                                        |
 * | `notification`         | docker-agent, or core  | `notification`                          | message = notification_message, level = notification_level (core: message, level) |
 * | `pre_tool_use`         | docker-agent           | nothing; binds (tool_name + tool_input) | session_id                                        |
 * | other docker-agent     | docker-agent           | nothing (accepted)                      | `post_tool_use`, `turn_start`, ... (DOCKER_AGENT_OTHER) |
 * | `SessionStart`         | Claude Code            | `session:start`                         | session_id; reason = source                       |
 * | `SessionEnd`           | Claude Code            | `session:end` (cancels)                 | session_id; reason                                |
 * | `Stop`                 | Claude Code            | `stop` (does not cancel)                | not run on a user interrupt                       |
 * | `Notification`         | Claude Code            | `notification`                          | message; level = notification_type                |
 * | `PreToolUse`           | Claude Code            | nothing; binds (tool_use_id of mcp__ tools) | session_id                                    |
 * | other Claude Code      | Claude Code            | nothing (accepted)                      | `PostToolUse`, `UserPromptSubmit`, ... (CLAUDE_CODE_OTHER) |
 */
import type { z } from 'zod';
import {
  inputCorrelation,
  type LifecycleEventName,
  type LifecycleEvents,
  type SessionEvidence,
  sessionOf,
  toolUseCorrelation,
} from '../../src/index.js';
import { formatIssues } from '../../src/front-seam.js';
import {
  HermesLoopStoppedPayload,
  HermesSessionHookPayload,
  NotificationHookPayload,
  OtherHookPayload,
  SessionHookPayload,
  StopHookPayload,
  ToolHookPayload,
  TurnEndHookPayload,
} from './schemas.js';

/** A hook's payload problems, all of them; an issue about the whole payload is its message. */
const ISSUES = { whole: '', max: Infinity } as const;

/** One lifecycle event to emit on `proxy.hooks`, name and payload correlated. */
export type MappedEvent = {
  [K in LifecycleEventName]: { name: K; payload: LifecycleEvents[K] };
}[LifecycleEventName];

export type HookSource =
  | 'hermes-agent plugin'
  | 'hermes gateway'
  | 'docker-agent'
  | 'Claude Code'
  | 'docker-agent or core';

/** What one hook becomes: lifecycle events to apply, and session bindings to record. */
export interface MappedHook {
  readonly events: MappedEvent[];
  readonly bindings: SessionEvidence[];
}

export interface Route {
  readonly source: HookSource;
  map(
    payload: Record<string, unknown>,
  ): ({ ok: true } & MappedHook) | { ok: false; reason: string };
}

function route<S extends z.ZodType>(
  source: HookSource,
  schema: S,
  map: (payload: z.output<S>) => MappedEvent[],
  bind: (payload: z.output<S>) => SessionEvidence[] = noBindings,
): Route {
  return {
    source,
    map(payload) {
      const parsed = schema.safeParse(payload);
      return parsed.success
        ? { ok: true, events: map(parsed.data), bindings: bind(parsed.data) }
        : { ok: false, reason: formatIssues(parsed.error.issues, ISSUES) };
    },
  };
}

interface Keyed {
  session_key?: string | undefined;
  session_id?: string | undefined;
}

/** The session as the core names it (`sessionOf`: the key, else the id), and the id as sent. */
const keyed = (payload: Keyed) => ({
  session_key: sessionOf(payload),
  session_id: payload.session_id,
});

const nothing = (): MappedEvent[] => [];
const noBindings = (): SessionEvidence[] => [];

type ToolHook = z.output<typeof ToolHookPayload>;

/** Claude Code's PreToolUse of one of its MCP tools: its `tool_use_id` is on the `tools/call` too. */
const claudeCodeBinding = (payload: ToolHook): SessionEvidence[] => {
  const { session_id: session, tool_use_id: toolUseId, tool_name: tool } = payload;
  if (session === undefined || toolUseId === undefined || !tool?.startsWith('mcp__')) return [];
  return [{ session, correlation: toolUseCorrelation(toolUseId) }];
};

/** docker-agent's pre_tool_use: its MCP client sends no id, so the call is found by name and input. */
const dockerAgentBinding = (payload: ToolHook): SessionEvidence[] => {
  const { session_id: session, tool_name: tool, tool_input: input } = payload;
  if (session === undefined || tool === undefined || input === undefined) return [];
  const correlation = inputCorrelation(input);
  return correlation === undefined ? [] : [{ session, correlation, tool }];
};

type SessionEventName = 'session:start' | 'session:end' | 'session:reset';

/** A session event carrying the payload's key, id, platform and reason (or start `source`). */
function sessionEvent(name: SessionEventName) {
  return (payload: z.output<typeof SessionHookPayload>): MappedEvent[] => [
    {
      name,
      payload: {
        ...keyed(payload),
        platform: payload.platform,
        reason: payload.reason ?? payload.source,
      },
    },
  ];
}

const stopEvent = (payload: z.output<typeof StopHookPayload>): MappedEvent[] => [
  {
    name: 'stop',
    payload: { ...keyed(payload), reason: payload.reason },
  },
];

const notificationEvent = (payload: z.output<typeof NotificationHookPayload>): MappedEvent[] => [
  {
    name: 'notification',
    payload: {
      session_key: sessionOf(payload),
      message: payload.notification_message ?? payload.message,
      level: payload.notification_level ?? payload.level ?? payload.notification_type,
    },
  },
];

const hermesPlugin: Array<[string, Route]> = [
  [
    'agent_loop_stopped',
    route('hermes-agent plugin', HermesLoopStoppedPayload, (payload) => [
      {
        name: 'agent_loop_stopped',
        payload: {
          session_key: sessionOf(payload),
          platform: payload.platform,
          reason: payload.reason,
          invalidation_reason: payload.invalidation_reason,
        },
      },
    ]),
  ],
  [
    'on_session_finalize',
    route('hermes-agent plugin', HermesSessionHookPayload, (payload) => [
      {
        name: 'session:end',
        payload: {
          session_key: sessionOf(payload) ?? payload.old_session_id,
          session_id: payload.session_id,
          platform: payload.platform,
          reason: payload.reason,
        },
      },
    ]),
  ],
  [
    // `session_id` is the new session; the pending calls belong to the old one.
    'on_session_reset',
    route('hermes-agent plugin', HermesSessionHookPayload, (payload) => [
      {
        name: 'session:reset',
        payload: {
          session_key: payload.session_key ?? payload.old_session_id ?? payload.session_id,
          session_id: payload.session_id,
          platform: payload.platform,
          reason: payload.reason,
        },
      },
    ]),
  ],
];

const hermesGateway: Array<[string, Route]> = (
  ['session:start', 'session:end', 'session:reset'] as const
).map((name): [string, Route] => [
  name,
  route('hermes gateway', SessionHookPayload, sessionEvent(name)),
]);

/** docker-agent hook names (`pkg/hooks/types.go`) that map to nothing: accepted, no event. */
const DOCKER_AGENT_OTHER = [
  'post_tool_use',
  'on_user_input',
  'permission_request',
  'user_prompt_submit',
  'pre_compact',
  'subagent_stop',
  'turn_start',
  'before_llm_call',
  'after_llm_call',
  'tool_response_transform',
  'on_error',
  'on_max_iterations',
  'on_agent_switch',
  'on_session_resume',
  'on_tool_approval_decision',
];

const dockerAgent: Array<[string, Route]> = [
  ['session_start', route('docker-agent', SessionHookPayload, sessionEvent('session:start'))],
  ['session_end', route('docker-agent', SessionHookPayload, sessionEvent('session:end'))],
  ['stop', route('docker-agent or core', StopHookPayload, stopEvent)],
  ['notification', route('docker-agent or core', NotificationHookPayload, notificationEvent)],
  [
    'turn_end',
    route('docker-agent', TurnEndHookPayload, (payload) =>
      payload.reason === 'canceled'
        ? [
            {
              name: 'agent_loop_stopped',
              payload: { session_key: sessionOf(payload), reason: 'canceled' },
            },
          ]
        : [],
    ),
  ],
  ['pre_tool_use', route('docker-agent', ToolHookPayload, nothing, dockerAgentBinding)],
  ...DOCKER_AGENT_OTHER.map((name): [string, Route] => [
    name,
    route('docker-agent', OtherHookPayload, nothing),
  ]),
];

/** Claude Code hook names that map to nothing: accepted, no event. */
const CLAUDE_CODE_OTHER = [
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'UserPromptSubmit',
  'StopFailure',
  'SubagentStart',
  'SubagentStop',
  'PreCompact',
  'PostCompact',
  'Setup',
  'TaskCreated',
  'TaskCompleted',
  'Elicitation',
  'ElicitationResult',
];

const claudeCode: Array<[string, Route]> = [
  ['SessionStart', route('Claude Code', SessionHookPayload, sessionEvent('session:start'))],
  ['SessionEnd', route('Claude Code', SessionHookPayload, sessionEvent('session:end'))],
  ['Stop', route('Claude Code', StopHookPayload, stopEvent)],
  ['Notification', route('Claude Code', NotificationHookPayload, notificationEvent)],
  ['PreToolUse', route('Claude Code', ToolHookPayload, nothing, claudeCodeBinding)],
  ...CLAUDE_CODE_OTHER.map((name): [string, Route] => [
    name,
    route('Claude Code', OtherHookPayload, nothing),
  ]),
];

/** A Map, not an object: `__proto__` or `constructor` in a URL must be unknown, not inherited. */
export const ROUTES: ReadonlyMap<string, Route> = new Map([
  ...hermesPlugin,
  ...hermesGateway,
  ...dockerAgent,
  ...claudeCode,
]);
