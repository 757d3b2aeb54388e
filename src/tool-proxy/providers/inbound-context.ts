/** What the inbound frame handlers need from the proxy: their own file, so handlers import no cycle. */
import type { CallLife } from '../calls/call-life.js';
import type { CallTable } from '../calls/call-table.js';
import type { PendingCall, ProgressUpdate } from '../calls/pending-call.js';
import type { LogThrottle } from '../../shared/log-throttle.js';
import type { Logger } from '../../shared/logger.js';
import type { OutboundProxyFrame, ProviderFrame } from '../../protocol/frames.js';
import type { ProviderLimits } from '../limits/provider-limits.js';
import type { ToolRegistry } from '../registry/registry.js';
import type { ProxyStats } from '../stats.js';

export interface InboundContext {
  readonly registry: ToolRegistry;
  readonly calls: CallTable;
  /** Where a result ends its call. */
  readonly life: CallLife;
  readonly stats: ProxyStats;
  readonly logger: Logger;
  readonly maxFrameChars: number;
  readonly limits: ProviderLimits;
  /** Bounds the lines dropped results log: one per sender and kind per window. */
  readonly droppedResults: LogThrottle;
  /** Best-effort send; failures are logged by the proxy. */
  reply(to: string, frame: OutboundProxyFrame): void;
  progressed(call: PendingCall, update: ProgressUpdate): void;
  /** Something came from `provider` (a `client:pong` when `pong`): it is alive. */
  heard(provider: string, pong: boolean): void;
}

export type Frame<T extends ProviderFrame['type']> = Extract<ProviderFrame, { type: T }>;
