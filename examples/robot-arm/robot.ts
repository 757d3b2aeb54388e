/**
 * The robot arm as a LiveKit participant (Node, @livekit/rtc-node): it joins the room and offers
 * `move_arm` and `get_position` to the agent there. See README.md beside this file.
 *
 *   LIVEKIT_URL=ws://localhost:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
 *     npx tsx --conditions=toolproxy-source examples/robot-arm/robot.ts
 */
import { pathToFileURL } from 'node:url';
import { dispose, Room } from '@livekit/rtc-node';
import { mintProviderToken } from 'toolproxy/livekit';
import { rtcProviderChannel } from 'toolproxy/livekit/node';
import { ToolProvider } from 'toolproxy/provider';
import { createArm } from './arm.js';

/** Offers the arm's tools in a connected room; resolves to a function that stops. */
export async function offerArm(room: Parameters<typeof rtcProviderChannel>[0], log = console.log) {
  const arm = createArm({ log: (line) => log(`[arm] ${line}`) });
  const provider = new ToolProvider({ tools: arm.tools });
  provider.events.on('registered', ({ proxy, exposedName }) =>
    log(`registered ${exposedName} with ${proxy}`),
  );
  provider.events.on('registration-failed', ({ name, reason, detail }) =>
    log(`${name} refused: ${reason} (${detail})`),
  );
  provider.events.on('call:aborted', ({ name, reason }) =>
    log(`${name} aborted: ${reason.message}`),
  );
  await provider.connect(rtcProviderChannel(room));
  return { arm, stop: () => provider.close() };
}

async function main(): Promise<void> {
  const url = required('LIVEKIT_URL');
  const roomName = process.env.LIVEKIT_ROOM ?? 'toolproxy';
  const identity = process.env.ROBOT_IDENTITY ?? 'robot-arm';
  const token =
    process.env.LIVEKIT_TOKEN ??
    (await mintProviderToken({
      apiKey: required('LIVEKIT_API_KEY'),
      apiSecret: required('LIVEKIT_API_SECRET'),
      room: roomName,
      identity,
    }));
  const room = new Room();
  await room.connect(url, token, { autoSubscribe: false, dynacast: false });
  console.log(
    `robot-arm joined room "${roomName}" as "${identity}"; waiting for the agent. Ctrl+C to leave.`,
  );
  const { stop } = await offerArm(room);
  const leave = async () => {
    await stop();
    await room.disconnect();
    await dispose();
    process.exit(0);
  };
  process.once('SIGINT', () => void leave());
  process.once('SIGTERM', () => void leave());
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(`robot-arm: set ${name} (see examples/robot-arm/README.md)`);
    process.exit(2);
  }
  return value;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch(async (error: unknown) => {
    console.error(`robot-arm: ${error instanceof Error ? error.message : String(error)}`);
    await dispose();
    process.exit(1);
  });
}
