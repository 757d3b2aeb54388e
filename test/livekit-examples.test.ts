/** The LiveKit examples, run against the LiveKit double: what their READMEs promise. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveKitAgentChannel, mintProviderToken } from '../bridge/livekit/index.js';
import { rtcRoomPort } from '../bridge/livekit/rtc-port.js';
import { FakeLiveKitServer, FakeRtcRoom } from '../bridge/livekit/testing/index.js';
import { buildPage } from '../examples/browser-livekit/serve.js';
import { command, startProxy } from '../examples/livekit-proxy/proxy.js';
import { offerArm } from '../examples/robot-arm/robot.js';
import type { ToolProxy } from '../src/index.js';
import { flush } from './support/util.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function roomWithProxyAndRobot() {
  const server = new FakeLiveKitServer();
  const lines: string[] = [];
  const channel = new LiveKitAgentChannel({
    url: server.url,
    room: 'toolproxy',
    apiKey: server.apiKey,
    apiSecret: server.apiSecret,
    runtime: {
      createRoom: () => new FakeRtcRoom(server),
      port: rtcRoomPort,
      dispose: () => Promise.resolve(),
    },
  });
  const proxy: ToolProxy = await startProxy(channel, (line) => lines.push(line));
  cleanups.push(() => proxy.close());
  const robotRoom = new FakeRtcRoom(server);
  const token = await mintProviderToken({
    apiKey: server.apiKey,
    apiSecret: server.apiSecret,
    room: 'toolproxy',
    identity: 'robot-arm',
  });
  await robotRoom.connect(server.url, token);
  cleanups.push(() => robotRoom.disconnect());
  const robotLog: string[] = [];
  const robot = await offerArm(robotRoom, (line) => robotLog.push(line));
  cleanups.push(() => robot.stop());
  await proxy.waitForTool('move_arm');
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await server.settle();
      await flush();
    }
  };
  return { proxy, lines, robot, robotLog, settle };
}

describe('examples/robot-arm with examples/livekit-proxy', () => {
  it('offers move_arm and get_position; the keyboard proxy lists them', async () => {
    const { proxy, lines } = await roomWithProxyAndRobot();
    expect(lines).toEqual(
      expect.arrayContaining([
        'new tool: get_position from robot-arm',
        'new tool: move_arm from robot-arm',
      ]),
    );
    command(proxy, 'tools', (line) => lines.push(line));
    expect(lines.at(-1)).toMatch(/^move_arm \(robot-arm\): Move the arm/);
    await expect(proxy.call('get_position')).resolves.toEqual({ x: 0, y: 0 });
  });

  it('`stop` cancels a move at once and the arm stops where it is', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    const { proxy, lines, robot, robotLog, settle } = await roomWithProxyAndRobot();
    command(proxy, 'call move_arm {"x": 40, "y": 30}', (line) => lines.push(line)); // 50 cm: 10 s
    await settle();
    await vi.advanceTimersByTimeAsync(2_000);
    await settle();
    command(proxy, 'stop', (line) => lines.push(line));
    await settle();
    expect(lines.at(-1)).toMatch(
      /^move_arm ✗ CANCELLED: The tool call was cancelled because the agent loop was stopped/,
    );
    expect(robotLog.some((line) => line.startsWith('[arm] stopped at'))).toBe(true);
    const stoppedAt = robot.arm.position();
    expect(stoppedAt.x).toBeGreaterThan(0);
    expect(stoppedAt.x).toBeLessThan(40);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(robot.arm.position()).toEqual(stoppedAt); // it did not keep moving
  });
});

describe('examples/browser-livekit', () => {
  it('bundles for the browser: no Node built-ins and no rtc-node in the page', async () => {
    const bundle = await buildPage();
    expect(bundle.length).toBeGreaterThan(1_000);
    expect(bundle).not.toMatch(/rtc-node|rtc-ffi-bindings|require\("node:/);
    expect(bundle).toContain('hermes-control');
  }, 30_000);
});
