/**
 * The late-stop guard: a stop raised `ageMs` ago (`X-Toolproxy-Event-Age-Ms` on a hook POST, or
 * `proxy.lifecycle(name, event, { ageMs })`) cancels only the calls that had started by the time it
 * was raised, so a stop that got through after retries leaves the next turn's calls alone. The
 * header is validated at the ingress (a whole number of ms, 0 to 600,000; anything else is a 400
 * that cancels nothing). Time is faked: the proxy's clock is `Date.now()`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EVENT_AGE_HEADER,
  MAX_EVENT_AGE_MS,
  parseEventAge,
} from '../../../proxy/hooks/event-age.js';
import { HookIngress, hookEventFromPath } from '../../../proxy/hooks/index.js';
import { observe, setup } from '../../support/harness.js';
import { flush } from '../../support/util.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  vi.useRealTimers();
});

/** With only Date faked, a real macrotask turn lets the in-memory room deliver. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function proxied() {
  const ctx = await setup({ defaultTimeoutMs: 600_000, maxTotalTimeoutMs: 600_000 });
  cleanups.push(() => ctx.proxy.close());
  return ctx;
}

describe('parseEventAge', () => {
  it('takes whole milliseconds from 0 to 600,000; absent is "raised now"', () => {
    expect(parseEventAge(undefined)).toEqual({ ok: true, ageMs: undefined });
    for (const [text, ageMs] of [
      ['0', 0],
      ['7', 7],
      ['011250', 11_250],
      ['600000', MAX_EVENT_AGE_MS],
    ] as const)
      expect(parseEventAge(text), text).toEqual({ ok: true, ageMs });
  });

  it.each([
    '',
    ' 5',
    '5 ',
    '-1',
    '+5',
    '1.5',
    '1e3',
    '0x10',
    'NaN',
    'Infinity',
    '600001',
    '9999999',
    '5, 6',
  ])('refuses %j, saying what is expected', (text) => {
    const parsed = parseEventAge(text);
    expect(parsed.ok).toBe(false);
    expect(parsed).toMatchObject({
      reason: expect.stringMatching(/X-Toolproxy-Event-Age-Ms .*whole number .*0 to 600000/),
    });
  });

  it('refuses a repeated header (an array of values) and clips a long value in the reason', () => {
    expect(parseEventAge(['5', '6']).ok).toBe(false);
    const long = parseEventAge('9'.repeat(500));
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.reason.length).toBeLessThan(300);
  });
});

describe('proxy.lifecycle with ageMs', () => {
  it('a stop raised before the next turn began cancels the earlier call only', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { proxy, robot } = await proxied();
    const earlier = observe(proxy.call('ping', {}, { sessionKey: 'chat' }));
    await flush();
    vi.advanceTimersByTime(500); // the stop is raised here, then retried for 11 s
    const raised = Date.now();
    vi.advanceTimersByTime(1_000);
    const next = observe(proxy.call('ping', {}, { sessionKey: 'chat' }));
    await flush();
    vi.advanceTimersByTime(10_000);

    const outcome = proxy.lifecycle(
      'agent_loop_stopped',
      { session_key: 'chat' },
      { ageMs: Date.now() - raised },
    );
    expect(outcome).toMatchObject({ rule: 'session', cancelled: 1, scoped: 1, spared: 1 });
    await expect(earlier.promise).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
    await flush();
    expect(next.state()).toBe('pending');
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: robot.callId(0) }),
    ]);
    expect(proxy.pendingCalls).toBe(1);

    // A stop raised now takes the call that was spared.
    expect(proxy.lifecycle('agent_loop_stopped', { session_key: 'chat' })).toMatchObject({
      cancelled: 1,
    });
    await expect(next.promise).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
  });

  it('a call started at the very moment the stop was raised is cancelled (at or before)', async () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const { proxy } = await proxied();
    vi.advanceTimersByTime(100);
    const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
    await flush();
    vi.advanceTimersByTime(3_000);
    const outcome = proxy.lifecycle('session:end', { session_id: 's' }, { ageMs: 3_000 });
    expect(outcome).toMatchObject({ cancelled: 1, spared: 0 });
    await expect(call.promise).rejects.toMatchObject({ reason: 'session-ended' });
  });

  it('bounds every rule: unbound calls of an unknown session, and every call for no session', async () => {
    vi.useFakeTimers({ now: 3_000_000 });
    const { proxy } = await proxied();
    const old = [
      observe(proxy.call('ping', {})),
      observe(proxy.call('ping', {}, { sessionKey: 'a' })),
    ];
    await flush();
    vi.advanceTimersByTime(2_000);
    const fresh = [
      observe(proxy.call('ping', {})),
      observe(proxy.call('ping', {}, { sessionKey: 'b' })),
    ];
    await flush();

    // Session "never-seen" is unknown: its stop takes unbound calls, those started by then only.
    const unknown = proxy.lifecycle(
      'agent_loop_stopped',
      { session_key: 'never-seen' },
      { ageMs: 1_000 },
    );
    expect(unknown).toMatchObject({
      rule: 'session-and-unbound',
      scoped: 0,
      unscoped: 1,
      spared: 1,
    });
    await expect(old[0]!.promise).rejects.toMatchObject({ code: 'CANCELLED' });

    const every = proxy.lifecycle('agent_loop_stopped', {}, { ageMs: 1_000 });
    expect(every).toMatchObject({ rule: 'every-call', unscoped: 1, spared: 2 });
    await expect(old[1]!.promise).rejects.toMatchObject({ code: 'CANCELLED' });
    await flush();
    expect(fresh.map((call) => call.state())).toEqual(['pending', 'pending']);
    expect(proxy.pendingCalls).toBe(2);
  });

  it('without ageMs nothing changes (no spared field); a bad ageMs is a RangeError', async () => {
    vi.useFakeTimers({ now: 4_000_000 });
    const { proxy } = await proxied();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'x' }));
    await flush();
    for (const ageMs of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => proxy.lifecycle('agent_loop_stopped', { session_key: 'x' }, { ageMs })).toThrow(
        RangeError,
      );
    expect(call.state()).toBe('pending');
    const outcome = proxy.lifecycle('agent_loop_stopped', { session_key: 'x' });
    expect(outcome).not.toHaveProperty('spared');
    expect(outcome.cancelled).toBe(1);
    await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('X-Toolproxy-Event-Age-Ms at the hook ingress', () => {
  async function ingress() {
    // Only Date is faked: the HTTP client and server keep their real timers.
    vi.useFakeTimers({ now: 5_000_000, toFake: ['Date'] });
    const ctx = await proxied();
    const hooks = new HookIngress(ctx.proxy, { requireSecret: false });
    const server = createServer((request, response) => {
      void hooks.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = async (age: string | undefined, body: unknown) => {
      const response = await fetch(`${base}/hooks/agent_loop_stopped`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(age === undefined ? {} : { [EVENT_AGE_HEADER]: age }),
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    return { ...ctx, post };
  }

  it("a stop retried for 11 s cancels the call it was about, not the next turn's", async () => {
    const { proxy, post } = await ingress();
    const stopped = observe(proxy.call('ping', {}, { sessionKey: 'chat-1' }));
    await settle();
    vi.setSystemTime(Date.now() + 200); // /stop: the plugin files the stop here
    vi.setSystemTime(Date.now() + 800); // the next turn's call
    const next = observe(proxy.call('ping', {}, { sessionKey: 'chat-1' }));
    await settle();
    vi.setSystemTime(Date.now() + 10_200); // the retried stop gets through

    const answer = await post('11000', { session_key: 'chat-1', reason: 'Stop requested' });
    expect(answer).toEqual({
      status: 200,
      body: {
        accepted: true,
        events: ['agent_loop_stopped'],
        session: 'chat-1',
        cancelled: 1,
        scoped: 1,
        unscoped: 0,
        rule: 'session',
        spared: 1,
      },
    });
    await expect(stopped.promise).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
    expect(next.state()).toBe('pending');

    // The same stop without the header (an older plugin) takes the next turn's call too.
    const undated = await post(undefined, { session_key: 'chat-1' });
    expect(undated.body).toMatchObject({ cancelled: 1 });
    expect(undated.body).not.toHaveProperty('spared');
    await expect(next.promise).rejects.toMatchObject({ reason: 'agent-loop-stopped' });
  });

  it.each(['-5', '1.5', '600001', 'soon', ''])(
    'a malformed age (%j) is a 400 naming the header, and cancels nothing',
    async (age) => {
      const { proxy, post } = await ingress();
      const call = observe(proxy.call('ping', {}, { sessionKey: 'chat-2' }));
      await settle();
      const answer = await post(age, { session_key: 'chat-2' });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        accepted: false,
        error: expect.stringContaining('X-Toolproxy-Event-Age-Ms'),
      });
      await settle();
      expect(call.state()).toBe('pending');
      expect(proxy.pendingCalls).toBe(1);
    },
  );
});
