/**
 * The page: joins the LiveKit room with livekit-client, offers its tools to the agent there, and
 * lists each call with how it ended. Built by serve.ts; open the URL it prints.
 */
import { Room } from 'livekit-client';
import { browserProviderChannel } from 'toolproxy/livekit/browser';
import { ToolProvider } from 'toolproxy/provider';
import { type PageUi, pageTools } from './tools.js';

const $ = (id: string): HTMLElement => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
};

function log(text: string, kind = ''): void {
  const item = document.createElement('li');
  item.className = kind;
  item.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('log').prepend(item);
}

const ui: PageUi = {
  say: (text) => {
    $('message').textContent = text;
  },
  ask: (question, choices, signal) =>
    new Promise((resolve, reject) => {
      const box = $('question');
      box.replaceChildren(Object.assign(document.createElement('p'), { textContent: question }));
      const done = () => box.replaceChildren();
      for (const choice of choices) {
        const button = Object.assign(document.createElement('button'), { textContent: choice });
        button.onclick = () => {
          done();
          resolve(choice);
        };
        box.append(button);
      }
      signal.addEventListener('abort', () => {
        done();
        reject(signal.reason as Error);
      });
    }),
};

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const url = params.get('url');
  const token = params.get('token');
  if (url === null || token === null) {
    log('open this page with ?url=…&token=… (serve.ts prints such a link)', 'error');
    return;
  }
  const room = new Room();
  await room.connect(url, token);
  log(`joined as ${room.localParticipant.identity}; waiting for the agent`);
  const provider = new ToolProvider({ tools: pageTools(ui) });
  provider.events.on('registered', ({ exposedName }) => log(`offered ${exposedName}`));
  provider.events.on('registration-failed', ({ name, reason }) =>
    log(`${name} refused: ${reason}`, 'error'),
  );
  // A call the agent ended also finishes (its handler rejects): listed once, as ended by the agent.
  const ended = new Set<string>();
  provider.events.on('call:started', ({ name, callId }) => log(`${name} called (${callId})`));
  provider.events.on('call:finished', ({ name, callId, ok }) => {
    if (!ended.delete(callId)) log(`${name} ${ok ? 'answered' : 'failed'}`, ok ? 'ok' : 'error');
  });
  provider.events.on('call:aborted', ({ name, callId, reason }) => {
    ended.add(callId);
    log(`${name} ended by the agent: ${reason.message}`, 'cancelled');
  });
  await provider.connect(browserProviderChannel(room));
}

main().catch((error: unknown) =>
  log(`error: ${error instanceof Error ? error.message : String(error)}`, 'error'),
);
