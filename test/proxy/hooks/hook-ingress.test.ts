/**
 * Hook ingress over real HTTP: a node http.Server on 127.0.0.1 routes `POST /hooks/<event>` to
 * HookIngress, in front of a real ToolProxy on an in-memory room with a scripted provider.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerMatches } from '../../../proxy/bearer.js';
import {
  HookIngress,
  type HookIngressOptions,
  hookEventFromPath,
} from '../../../proxy/hooks/index.js';
import type { ToolProxy } from '../../../src/index.js';
import { observe, type Setup, setup } from '../../support/harness.js';
import { flush } from '../../support/util.js';

interface Served {
  base: string;
  /** What each handle() call returned, to check that none hangs. */
  handled: Array<Promise<void>>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function serve(
  proxy: ToolProxy,
  options: HookIngressOptions = { requireSecret: false },
): Promise<Served> {
  const ingress = new HookIngress(proxy, options);
  const handled: Array<Promise<void>> = [];
  const server = createServer((request, response) => {
    const event = hookEventFromPath(request.url);
    if (event === undefined) {
      response.writeHead(404).end();
      return;
    }
    handled.push(ingress.handle(request, response, event));
  });
  return { base: await listen(server), handled };
}

async function started(options?: HookIngressOptions): Promise<Setup & Served> {
  const ctx = await setup();
  cleanups.push(() => ctx.proxy.close());
  return { ...ctx, ...(await serve(ctx.proxy, options)) };
}

async function post(
  base: string,
  event: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(`${base}/hooks/${event}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

/** A raw request whose body is written by `write` (for chunked, slow or abandoned bodies). */
function rawPost(
  base: string,
  event: string,
  write: (request: ReturnType<typeof httpRequest>) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}/hooks/${event}`, { method: 'POST' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    write(request);
  });
}

describe('cancelling over HTTP', () => {
  it('POST /hooks/agent_loop_stopped cancels the pending call of that session, not others', async () => {
    const { proxy, robot, base } = await started();
    const call = observe(proxy.call('move_arm', { x: 1, y: 2 }, { sessionKey: 'abc' }));
    const other = observe(proxy.call('ping', {}, { sessionKey: 'other' }));
    await flush();
    const callId = robot.callId(0);

    const answer = await post(base, 'agent_loop_stopped', {
      session_key: 'abc',
      platform: 'livekit',
      reason: 'Stop requested',
      invalidation_reason: 'stop_command',
    });

    expect(answer).toMatchObject({
      status: 200,
      body: { accepted: true, events: ['agent_loop_stopped'], cancelled: 1 },
    });
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
      detail: 'Stop requested; stop_command',
    });
    await flush();
    expect(robot.frames('agent:tool-call-cancelled')).toEqual([
      expect.objectContaining({ call_id: callId, reason: 'agent-loop-stopped' }),
    ]);
    expect(other.state()).toBe('pending');
    expect(proxy.pendingCalls).toBe(1);
  });

  it('Claude Code SessionEnd cancels the calls of its session_id', async () => {
    const { proxy, robot, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'cc-1' }));
    await flush();
    const answer = await post(base, 'SessionEnd', {
      session_id: 'cc-1',
      transcript_path: '/home/dev/.claude/projects/app/cc-1.jsonl',
      cwd: '/home/dev/app',
      permission_mode: 'default',
      hook_event_name: 'SessionEnd',
      reason: 'prompt_input_exit',
    });
    expect(answer.body).toEqual({
      accepted: true,
      events: ['session:end'],
      session: 'cc-1',
      cancelled: 1,
      scoped: 1,
      unscoped: 0,
      rule: 'session',
    });
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
      detail: 'prompt_input_exit',
    });
    await flush();
    expect(robot.frames('agent:tool-call-cancelled')).toHaveLength(1);
  });

  it('docker-agent turn_end with reason "canceled" cancels', async () => {
    const { proxy, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'da-1' }));
    await flush();
    const answer = await post(base, 'turn_end', {
      session_id: 'da-1',
      cwd: '/work',
      hook_event_name: 'turn_end',
      reason: 'canceled',
    });
    expect(answer.body).toMatchObject({
      events: ['agent_loop_stopped'],
      session: 'da-1',
      cancelled: 1,
      rule: 'session',
    });
    await expect(call.promise).rejects.toMatchObject({
      reason: 'agent-loop-stopped',
      detail: 'canceled',
    });
  });

  it('hermes on_session_reset cancels the old session (session_id is the new one)', async () => {
    const { proxy, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'old-1' }));
    await flush();
    const answer = await post(base, 'on_session_reset', {
      session_id: 'new-2',
      platform: 'telegram',
      old_session_id: 'old-1',
      new_session_id: 'new-2',
      reason: 'new_command',
    });
    expect(answer.body).toMatchObject({ events: ['session:reset'], cancelled: 1 });
    await expect(call.promise).rejects.toMatchObject({ reason: 'session-reset' });
  });

  it('a percent-encoded event name (session%3Aend) is the gateway event', async () => {
    const { proxy, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'dm-9' }));
    await flush();
    const answer = await post(base, 'session%3Aend', { platform: 'discord', session_key: 'dm-9' });
    expect(answer.body).toMatchObject({ events: ['session:end'], cancelled: 1 });
    await expect(call.promise).rejects.toMatchObject({ reason: 'session-ended' });
  });

  it('a doubly encoded name (session%253Aend) is not session:end', async () => {
    const { proxy, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 'dm-9' }));
    await flush();
    const answer = await post(base, 'session%253Aend', { session_key: 'dm-9' });
    expect(answer).toMatchObject({ status: 404, body: { accepted: false } });
    expect(call.state()).toBe('pending');
  });

  it('a malformed percent escape is a JSON 400 naming it', async () => {
    const { base } = await started();
    const answer = await post(base, 'session%3', { session_key: 'dm-9' });
    expect(answer).toMatchObject({
      status: 400,
      body: { accepted: false, error: expect.stringContaining('percent-encoding') },
    });
  });

  it.each([
    ['Stop', { session_id: 's', hook_event_name: 'Stop', stop_hook_active: false }, ['stop']],
    ['stop', { session_id: 's', hook_event_name: 'stop', stop_response: 'Done.' }, ['stop']],
    ['turn_end', { session_id: 's', hook_event_name: 'turn_end', reason: 'normal' }, []],
    ['PreToolUse', { session_id: 's', hook_event_name: 'PreToolUse', tool_name: 'Bash' }, []],
  ])('%s does not cancel', async (event, body, emitted) => {
    const { proxy, base } = await started();
    const call = observe(proxy.call('ping', {}, { sessionKey: 's' }));
    await flush();
    const answer = await post(base, event, body);
    expect(answer).toMatchObject({
      status: 200,
      body: { accepted: true, events: emitted, cancelled: 0 },
    });
    await flush();
    expect(call.state()).toBe('pending');
    expect(proxy.pendingCalls).toBe(1);
  });

  it('emits on proxy.hooks, where user handlers see the event (a throwing one changes nothing)', async () => {
    const { proxy, base } = await started();
    const seen: unknown[] = [];
    proxy.hooks.on('stop', () => {
      throw new Error('handler bug');
    });
    proxy.hooks.on('stop', (event) => seen.push(event));
    const answer = await post(base, 'Stop', { session_id: 's', hook_event_name: 'Stop' });
    expect(answer.status).toBe(200);
    expect(seen).toEqual([{ session_key: 's', session_id: 's' }]);
  });
});

describe('shared secret', () => {
  const options = { requireSecret: true, secret: 's3cret-token' };

  it('requireSecret: 401 without the secret, 401 with a wrong one, 200 with it', async () => {
    const { base, proxy } = await started(options);
    const call = observe(proxy.call('ping', {}, { sessionKey: 'k' }));
    await flush();
    const stop = { session_key: 'k' };

    const without = await post(base, 'agent_loop_stopped', stop);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await post(base, 'agent_loop_stopped', stop, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const basic = await post(base, 'agent_loop_stopped', stop, { authorization: 's3cret-token' });
    expect(basic.status).toBe(401);
    expect(call.state()).toBe('pending');

    const right = await post(base, 'agent_loop_stopped', stop, {
      authorization: 'Bearer s3cret-token',
    });
    expect(right).toMatchObject({ status: 200, body: { cancelled: 1 } });
    await expect(call.promise).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('the secret is checked before the event: an unknown event without it is 401, not 404', async () => {
    const { base } = await started(options);
    expect((await post(base, 'Nope', {})).status).toBe(401);
  });

  it('requireSecret without a secret is refused at construction', async () => {
    const { proxy } = await setup();
    cleanups.push(() => proxy.close());
    expect(() => new HookIngress(proxy, { requireSecret: true })).toThrow(/no secret/);
    expect(() => new HookIngress(proxy, { requireSecret: true, secret: '' })).toThrow(/no secret/);
  });
});

describe('bad requests', () => {
  it('GET: 405 with Allow: POST', async () => {
    const { base } = await started();
    const response = await fetch(`${base}/hooks/agent_loop_stopped`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expect(await response.json()).toMatchObject({ accepted: false });
  });

  it('a body over maxBodyBytes (declared length): 413, nothing emitted', async () => {
    const { proxy, base } = await started({ requireSecret: false, maxBodyBytes: 1_024 });
    const call = observe(proxy.call('ping', {}));
    await flush();
    const answer = await post(base, 'agent_loop_stopped', { reason: 'x'.repeat(2_000) });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ accepted: false, error: expect.stringContaining('1024') });
    expect(call.state()).toBe('pending');
  });

  it('a chunked body that grows over maxBodyBytes: 413', async () => {
    const { base } = await started({ requireSecret: false, maxBodyBytes: 1_024 });
    const answer = await rawPost(base, 'agent_loop_stopped', (request) => {
      request.write('{"reason":"');
      request.write('x'.repeat(2_000));
      request.end('"}');
    });
    expect(answer.status).toBe(413);
  });

  it('a body that never completes: 408 after bodyTimeoutMs, and handle() resolves', async () => {
    const { base, handled } = await started({ requireSecret: false, bodyTimeoutMs: 100 });
    const answer = await rawPost(base, 'agent_loop_stopped', (request) => {
      request.write('{"session_key":');
    });
    expect(answer.status).toBe(408);
    await expect(Promise.all(handled)).resolves.toBeDefined();
  });

  it('a client that goes away mid-body: handle() resolves, nothing emitted', async () => {
    const { proxy, base, handled } = await started();
    const call = observe(proxy.call('ping', {}));
    await flush();
    const request = httpRequest(`${base}/hooks/agent_loop_stopped`, { method: 'POST' });
    request.on('error', () => {});
    request.write('{"session_key":');
    await expect.poll(() => handled.length).toBe(1);
    request.destroy();
    await expect(Promise.all(handled)).resolves.toBeDefined();
    expect(call.state()).toBe('pending');
  });

  it.each([
    ['not JSON', '{session_key: abc}', /not valid JSON/],
    ['empty', '', /not valid JSON/],
    ['a JSON array', '[]', /must be a JSON object/],
  ])('a body that is %s: 400', async (_kind, body, reason) => {
    const { base } = await started();
    const answer = await post(base, 'agent_loop_stopped', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ accepted: false, error: expect.stringMatching(reason) });
  });

  it('a field of the wrong type: 400 naming the field', async () => {
    const { base } = await started();
    const answer = await post(base, 'SessionEnd', {
      session_id: 42,
      hook_event_name: 'SessionEnd',
    });
    expect(answer).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('session_id: expected a string, got a number') },
    });
  });

  it('hook_event_name that disagrees with the URL: 400', async () => {
    const { base } = await started();
    const answer = await post(base, 'SessionEnd', { session_id: 's', hook_event_name: 'Stop' });
    expect(answer.status).toBe(400);
  });

  it('an unknown event: 404', async () => {
    const { base } = await started();
    const answer = await post(base, 'PostToolCall', {});
    expect(answer).toMatchObject({
      status: 404,
      body: { accepted: false, error: expect.stringContaining('unknown hook event') },
    });
  });
});

describe('hookEventFromPath', () => {
  it.each([
    ['/hooks/SessionEnd', 'SessionEnd'],
    ['/hooks/session:end?x=1', 'session:end'],
    ['/hooks/turn_end/', 'turn_end'],
    ['/hooks/', undefined],
    ['/hooks/a/b', undefined],
    ['/mcp', undefined],
    [undefined, undefined],
  ])('%s → %s', (url, event) => {
    expect(hookEventFromPath(url)).toBe(event);
  });
});

describe('bearerMatches', () => {
  it.each([
    ['Bearer s3cret', true],
    ['bearer s3cret', true],
    ['Bearer   s3cret  ', true],
    ['Bearer s3cre', false],
    ['Bearer s3cret2', false],
    ['Basic s3cret', false],
    ['s3cret', false],
    ['Bearer ', false],
    [undefined, false],
  ])('%j → %s', (header, matches) => {
    expect(bearerMatches(header, 's3cret')).toBe(matches);
  });
});
