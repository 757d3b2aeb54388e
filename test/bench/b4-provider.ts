/**
 * B4's far end, run as a child process of the bench (as a robot or a page is a process of its
 * own): a real `ToolProvider` over `webSocketProviderChannel` whose `hold` tool never answers and
 * reports the moment its AbortSignal aborts, and the floor's `ws` client reporting each frame's
 * `message` event. Times are `process.hrtime` (CLOCK_MONOTONIC, one clock for every process on the
 * machine), sent to the parent over the IPC channel after the fact.
 */
import { WebSocket } from 'ws';
import { webSocketProviderChannel } from '../../bridge/websocket/provider.js';
import { ToolProvider } from '../../src/index.js';
import { type ChildCommand, type ChildReport, HOLD_TOOL } from './b4-peer.js';
import { holdTool as holdToolNamed } from './hold-tool.js';
import { monotonicMs } from './stats.js';

function report(message: ChildReport): void {
  process.send?.(message);
}

const holdTool = holdToolNamed(HOLD_TOOL, { started: report, aborted: report });

let provider: ToolProvider | undefined;
let floor: WebSocket | undefined;

async function run(command: ChildCommand): Promise<void> {
  switch (command.type) {
    case 'provider': {
      provider = new ToolProvider({ tools: [holdTool] });
      await provider.connect(
        webSocketProviderChannel({ url: command.url, token: command.token, WebSocket }),
      );
      report({ type: 'ready' });
      return;
    }
    case 'floor': {
      const socket = new WebSocket(command.url);
      socket.on('message', (data) => {
        const at = monotonicMs();
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString('utf8')
          : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
        report({ type: 'frame', at, text });
      });
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      floor = socket;
      report({ type: 'ready' });
      return;
    }
    case 'close': {
      floor?.terminate();
      await provider?.close();
      process.exit(0);
      return;
    }
  }
}

process.on('message', (command: ChildCommand) => {
  run(command).catch((error: unknown) => {
    report({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  });
});
