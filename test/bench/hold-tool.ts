/**
 * The providers' tool in the stop benches (B4 and the SFU bench): it holds every call until the call's AbortSignal aborts,
 * and reports when the handler started and when the abort listener ran, on CLOCK_MONOTONIC
 * (`monotonicMs`), which every process on the machine shares.
 */
import { z } from 'zod';
import { defineTool, isToolProxyError, type ToolDefinition } from '../../src/index.js';
import type { AbortedReport, StartedReport } from './b4-peer.js';
import { monotonicMs } from './stats.js';

export interface HoldReports {
  started(report: StartedReport): void;
  aborted(report: AbortedReport): void;
}

function reasonOf(reason: unknown): { code: string; reason: string | undefined } {
  if (isToolProxyError(reason)) return { code: reason.code, reason: reason.reason };
  return { code: String(reason), reason: undefined };
}

export function holdTool(name: string, reports: HoldReports): ToolDefinition {
  return defineTool({
    name,
    description: 'Moves one step; answers only by stopping when told',
    input: z.object({ step: z.number().int().min(0) }),
    handler: (_args, { signal, callId }) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener(
          'abort',
          () => {
            const at = monotonicMs();
            reports.aborted({ type: 'aborted', callId, at, ...reasonOf(signal.reason) });
            reject(signal.reason as Error);
          },
          { once: true },
        );
        reports.started({ type: 'started', callId, at: monotonicMs() });
      }),
  });
}
