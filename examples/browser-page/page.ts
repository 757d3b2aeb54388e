/**
 * The page `toolproxy serve` shows at `/`: it connects to the embedded WebSocket bridge with a
 * token the server hands to pages on loopback, offers its tools, and lists every call.
 */
import { ToolProvider } from 'toolproxy/provider';
import { webSocketProviderChannel } from 'toolproxy/websocket/provider';
import { showCalls } from './calls-view.js';
import { browserTools, type PageSnapshot, type PageSurface } from './tools.js';

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
  snapshot: () => drawPage(640, 360),
};

/** Draws what the page shows (colour, status, notification, calls) onto a canvas, as a PNG. */
function drawPage(width: number, height: number): PageSnapshot {
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d');
  if (context === null) throw new Error('this browser cannot draw on a canvas');
  const background = getComputedStyle(document.body).backgroundColor;
  const banner = element('notification');
  const notification = banner.hidden ? null : banner.textContent;
  const calls = Array.from(element('calls').querySelectorAll('li'), (row) =>
    row.textContent.trim(),
  );

  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  context.fillStyle = background;
  context.fillRect(0, 0, width, height);
  context.fillStyle = '#111111';
  context.font = 'bold 28px sans-serif';
  context.fillText('toolproxy', 24, 48);
  context.font = '15px sans-serif';
  context.fillText(element('status').textContent, 24, 76, width - 48);
  let y = 100;
  if (notification !== null) {
    context.fillStyle = '#fff7d6';
    context.strokeStyle = '#e6c200';
    context.fillRect(24, y, width - 48, 36);
    context.strokeRect(24, y, width - 48, 36);
    context.fillStyle = '#111111';
    context.fillText(notification, 36, y + 23, width - 72);
    y += 56;
  }
  context.font = '13px monospace';
  for (const call of calls.slice(0, Math.floor((height - y) / 20))) {
    y += 20;
    context.fillText(call, 24, y, width - 48);
  }
  const url = canvas.toDataURL('image/png');
  return {
    png: url.slice(url.indexOf(',') + 1),
    width,
    height,
    background,
    notification,
    calls,
  };
}

async function main(): Promise<void> {
  const status = element('status');
  // The proxy picks the page's identity (`page-<random>`) and names it in a response header.
  let identity = 'this page';
  const url = new URL('/bridge', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetchToken = async () => {
    const response = await fetch('/token');
    if (!response.ok)
      throw new Error(`no token for this page (${response.status}): ${await response.text()}`);
    identity = response.headers.get('x-toolproxy-identity') ?? identity;
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
