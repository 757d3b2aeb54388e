/**
 * A hermes-livekit v0.3 client, unmodified: it speaks only the flat frames of v0.3 (register with
 * name/description/input_schema, result with `result` or an `error` string), dispatches received
 * frames on `type` and ignores types it does not know.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryRoom } from '../../../bridge/memory.js';
import { ToolProxy } from '../../../src/index.js';
import { flush } from '../../support/util.js';
import { type JsonObject, WirePeer } from '../../support/wire-peer.js';

const AGENT = 'hermes-assistant';
const CALL_ID = /^tc_[0-9a-f]{12}$/;

/** The frame types a v0.3 client acts on; everything else it skips. */
const V03_TOOL_TYPES = new Set([
  'agent:tool-registered',
  'agent:tool-unregistered',
  'agent:tool-call',
  'agent:tool-call-timeout',
  'agent:tool-call-cancelled',
]);

/** What a v0.3 client does with a received text: dispatch on a string `type`, or skip. */
function v03Dispatch(text: string): 'handled' | 'skipped' {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return 'skipped';
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'skipped';
  const type = (message as JsonObject).type;
  return typeof type === 'string' && V03_TOOL_TYPES.has(type) ? 'handled' : 'skipped';
}

const NOTIFY_REGISTRATION =
  '{"type":"client:tool-register","name":"desktop_notify","description":"Shows a desktop notification",' +
  '"input_schema":{"type":"object","properties":{"title":{"type":"string"}},"required":["title"]}}';

function stopLoop(sessionKey: string, reason = 'Stop requested'): void {
  proxy.lifecycle('agent_loop_stopped', {
    session_key: sessionKey,
    platform: 'livekit',
    reason,
    invalidation_reason: undefined,
  });
}

let room: InMemoryRoom;
let proxy: ToolProxy;
let client: WirePeer;

beforeEach(async () => {
  vi.useFakeTimers();
  room = new InMemoryRoom();
  // The client is in the room first, as with a LiveKit room the agent joins.
  client = await WirePeer.join(room, 'desktop-client', { to: AGENT });
  proxy = new ToolProxy();
  await proxy.start(room.join(AGENT, { isAgent: true }));
  await flush();
});

afterEach(async () => {
  await proxy.close();
  vi.useRealTimers();
});

async function registerNotify(): Promise<void> {
  await client.sendText(NOTIFY_REGISTRATION);
  await flush();
}

describe('hermes-livekit v0.3 client', () => {
  it("skips the proxy's extra frames: agent:hello carries a type it does not handle", () => {
    const hello = client.received.find((r) => r.frame?.type === 'agent:hello');
    expect(hello).toBeDefined();
    expect(hello?.from).toBe(AGENT);
    expect(hello?.frame).toMatchObject({
      type: 'agent:hello',
      protocol_version: expect.any(Number),
      default_timeout_ms: 30_000,
    });
    expect(typeof hello?.frame?.type).toBe('string');
    expect(v03Dispatch(hello?.text ?? '')).toBe('skipped');
    // Nothing else arrives unasked.
    expect(client.received.filter((r) => v03Dispatch(r.text) === 'handled')).toEqual([]);
  });

  it('registers with the v0.3 frame and gets a v0.3 confirmation', async () => {
    client.clear();
    await registerNotify();
    expect(client.frames()).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'desktop_notify',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
    expect(proxy.tools()).toEqual([
      expect.objectContaining({
        name: 'desktop_notify',
        provider: 'desktop-client',
        description: 'Shows a desktop notification',
        inputSchema: {
          type: 'object',
          properties: { title: { type: 'string' } },
          required: ['title'],
        },
      }),
    ]);
  });

  it('a registration without description is accepted', async () => {
    client.clear();
    await client.send({
      type: 'client:tool-register',
      name: 'ping',
      input_schema: { type: 'object', properties: {} },
    });
    await flush();
    expect(client.frames()).toEqual([
      {
        type: 'agent:tool-registered',
        name: 'ping',
        success: true,
        sent_at_ms: expect.any(Number),
      },
    ]);
  });

  it('refusals use the v0.3 reasons name-invalid and schema-invalid', async () => {
    client.clear();
    await client.send({
      type: 'client:tool-register',
      name: 'desktop notify',
      description: '',
      input_schema: { type: 'object' },
    });
    await client.send({
      type: 'client:tool-register',
      name: 'desktop_notify',
      description: '',
      input_schema: { type: 'array' },
    });
    await flush();
    expect(client.frames()).toEqual([
      expect.objectContaining({
        type: 'agent:tool-registered',
        name: 'desktop notify',
        success: false,
        reason: 'name-invalid',
        detail: expect.any(String),
      }),
      expect.objectContaining({
        type: 'agent:tool-registered',
        name: 'desktop_notify',
        success: false,
        reason: 'schema-invalid',
        detail: expect.any(String),
      }),
    ]);
  });

  it('receives agent:tool-call {call_id, name, arguments} and its result resolves the call', async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' });
    await flush();
    const frames = client.frames('agent:tool-call');
    expect(frames).toHaveLength(1);
    const frame = frames[0];
    expect(frame).toMatchObject({
      type: 'agent:tool-call',
      name: 'desktop_notify',
      arguments: { title: 'Hi' },
    });
    expect(frame?.call_id).toMatch(CALL_ID);
    expect(v03Dispatch(JSON.stringify(frame))).toBe('handled');
    await client.sendText(
      `{"type":"client:tool-result","call_id":"${String(frame?.call_id)}","result":{"shown":true}}`,
    );
    await expect(call).resolves.toEqual({ shown: true });
  });

  it('an error string rejects the call with REMOTE_ERROR carrying the text', async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' });
    await flush();
    const callId = client.lastCall().call_id;
    await client.sendText(
      `{"type":"client:tool-result","call_id":"${callId}","error":"permission denied"}`,
    );
    await expect(call).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      callId,
      tool: 'desktop_notify',
      message: expect.stringContaining('permission denied'),
    });
  });

  it('concurrent calls get distinct call ids and are matched by call_id', async () => {
    await registerNotify();
    const first = proxy.call('desktop_notify', { title: 'one' });
    const second = proxy.call('desktop_notify', { title: 'two' });
    await flush();
    const calls = client.calls();
    expect(calls.map((c) => c.arguments.title)).toEqual(['one', 'two']);
    for (const c of calls) expect(c.call_id).toMatch(CALL_ID);
    expect(calls[0]?.call_id).not.toBe(calls[1]?.call_id);
    await client.send({ type: 'client:tool-result', call_id: calls[1]?.call_id, result: 2 });
    await client.send({ type: 'client:tool-result', call_id: calls[0]?.call_id, result: 1 });
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(2);
  });

  it('stopping the agent loop cancels at once and sends agent:tool-call-cancelled {call_id, name}', async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' }, { sessionKey: 'livekit:room-1' });
    await flush();
    const callId = client.lastCall().call_id;
    const cancelled = expect(call).rejects.toMatchObject({
      code: 'CANCELLED',
      reason: 'agent-loop-stopped',
    });
    stopLoop('livekit:room-1');
    expect(proxy.pendingCalls).toBe(0);
    await cancelled;
    await flush();
    const notices = client.frames('agent:tool-call-cancelled');
    expect(notices).toEqual([
      expect.objectContaining({
        type: 'agent:tool-call-cancelled',
        call_id: callId,
        name: 'desktop_notify',
      }),
    ]);
    expect(v03Dispatch(JSON.stringify(notices[0]))).toBe('handled');
  });

  it('a stop of another session leaves the call running', async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' }, { sessionKey: 'livekit:room-1' });
    await flush();
    stopLoop('livekit:room-2');
    await flush();
    expect(proxy.pendingCalls).toBe(1);
    expect(client.frames('agent:tool-call-cancelled')).toEqual([]);
    await client.send({
      type: 'client:tool-result',
      call_id: client.lastCall().call_id,
      result: 'ok',
    });
    await expect(call).resolves.toBe('ok');
  });

  it("the client's result after a cancellation is ignored without a reply", async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' }, { sessionKey: 's' });
    await flush();
    const callId = client.lastCall().call_id;
    const cancelled = expect(call).rejects.toMatchObject({ code: 'CANCELLED' });
    stopLoop('s');
    await cancelled;
    await flush();
    client.clear();
    await client.sendText(
      `{"type":"client:tool-result","call_id":"${callId}","result":{"shown":true}}`,
    );
    await flush();
    expect(client.received).toEqual([]);
    expect(proxy.stats().results.late).toBe(1);
  });

  it('a call that is not answered in 30 s times out and sends agent:tool-call-timeout {call_id, name}', async () => {
    await registerNotify();
    const call = proxy.call('desktop_notify', { title: 'Hi' });
    await flush();
    const callId = client.lastCall().call_id;
    expect(client.lastCall().timeout_ms).toBe(30_000);
    const timedOut = expect(call).rejects.toMatchObject({ code: 'TIMEOUT', callId });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(client.frames('agent:tool-call-timeout')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await timedOut;
    expect(client.frames('agent:tool-call-timeout')).toEqual([
      { type: 'agent:tool-call-timeout', call_id: callId, name: 'desktop_notify' },
    ]);
  });

  it('unregisters with the v0.3 frame', async () => {
    await registerNotify();
    client.clear();
    await client.send({ type: 'client:tool-unregister', name: 'desktop_notify' });
    await flush();
    expect(client.frames()).toEqual([
      { type: 'agent:tool-unregistered', name: 'desktop_notify', success: true },
    ]);
    expect(proxy.tools()).toEqual([]);
  });

  it("the client's other v0.3 frames are ignored without a reply", async () => {
    await registerNotify();
    client.clear();
    await client.send({ type: 'client:message', text: 'hello' });
    await client.send({ type: 'client:control', action: 'pause' });
    await client.send({ type: 'client:capture-frame', data: 'AAAA' });
    await flush();
    expect(client.received).toEqual([]);
    expect(proxy.stats().frames.unknownType).toBe(3);
    expect(proxy.tools().map((t) => t.name)).toEqual(['desktop_notify']);
  });

  it('like v0.3, a registration from an empty identity is ignored', async () => {
    const nobody = await WirePeer.join(room, '', { to: AGENT });
    await flush();
    nobody.clear();
    await nobody.sendText(NOTIFY_REGISTRATION);
    await flush();
    expect(nobody.received).toEqual([]);
    expect(proxy.tools()).toEqual([]);
  });

  it('every frame the proxy sends is a flat JSON object with a string type', async () => {
    await registerNotify();
    const answered = proxy.call('desktop_notify', { title: 'a' });
    const stopped = proxy.call('desktop_notify', { title: 'b' }, { sessionKey: 's' });
    const expired = proxy.call('desktop_notify', { title: 'c' }, { sessionKey: 't' });
    await flush();
    const [a, b, c] = client.calls();
    await client.send({ type: 'client:tool-result', call_id: a?.call_id, result: null });
    await expect(answered).resolves.toBeNull();
    const cancelled = expect(stopped).rejects.toMatchObject({ code: 'CANCELLED' });
    stopLoop('s');
    await cancelled;
    const timedOut = expect(expired).rejects.toMatchObject({ code: 'TIMEOUT' });
    await vi.advanceTimersByTimeAsync(30_000);
    await timedOut;
    expect(b?.call_id).toMatch(CALL_ID);
    expect(c?.call_id).toMatch(CALL_ID);
    expect(client.received.length).toBeGreaterThan(0);
    for (const { text, frame } of client.received) {
      expect(frame, text).toBeDefined();
      expect(typeof frame?.type, text).toBe('string');
      expect(frame).not.toHaveProperty('payload');
    }
    expect(client.frames().map((f) => f.type)).toEqual([
      'agent:hello',
      'agent:tool-registered',
      'agent:tool-call',
      'agent:tool-call',
      'agent:tool-call',
      'agent:tool-call-cancelled',
      'agent:tool-call-timeout',
    ]);
  });
});
