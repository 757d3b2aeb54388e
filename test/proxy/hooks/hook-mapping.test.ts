/**
 * Hook mapping: the payloads hermes-agent, docker-agent and Claude Code really send (field names as
 * they send them) become the core's lifecycle events, keyed by the right session.
 */
import { describe, expect, it } from 'vitest';
import { HOOK_EVENT_NAMES, type MappedEvent, mapAgentHook } from '../../../proxy/hooks/index.js';
import { hookSource } from '../../../proxy/hooks/index.js';
import { parseLifecycleEvent } from '../../../src/index.js';

/** The events of an accepted hook; fails the test on a refusal. */
function events(event: string, payload: unknown): MappedEvent[] {
  const mapped = mapAgentHook(event, payload);
  if (!mapped.ok) throw new Error(`${event} refused (${mapped.status}): ${mapped.reason}`);
  return mapped.events;
}

/** Fields Claude Code puts in every hook's stdin JSON. */
function claudeCode(hookEventName: string, extra: Record<string, unknown> = {}) {
  return {
    session_id: 'cc-3f1a',
    transcript_path: '/home/dev/.claude/projects/app/cc-3f1a.jsonl',
    cwd: '/home/dev/app',
    permission_mode: 'default',
    hook_event_name: hookEventName,
    ...extra,
  };
}

/** Fields docker-agent puts in every hook's stdin JSON. */
function dockerAgent(hookEventName: string, extra: Record<string, unknown> = {}) {
  return { session_id: 'da-77', cwd: '/work', hook_event_name: hookEventName, ...extra };
}

const HERMES_TELEMETRY = { telemetry_schema_version: 'hermes.observer.v1' };

describe('hermes-agent plugin hooks', () => {
  it('agent_loop_stopped keeps session_key, platform, reason and invalidation_reason', () => {
    const payload = {
      session_key: 'chat-42',
      platform: 'telegram',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
      ...HERMES_TELEMETRY,
    };
    expect(events('agent_loop_stopped', payload)).toEqual([
      {
        name: 'agent_loop_stopped',
        payload: {
          session_key: 'chat-42',
          platform: 'telegram',
          reason: 'Stop requested',
          invalidation_reason: 'stop_command',
        },
      },
    ]);
  });

  it('agent_loop_stopped from the TUI, without telemetry_schema_version', () => {
    const payload = {
      session_key: 'tui-1',
      platform: 'tui',
      reason: 'user_stop',
      invalidation_reason: 'session_interrupt',
    };
    expect(events('agent_loop_stopped', payload)[0]?.payload).toMatchObject({
      session_key: 'tui-1',
      reason: 'user_stop',
    });
  });

  it('on_session_finalize ends session_id', () => {
    const payload = {
      session_id: '20260914_101500_a1b2',
      platform: 'telegram',
      reason: 'new_command',
      old_session_id: '20260914_101500_a1b2',
      new_session_id: '20260914_112000_c3d4',
      ...HERMES_TELEMETRY,
    };
    expect(events('on_session_finalize', payload)).toEqual([
      {
        name: 'session:end',
        payload: {
          session_key: '20260914_101500_a1b2',
          session_id: '20260914_101500_a1b2',
          platform: 'telegram',
          reason: 'new_command',
        },
      },
    ]);
  });

  it('on_session_finalize with session_id None falls back to old_session_id', () => {
    const payload = { session_id: null, platform: 'cli', old_session_id: 'old-1' };
    expect(events('on_session_finalize', payload)[0]?.payload).toMatchObject({
      session_key: 'old-1',
    });
  });

  it('on_session_reset resets the OLD session: the pending calls belong to it', () => {
    const payload = {
      session_id: 'new-2',
      platform: 'telegram',
      reason: 'new_command',
      old_session_id: 'old-1',
      new_session_id: 'new-2',
      ...HERMES_TELEMETRY,
    };
    expect(events('on_session_reset', payload)).toEqual([
      {
        name: 'session:reset',
        payload: {
          session_key: 'old-1',
          session_id: 'new-2',
          platform: 'telegram',
          reason: 'new_command',
        },
      },
    ]);
  });

  it('on_session_reset without old_session_id (plain plugin call) uses session_id', () => {
    expect(
      events('on_session_reset', { session_id: 'new-2', platform: 'cli' })[0]?.payload,
    ).toMatchObject({ session_key: 'new-2' });
  });
});

describe('hermes gateway events', () => {
  it.each(['session:start', 'session:end', 'session:reset'] as const)(
    '%s keeps its name and session_key',
    (name) => {
      const payload = {
        platform: 'discord',
        user_id: 'u-9',
        session_key: 'dm-9',
        session_id: 's-9',
      };
      expect(events(name, payload)).toEqual([
        {
          name,
          payload: {
            session_key: 'dm-9',
            session_id: 's-9',
            platform: 'discord',
            reason: undefined,
          },
        },
      ]);
    },
  );

  it('session:end without session_key (the gateway sends none) carries no key', () => {
    expect(events('session:end', { platform: 'discord', user_id: 'u-9' })[0]?.payload).toEqual({
      platform: 'discord',
    });
  });
});

describe('docker-agent hooks', () => {
  it('session_start → session:start, the source as reason', () => {
    expect(events('session_start', dockerAgent('session_start', { source: 'startup' }))).toEqual([
      {
        name: 'session:start',
        payload: { session_key: 'da-77', session_id: 'da-77', reason: 'startup' },
      },
    ]);
  });

  it('session_end → session:end of session_id', () => {
    const payload = dockerAgent('session_end', { reason: 'prompt_input_exit' });
    expect(events('session_end', payload)).toEqual([
      {
        name: 'session:end',
        payload: { session_key: 'da-77', session_id: 'da-77', reason: 'prompt_input_exit' },
      },
    ]);
  });

  it('stop → stop (which does not cancel)', () => {
    const payload = dockerAgent('stop', {
      stop_response: 'Done.',
      agent_name: 'root',
      last_user_message: 'build it',
    });
    expect(events('stop', payload)).toEqual([
      { name: 'stop', payload: { session_key: 'da-77', session_id: 'da-77' } },
    ]);
  });

  it('notification → notification with its level and message', () => {
    const payload = dockerAgent('notification', {
      notification_level: 'warning',
      notification_message: 'Approaching max iterations',
    });
    expect(events('notification', payload)).toEqual([
      {
        name: 'notification',
        payload: { session_key: 'da-77', message: 'Approaching max iterations', level: 'warning' },
      },
    ]);
  });

  it('turn_end with reason "canceled" → agent_loop_stopped of session_id', () => {
    expect(events('turn_end', dockerAgent('turn_end', { reason: 'canceled' }))).toEqual([
      { name: 'agent_loop_stopped', payload: { session_key: 'da-77', reason: 'canceled' } },
    ]);
  });

  it.each(['normal', 'continue', 'steered', 'error', 'hook_blocked', 'loop_detected'])(
    'turn_end with reason %s is accepted and emits nothing',
    (reason) => {
      expect(events('turn_end', dockerAgent('turn_end', { reason }))).toEqual([]);
    },
  );

  it('other hooks (pre_tool_use) are accepted and emit nothing', () => {
    const payload = dockerAgent('pre_tool_use', {
      tool_name: 'shell',
      tool_use_id: 'tu-1',
      tool_input: { cmd: 'ls' },
    });
    expect(events('pre_tool_use', payload)).toEqual([]);
  });
});

describe('Claude Code hooks', () => {
  it('SessionStart → session:start, the source as reason', () => {
    const payload = claudeCode('SessionStart', { source: 'resume', model: 'claude-sonnet' });
    expect(events('SessionStart', payload)).toEqual([
      {
        name: 'session:start',
        payload: { session_key: 'cc-3f1a', session_id: 'cc-3f1a', reason: 'resume' },
      },
    ]);
  });

  it('SessionEnd → session:end of session_id, with its reason', () => {
    const payload = claudeCode('SessionEnd', { reason: 'prompt_input_exit' });
    expect(events('SessionEnd', payload)).toEqual([
      {
        name: 'session:end',
        payload: { session_key: 'cc-3f1a', session_id: 'cc-3f1a', reason: 'prompt_input_exit' },
      },
    ]);
  });

  it('Stop → stop', () => {
    const payload = claudeCode('Stop', {
      stop_hook_active: false,
      last_assistant_message: 'All tests pass.',
    });
    expect(events('Stop', payload)).toEqual([
      { name: 'stop', payload: { session_key: 'cc-3f1a', session_id: 'cc-3f1a' } },
    ]);
  });

  it('Notification → notification, notification_type as level', () => {
    const payload = claudeCode('Notification', {
      message: 'Claude needs your permission to use Bash',
      title: 'Claude Code',
      notification_type: 'permission_prompt',
    });
    expect(events('Notification', payload)).toEqual([
      {
        name: 'notification',
        payload: {
          session_key: 'cc-3f1a',
          message: 'Claude needs your permission to use Bash',
          level: 'permission_prompt',
        },
      },
    ]);
  });

  it.each([
    ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: 'toolu_1' }],
    [
      'PostToolUse',
      { tool_name: 'Bash', tool_input: {}, tool_response: {}, tool_use_id: 'toolu_1' },
    ],
    ['UserPromptSubmit', { prompt: 'build it' }],
    ['SubagentStop', { stop_hook_active: false }],
  ])('%s is accepted and emits nothing', (name, extra) => {
    expect(events(name, claudeCode(name, extra))).toEqual([]);
  });
});

describe('refusals', () => {
  it('hook_event_name that is not the URL event: 400', () => {
    const mapped = mapAgentHook('SessionEnd', claudeCode('Stop'));
    expect(mapped).toMatchObject({ ok: false, status: 400 });
    expect(mapped.ok || mapped.reason).toMatch(/hook_event_name is "Stop".*"SessionEnd"/);
  });

  it('a docker-agent name posted to a Claude Code URL: 400', () => {
    expect(mapAgentHook('SessionEnd', dockerAgent('session_end'))).toMatchObject({
      ok: false,
      status: 400,
    });
  });

  it.each([
    [
      'SessionEnd',
      claudeCode('SessionEnd', { session_id: 42 }),
      /session_id: expected a string, got a number/,
    ],
    [
      'SessionEnd',
      claudeCode('SessionEnd', { reason: { code: 1 } }),
      /reason: expected a string, got an object/,
    ],
    ['agent_loop_stopped', { session_key: ['a'] }, /session_key: expected a string, got an array/],
    [
      'turn_end',
      dockerAgent('turn_end', { reason: true }),
      /reason: expected a string, got a boolean/,
    ],
    [
      'notification',
      dockerAgent('notification', { notification_message: 7 }),
      /notification_message/,
    ],
    ['SessionEnd', { hook_event_name: 5 }, /hook_event_name: expected a string/],
    ['on_session_reset', { session_id: 'new', old_session_id: 9 }, /old_session_id/],
    [
      'session:end',
      { session_key: 'k'.repeat(1_001) },
      /session_key: must be at most 1000 characters/,
    ],
  ])('%s with a field of the wrong type: 400 naming the field', (name, payload, reason) => {
    const mapped = mapAgentHook(name, payload);
    expect(mapped).toMatchObject({ ok: false, status: 400 });
    expect(mapped.ok || mapped.reason).toMatch(reason);
  });

  it.each([
    ['an array', [{ session_id: 'a' }]],
    ['null', null],
    ['a string', 'SessionEnd'],
    ['a number', 3],
  ])('a body that is %s: 400', (kind, payload) => {
    const mapped = mapAgentHook('SessionEnd', payload);
    expect(mapped).toMatchObject({ ok: false, status: 400 });
    expect(mapped.ok || mapped.reason).toContain(
      `must be a JSON object (the agent's hook input), not ${kind}`,
    );
  });

  it.each(['PostToolCall', 'agent:start', '__proto__', 'constructor', 'toString', ''])(
    'unknown event %j: 404',
    (name) => {
      expect(mapAgentHook(name, {})).toMatchObject({ ok: false, status: 404 });
    },
  );

  it('a wrong case is 404 with the right spelling suggested', () => {
    const mapped = mapAgentHook('sessionend', {});
    expect(mapped).toMatchObject({ ok: false, status: 404 });
    expect(mapped.ok || mapped.reason).toContain('did you mean "SessionEnd"');
  });
});

describe('tolerance', () => {
  it('ignores unknown extra keys and accepts null for optional fields', () => {
    const payload = claudeCode('SessionEnd', { reason: null, future_field: { a: 1 } });
    expect(events('SessionEnd', payload)[0]?.payload).toEqual({
      session_key: 'cc-3f1a',
      session_id: 'cc-3f1a',
    });
  });

  it('cuts over-long free text instead of refusing it', () => {
    const reason = 'x'.repeat(5_000);
    const [event] = events('agent_loop_stopped', { session_key: 'k', reason });
    expect(event?.name).toBe('agent_loop_stopped');
    const cut = event?.name === 'agent_loop_stopped' ? event.payload.reason : undefined;
    expect(cut).toHaveLength(1_000);
    expect(cut?.endsWith('…')).toBe(true);
  });

  it('session_key wins over session_id', () => {
    const payload = claudeCode('SessionEnd', { session_key: 'mapped-key' });
    expect(events('SessionEnd', payload)[0]?.payload).toMatchObject({ session_key: 'mapped-key' });
  });

  it('without hook_event_name, the URL decides (core stop event)', () => {
    expect(events('stop', { session_key: 'k', reason: 'done' })).toEqual([
      { name: 'stop', payload: { session_key: 'k', reason: 'done' } },
    ]);
  });
});

describe('every known event', () => {
  it.each(HOOK_EVENT_NAMES.map((name) => [name]))(
    '%s with a session_id maps to events the core itself accepts',
    (name) => {
      const mapped = events(name, { session_id: 's', hook_event_name: name, reason: 'canceled' });
      for (const event of mapped) {
        expect(parseLifecycleEvent(event.name, event.payload)).toMatchObject({ ok: true });
      }
      expect(hookSource(name)).toBeDefined();
    },
  );
});
