/**
 * The page `toolproxy serve` shows at `/`: it connects to the embedded WebSocket bridge with a
 * token the server hands to pages on loopback, offers its tools, and lists every call.
 */
import { ToolProvider } from 'toolproxy/provider';
import { webSocketProviderChannel } from 'toolproxy/websocket/provider';
import { showCalls } from './calls-view.js';
import { browserTools, type PageSurface } from './tools.js';

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

const surface: PageSurface = {
  notify: (title, body) => {
    const banner = element('notification');
    banner.hidden = false;
    banner.textContent = body === '' ? title : `${title}: ${body}`;
  },
  setColor: (color) => {
    document.body.style.background = color;
  },
  waitForClick: (label, signal) =>
    new Promise((resolve, reject) => {
      const button = Object.assign(document.createElement('button'), {
        id: 'click-target',
        textContent: label,
      });
      const finish = () => {
        button.remove();
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        finish();
        reject(signal.reason as Error);
      };
      button.onclick = () => {
        finish();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      element('actions').append(button);
    }),
};

async function main(): Promise<void> {
  const status = element('status');
  const identity = `page-${Math.random().toString(36).slice(2, 8)}`;
  const url = new URL('/bridge', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetchToken = async () => {
    const response = await fetch(`/token?identity=${identity}`);
    if (!response.ok)
      throw new Error(`no token for this page (${response.status}): ${await response.text()}`);
    return response.text();
  };
  const provider = new ToolProvider({ tools: browserTools(surface) });
  showCalls(provider, element('calls'));
  provider.events.on('registered', () => {
    status.textContent = `connected as ${identity}: tools offered`;
    status.dataset.state = 'ready';
  });
  await provider.connect(
    webSocketProviderChannel({ url: url.href, token: fetchToken, useSubprotocol: true }),
  );
}

main().catch((error: unknown) => {
  element('status').textContent =
    `error: ${error instanceof Error ? error.message : String(error)}`;
});
