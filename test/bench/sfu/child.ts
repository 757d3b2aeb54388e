/**
 * A participant in a process of its own (peer.ts forks it): a real `ToolProvider` over
 * `rtcProviderChannel` on an @livekit/rtc-node Room, holding calls (hold.ts), and/or the floor's
 * answering side (floor.ts) in another room. Reports go to the parent over IPC.
 */
import { dispose, Room } from '@livekit/rtc-node';
import { rtcProviderChannel } from '../../../bridge/livekit/node-provider.js';
import { ToolProvider } from '../../../src/index.js';
import { answerEchoes } from './floor.js';
import { holdTool } from '../hold-tool.js';
import type { PeerCommand, PeerReport } from './peer.js';
import { monotonicMs } from '../stats.js';

function report(message: PeerReport): void {
  process.send?.(message);
}

const rooms: Room[] = [];
let providerRoom: Room | undefined;
let provider: ToolProvider | undefined;

async function join(url: string, token: string): Promise<Room> {
  const room = new Room();
  await room.connect(url, token, { autoSubscribe: false, dynacast: false });
  rooms.push(room);
  return room;
}

async function run(command: PeerCommand): Promise<void> {
  switch (command.type) {
    case 'provider': {
      providerRoom = await join(command.url, command.token);
      provider = new ToolProvider({
        tools: [holdTool(command.tool, { started: report, aborted: report })],
      });
      await provider.connect(rtcProviderChannel(providerRoom));
      return report({ type: 'ready' });
    }
    case 'echo': {
      answerEchoes(await join(command.url, command.token), report);
      return report({ type: 'ready' });
    }
    case 'leave': {
      // Without `withdraw`: the room only, as a program that disconnects without closing its
      // provider first; with it, as ToolProvider's users are told to leave.
      report({ type: 'leaving', at: monotonicMs() });
      if (command.withdraw) await provider?.close();
      await providerRoom?.disconnect();
      return;
    }
    case 'close': {
      await provider?.close().catch(() => {});
      for (const room of rooms) await room.disconnect().catch(() => {});
      await dispose();
      process.exit(0);
    }
  }
}

process.on('message', (command: PeerCommand) => {
  run(command).catch((error: unknown) => {
    report({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  });
});
