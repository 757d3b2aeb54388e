/**
 * A participant's process killed mid-call (SIGKILL) on the real server, which tells the room only
 * when ICE gives up (about 20 s). toolproxy's own ping ends it sooner, both ways: the proxy fails a
 * dead provider's calls, and a provider stops the calls of a dead proxy (the robot stops).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispose, Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { LiveKitAgentChannel, mintProviderToken } from '../../bridge/livekit/index.js';
import { rtcProviderChannel } from '../../bridge/livekit/node-provider.js';
import { defineTool, ToolProvider, ToolProxy, ToolProxyError } from '../../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const server = inject('livekit');
/** Well under LiveKit's own ~20 s, with room for a loaded machine: ping timeout 4 s + 1 s tick. */
const NOTICED_WITHIN_MS = 10_000;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});
afterAll(() => dispose());

function participant(role: 'provider' | 'proxy', room: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/live/peers/participant.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        LIVEKIT_URL: server.url,
        LIVEKIT_API_KEY: server.apiKey,
        LIVEKIT_API_SECRET: server.apiSecret,
        ROOM: room,
        ROLE: role,
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const waiters: Array<() => void> = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  });
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const printed = (line: string, ms = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${line}" in ${ms} ms:\n${output}`)), ms);
      const check = () => {
        if (output.includes(line)) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  return { child, printed };
}

/** The proxy's seat in `room`, in this process; closed after the test. */
async function proxyIn(room: string): Promise<ToolProxy> {
  const proxy = new ToolProxy();
  const seat = { ...server, room, identity: 'toolproxy-agent', disposeOnClose: false };
  await proxy.start(new LiveKitAgentChannel(seat));
  cleanups.push(() => proxy.close());
  return proxy;
}

/** An rtc-node room joined as the provider `robot`, in this process; left after the test. */
async function robotIn(room: string): Promise<Room> {
  const robot = new Room();
  const token = await mintProviderToken({ ...server, room, identity: 'robot' });
  await robot.connect(server.url, token, { autoSubscribe: false, dynacast: false });
  cleanups.push(() => robot.disconnect());
  return robot;
}

describe('a process killed mid-call, on the real server', () => {
  it('the proxy fails a killed provider’s call with PROVIDER_GONE well before ICE gives up', async () => {
    const room = `death-provider-${Date.now().toString(36)}`;
    const proxy = await proxyIn(room);
    const robot = participant('provider', room);
    await robot.printed('ready');
    await proxy.waitForTool('hold');
    const call = proxy.call('hold', {}, { timeoutMs: 60_000 });
    const settled = call.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await robot.printed('started');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a ping or two answered
    const killedAt = Date.now();
    robot.child.kill('SIGKILL');
    const outcome = await settled;
    const noticedMs = Date.now() - killedAt;
    console.log(`live: a killed provider's call failed after ${noticedMs} ms`);
    expect(outcome).toMatchObject({ code: 'PROVIDER_GONE', reason: 'provider-unresponsive' });
    expect(noticedMs).toBeLessThan(NOTICED_WITHIN_MS);
    expect(proxy.tools()).toEqual([]);
  }, 60_000);

  // The server reports a leave of a participant that publishes no tracks on its 3 s update tick;
  // ToolProvider.close() withdraws its tools first, so the callers do not wait for it.
  it('a provider that closes ends its calls at once, before the room reports its leave', async () => {
    const room = `close-provider-${Date.now().toString(36)}`;
    const proxy = await proxyIn(room);
    const robotRoom = await robotIn(room);
    const hold = defineTool({
      name: 'hold',
      description: 'runs until aborted',
      input: z.object({}),
      handler: (_args, { signal }) => new Promise((done) => signal.addEventListener('abort', done)),
    });
    const provider = new ToolProvider({ tools: [hold] });
    await provider.connect(rtcProviderChannel(robotRoom));
    await proxy.waitForTool('hold');
    const call = proxy.call('hold');
    const settled = call.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const closedAt = Date.now();
    await provider.close();
    await robotRoom.disconnect();
    const outcome = await settled;
    const endedMs = Date.now() - closedAt;
    console.log(`live: a closing provider's call ended after ${endedMs} ms`);
    // TOOL_UNREGISTERED: the withdrawal came before the room's leave. The withdrawal is best effort:
    // under load the server can hand the proxy the leave before the data packet published just
    // before it, and the call then ends PROVIDER_GONE for the leave (not for silence), still without
    // waiting for the call's deadline.
    expect(outcome).toSatisfy(
      (error) =>
        error instanceof ToolProxyError &&
        (error.code === 'TOOL_UNREGISTERED' ||
          (error.code === 'PROVIDER_GONE' && error.reason === undefined)),
    );
    expect(endedMs).toBeLessThan(5_000);
    expect(proxy.tools()).toEqual([]);
  }, 60_000);

  it('a provider stops the call of a killed proxy well before ICE gives up', async () => {
    const room = `death-proxy-${Date.now().toString(36)}`;
    const participantRoom = await robotIn(room);
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const aborted = new Promise<unknown>((resolve) => {
      const provider = new ToolProvider({
        tools: [
          defineTool({
            name: 'hold',
            description: 'runs until aborted',
            input: z.object({}),
            handler: (_args, { signal }) =>
              new Promise((done) => {
                started();
                signal.addEventListener('abort', () => {
                  resolve(signal.reason);
                  done('aborted');
                });
              }),
          }),
        ],
      });
      void provider.connect(rtcProviderChannel(participantRoom));
      cleanups.push(() => provider.close());
    });
    let proxyLeft = false;
    participantRoom.on(RoomEvent.ParticipantDisconnected, () => (proxyLeft = true));
    const agent = participant('proxy', room);
    await running;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const killedAt = Date.now();
    agent.child.kill('SIGKILL');
    const reason = await aborted;
    const stoppedMs = Date.now() - killedAt;
    console.log(`live: the robot stopped ${stoppedMs} ms after its proxy was killed`);
    expect(reason).toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining('nothing from the proxy'),
    });
    expect(stoppedMs).toBeLessThan(NOTICED_WITHIN_MS);
    expect(proxyLeft).toBe(false); // the room itself learns of it only later, when ICE gives up
  }, 60_000);
});
