/**
 * The `hook` command's logic: forwardHook reads the agent's hook JSON from stdin, POSTs it to the
 * proxy and always ends quietly, within its deadline, with at most one warning line on stderr.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forwardHook, HookIngress } from '../../../proxy/hooks/index.js';
import { hookEventFromPath } from '../../../proxy/hooks/index.js';
import { observe, setup } from '../../support/harness.js';
import { closeHookServers, listen, recorder } from '../../support/hook-server.js';
import { deferred, flush } from '../../support/util.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeHookServers();
});

function stdin(text?: string): PassThrough {
  const input = new PassThrough();
  if (text !== undefined) input.end(text);
  return input;
}

function stderr() {
  const lines: string[] = [];
  return { lines, write: (text: string) => lines.push(text) };
}

/** Watches process.stdout: the command must never write there (agents read it as a decision). */
function watchStdout() {
  return vi.spyOn(process.stdout, 'write');
}

const SESSION_END = {
  session_id: 'cc-1',
  transcript_path: '/home/dev/.claude/projects/app/cc-1.jsonl',
  cwd: '/home/dev/app',
  permission_mode: 'default',
  hook_event_name: 'SessionEnd',
  reason: 'prompt_input_exit',
};

describe('forwardHook', () => {
  it('delivers the stdin JSON to <url>/hooks/<event>, with the secret, silently', async () => {
    const { base, received } = await recorder();
    const err = stderr();
    const stdout = watchStdout();
    await forwardHook({
      event: 'SessionEnd',
      url: base,
      input: stdin(JSON.stringify(SESSION_END)),
      stderr: err,
      secret: 'tok',
    });
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/hooks/SessionEnd',
        authorization: 'Bearer tok',
        contentType: 'application/json',
        body: JSON.stringify(SESSION_END),
      },
    ]);
    expect(err.lines).toEqual([]);
    expect(stdout).not.toHaveBeenCalled();
  });

  it('keeps a base path and a readable colon: <base>/prefix/hooks/session:end', async () => {
    const { base, received } = await recorder();
    const err = stderr();
    await forwardHook({
      event: 'session:end',
      url: `${base}/prefix/`,
      input: stdin('{"session_key":"k"}'),
      stderr: err,
    });
    expect(received.map((r) => [r.url, r.authorization])).toEqual([
      ['/prefix/hooks/session:end', undefined],
    ]);
    expect(err.lines).toEqual([]);
  });

  it('end to end: a Claude Code SessionEnd through HookIngress cancels the session', async () => {
    const { proxy } = await setup();
    cleanups.push(() => proxy.close());
    const ingress = new HookIngress(proxy, { requireSecret: false });
    const { base } = await listen((request, response) => {
      void ingress.handle(request, response, hookEventFromPath(request.url) ?? '');
    });
    const call = observe(proxy.call('ping', {}, { sessionKey: 'cc-1' }));
    await flush();
    const err = stderr();
    await forwardHook({
      event: 'SessionEnd',
      url: base,
      input: stdin(JSON.stringify(SESSION_END)),
      stderr: err,
    });
    expect(err.lines).toEqual([]);
    await expect(call.promise).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'session-ended',
    });
  });

  it('proxy down (closed port): resolves with one warning line, nothing else', async () => {
    const { server, base } = await listen(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = stderr();
    const stdout = watchStdout();
    await forwardHook({ event: 'Stop', url: base, input: stdin('{}'), stderr: err });
    expect(err.lines).toHaveLength(1);
    expect(err.lines[0]).toMatch(
      /^toolproxy hook: Stop not delivered: .*could not be reached.*\n$/,
    );
    expect(err.lines[0]).toContain('ECONNREFUSED');
    expect(stdout).not.toHaveBeenCalled();
  });

  it('a server that never answers: resolves after about timeoutMs with a warning', async () => {
    const arrived = deferred();
    // Accepts, reads nothing, never answers.
    const { base } = await listen(() => arrived.resolve(undefined));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const err = stderr();
    const forwarding = observe(
      forwardHook({
        event: 'turn_end',
        url: base,
        input: stdin('{"reason":"canceled"}'),
        stderr: err,
        timeoutMs: 150,
      }),
    );
    await arrived.promise;
    await vi.advanceTimersByTimeAsync(149);
    expect(forwarding.state()).toBe('pending');
    expect(err.lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await forwarding.promise;
    expect(err.lines).toEqual([
      'toolproxy hook: turn_end not delivered: no answer within 150 ms\n',
    ]);
  });

  it('the deadline is a plain setTimeout: fake timers drive it (default 1,000 ms)', async () => {
    const arrived = deferred();
    const { base } = await listen(() => arrived.resolve(undefined));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const err = stderr();
    const forwarding = observe(
      forwardHook({ event: 'Stop', url: base, input: stdin('{}'), stderr: err }),
    );
    await arrived.promise; // the request is at the server, which will never answer
    await vi.advanceTimersByTimeAsync(999);
    expect(forwarding.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    await forwarding.promise;
    expect(err.lines).toEqual(['toolproxy hook: Stop not delivered: no answer within 1000 ms\n']);
  });

  it('stdin that never ends: resolves at the deadline with a warning, nothing posted', async () => {
    const { base, received } = await recorder();
    const err = stderr();
    await forwardHook({ event: 'Stop', url: base, input: stdin(), stderr: err, timeoutMs: 100 });
    expect(err.lines).toEqual([
      'toolproxy hook: Stop not delivered: stdin did not end within 100 ms\n',
    ]);
    expect(received).toEqual([]);
  });

  it.each([
    ['not JSON', '{"session_id": ', /stdin is not JSON/],
    ['empty', '', /no hook JSON on stdin/],
    ['a JSON array', '[1]', /not an object/],
  ])('stdin that is %s: a warning, nothing posted', async (_kind, text, warning) => {
    const { base, received } = await recorder();
    const err = stderr();
    await forwardHook({ event: 'Stop', url: base, input: stdin(text), stderr: err });
    expect(err.lines).toHaveLength(1);
    expect(err.lines[0]).toMatch(warning);
    expect(received).toEqual([]);
  });

  it('stdin over maxInputBytes: a warning, nothing posted', async () => {
    const { base, received } = await recorder();
    const err = stderr();
    await forwardHook({
      event: 'Stop',
      url: base,
      input: stdin(JSON.stringify({ big: 'x'.repeat(200) })),
      stderr: err,
      maxInputBytes: 100,
    });
    expect(err.lines[0]).toMatch(/larger than 100 bytes/);
    expect(received).toEqual([]);
  });

  it("a refusal (non-2xx): one warning line with the status and the ingress's reason", async () => {
    const { base } = await recorder(401, { accepted: false, error: 'send the shared secret' });
    const err = stderr();
    await forwardHook({ event: 'Stop', url: base, input: stdin('{}'), stderr: err });
    expect(err.lines).toEqual([
      'toolproxy hook: Stop not delivered: the proxy answered 401: send the shared secret\n',
    ]);
  });

  it('a URL that is not http(s): a warning', async () => {
    const err = stderr();
    await forwardHook({ event: 'Stop', url: 'localhost:7300', input: stdin('{}'), stderr: err });
    expect(err.lines[0]).toMatch(/is not an http\(s\) URL/);
  });

  it('a stderr that throws does not make it throw', async () => {
    const { server, base } = await listen(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const failing = {
      write: () => {
        throw new Error('EPIPE');
      },
    };
    await expect(
      forwardHook({ event: 'Stop', url: base, input: stdin('{}'), stderr: failing }),
    ).resolves.toBeUndefined();
  });
});
