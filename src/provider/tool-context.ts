/**
 * What a handler gets besides its arguments: the call's signal, and progress and log messages to
 * the proxy, sent only while the call runs.
 */
import { formatIssues } from '../shared/zod-issues.js';
import { type OutboundProviderFrame, ToolLogFrame } from '../protocol/frames.js';
import type { Logger } from '../shared/logger.js';
import type { ToolContext } from './define-tool.js';
import type { RunningCall } from './running-calls.js';

export function toolContext(
  call: RunningCall,
  send: (to: string, frame: OutboundProviderFrame) => void,
  logger: Logger,
): ToolContext {
  return {
    get signal() {
      return call.signal;
    },
    callId: call.callId,
    caller: call.proxy,
    progress: (progress, total, message) => {
      if (call.aborted) return;
      send(call.proxy, {
        type: 'client:tool-progress',
        call_id: call.callId,
        progress,
        total,
        message,
      });
    },
    log: (level, data, loggerName) => {
      if (call.aborted) return;
      const frame = {
        type: 'client:tool-log',
        call_id: call.callId,
        level,
        data,
        logger: loggerName,
      } as const;
      // Checked here: the proxy drops a bad level or logger name without a word back.
      const checked = ToolLogFrame.safeParse(frame);
      if (!checked.success) {
        const error = formatIssues(checked.error.issues);
        logger.warn({ callId: call.callId, error }, 'log message not sent');
        return;
      }
      send(call.proxy, frame);
    },
  };
}
