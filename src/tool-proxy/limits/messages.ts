/**
 * What a limit says when it refuses something: to the LLM whose call failed, and to the provider
 * that went over budget. Each names the limit and the figure that broke it, so the reader can act.
 */
import { ErrorCode, ToolProxyError } from '../../shared/errors.js';
import type { RateLimit } from './token-bucket.js';

export function resultTooLargeError(
  tool: string,
  callId: string,
  size: number,
  limit: number,
): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.InvalidResult,
    `Tool "${tool}" answered with a result of ${size} characters, which exceeds the limit of ` +
      `${limit} characters, so the result was discarded. The tool did run: if it acts on the ` +
      'physical world or changes state, that has already happened. To get a result, call it ' +
      'again asking for less (fewer items, a smaller page, a narrower query).',
    { tool, callId, detail: 'result-too-large' },
  );
}

export function resultTooDeepError(tool: string, callId: string, limit: number): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.InvalidResult,
    `Tool "${tool}" answered with a result nested more than ${limit} levels deep (arrays and ` +
      'objects within each other), which exceeds the limit, so the result was discarded unread. ' +
      'The tool did run: if it acts on the physical world or changes state, that has already ' +
      'happened. Calling it again the same way will fail the same way; ask for a flatter or ' +
      'smaller answer, or have the tool fixed to return one.',
    { tool, callId, detail: 'result-too-deep' },
  );
}

/** `detail` of an `agent:tool-registered` refused as `rate-limited`. */
export function registrationRateDetail(limit: RateLimit, retryAfterMs: number): string {
  return (
    `over ${limit.perSecond} registrations per second (burst ${limit.burst}); ` +
    `retry after ${retryAfterMs} ms`
  );
}

/** `detail` of an `agent:rate-limited` notice about frames. */
export function frameRateDetail(
  over: 'frames' | 'chars',
  limit: RateLimit,
  retryAfterMs: number,
): string {
  const unit = over === 'frames' ? 'frames' : 'characters of frames';
  return (
    `over ${limit.perSecond} ${unit} per second (burst ${limit.burst}): frames are being dropped, ` +
    `results for your pending calls excepted; retry after ${retryAfterMs} ms`
  );
}
