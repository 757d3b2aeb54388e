/**
 * The routing table of hook ingress: for each `<event>` of `POST /hooks/<event>`, the agent that
 * sends it, the zod schema of its payload (schemas.ts) and the lifecycle events it becomes. The
 * session key is the payload's `session_key`, else its `session_id`, unless the row says otherwise.
 * Only `agent_loop_stopped`, `session:end` and `session:reset` cancel calls (PROTOCOL.md section 7);
 * rows marked "cancels" emit one of them.
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
 * | other docker-agent     | docker-agent           | nothing (accepted)                      | `pre_tool_use`, `turn_start`, ... (DOCKER_AGENT_OTHER) |
 * | `SessionStart`         | Claude Code            | `session:start`                         | session_id; reason = source                       |
 * | `SessionEnd`           | Claude Code            | `session:end` (cancels)                 | session_id; reason                                |
 * | `Stop`                 | Claude Code            | `stop` (does not cancel)                | not run on a user interrupt                       |
 * | `Notification`         | Claude Code            | `notification`                          | message; level = notification_type                |
 * | other Claude Code      | Claude Code            | nothing (accepted)                      | `PreToolUse`, `UserPromptSubmit`, ... (CLAUDE_CODE_OTHER) |
 */
import type { z } from 'zod';
import type { LifecycleEventName, LifecycleEvents } from '../../src/index.js';
import {
  describeIssues,
  HermesLoopStoppedPayload,
  HermesSessionHookPayload,
  NotificationHookPayload,
  OtherHookPayload,
  SessionHookPayload,
  StopHookPayload,
  TurnEndHookPayload,
} from './schemas.js';

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

export interface Route {
  readonly source: HookSource;
  map(
    payload: Record<string, unknown>,
  ): { ok: true; events: MappedEvent[] } | { ok: false; reason: string };
}

function route<S extends z.ZodType>(
  source: HookSource,
  schema: S,
  map: (payload: z.output<S>) => MappedEvent[],
): Route {
  return {
    source,
    map(payload) {
      const parsed = schema.safeParse(payload);
      return parsed.success
        ? { ok: true, events: map(parsed.data) }
        : { ok: false, reason: describeIssues(parsed.error) };
    },
  };
}

interface Keyed {
  session_key?: string | undefined;
  session_id?: string | undefined;
}

const keyOf = (payload: Keyed): string | undefined => payload.session_key ?? payload.session_id;

const nothing = (): MappedEvent[] => [];

type SessionEventName = 'session:start' | 'session:end' | 'session:reset';

/** A session event carrying the payload's key, id, platform and reason (or start `source`). */
function sessionEvent(name: SessionEventName) {
  return (payload: z.output<typeof SessionHookPayload>): MappedEvent[] => [
    {
      name,
      payload: {
        session_key: keyOf(payload),
        session_id: payload.session_id,
        platform: payload.platform,
        reason: payload.reason ?? payload.source,
      },
    },
  ];
}

const stopEvent = (payload: z.output<typeof StopHookPayload>): MappedEvent[] => [
  {
    name: 'stop',
    payload: {
      session_key: keyOf(payload),
      session_id: payload.session_id,
      reason: payload.reason,
    },
  },
];

const notificationEvent = (payload: z.output<typeof NotificationHookPayload>): MappedEvent[] => [
  {
    name: 'notification',
    payload: {
      session_key: keyOf(payload),
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
          session_key: keyOf(payload),
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
          session_key: keyOf(payload) ?? payload.old_session_id,
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
  'pre_tool_use',
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
              payload: { session_key: keyOf(payload), reason: 'canceled' },
            },
          ]
        : [],
    ),
  ],
  ...DOCKER_AGENT_OTHER.map((name): [string, Route] => [
    name,
    route('docker-agent', OtherHookPayload, nothing),
  ]),
];

/** Claude Code hook names that map to nothing: accepted, no event. */
const CLAUDE_CODE_OTHER = [
  'PreToolUse',
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
