/** The live list of calls and how each ended: pending, done, error, timed out, cancelled + reason. */
import type { ProviderEvents, ToolProvider } from 'toolproxy/provider';

type Outcome = 'pending' | 'done' | 'error' | 'timed out' | 'cancelled';

export function showCalls(provider: ToolProvider, list: HTMLElement): void {
  const rows = new Map<string, HTMLElement>();
  const mark = (callId: string, outcome: Outcome, detail = '') => {
    const row = rows.get(callId);
    if (row === undefined) return;
    row.dataset.outcome = outcome;
    const status = row.querySelector('.status');
    if (status !== null) status.textContent = detail === '' ? outcome : `${outcome}: ${detail}`;
  };
  provider.events.on('call:started', ({ callId, name }: ProviderEvents['call:started']) => {
    const row = document.createElement('li');
    row.dataset.callId = callId;
    row.dataset.tool = name;
    row.innerHTML = '<span class="tool"></span> <span class="status"></span>';
    const tool = row.querySelector('.tool');
    if (tool !== null) tool.textContent = name;
    rows.set(callId, row);
    list.prepend(row);
    mark(callId, 'pending');
  });
  provider.events.on('call:finished', ({ callId, ok }) => {
    if (rows.get(callId)?.dataset.outcome === 'pending') mark(callId, ok ? 'done' : 'error');
  });
  provider.events.on('call:aborted', ({ callId, reason }) => {
    if (reason.code === 'TIMEOUT') mark(callId, 'timed out');
    else mark(callId, 'cancelled', reason.reason ?? reason.detail ?? 'no reason given');
  });
}
