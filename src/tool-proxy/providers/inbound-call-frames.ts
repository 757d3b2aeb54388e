/**
 * Frames about a pending call (result, progress, log): each is taken only from the provider the
 * call was sent to; anything else is dropped and counted.
 */
import { callStaleError, invalidResultError, remoteError } from '../calls/messages.js';
import type { PendingCall } from '../calls/pending-call.js';
import { ToolResultContent } from '../../protocol/rich-result.js';
import { ErrorCode } from '../../shared/errors.js';
import { resultTooDeepError, resultTooLargeError } from '../limits/messages.js';
import type { Frame, InboundContext } from './inbound-context.js';

/** Settles the call the result is for, if the sender is its addressee; true if it did. */
export function result(
  ctx: InboundContext,
  sender: string,
  frame: Frame<'client:tool-result'>,
  size: number,
): boolean {
  const call = addressedCall(ctx, sender, frame.call_id, 'result');
  if (call === undefined) return false;
  if (size > ctx.limits.limits.maxResultChars) {
    failTooLarge(ctx, call, size);
    return true;
  }
  ctx.stats.results.accepted++;
  const error = frame.error;
  if (error === undefined || error === null) {
    // With content, the caller gets it and `result` as its structured value; else `result`, as ever.
    const content = frame.content;
    const value =
      content === undefined || content === null
        ? (frame.result ?? null)
        : new ToolResultContent(content, frame.result);
    ctx.life.settle(call, 'result', value);
    return true;
  }
  const tool = call.spec.tool.exposedName;
  const failure =
    typeof error === 'string'
      ? remoteError(tool, call.callId, error)
      : error.code === ErrorCode.CallStale
        ? callStaleError(tool, call.callId, error.message)
        : remoteError(tool, call.callId, error.message, error.code, error.data);
  ctx.life.settle(call, 'remote-error', failure);
  return true;
}

function failTooLarge(ctx: InboundContext, call: PendingCall, size: number): void {
  ctx.stats.results.tooLarge++;
  const limit = ctx.limits.limits.maxResultChars;
  ctx.logger.info({ callId: call.callId, size, limit }, 'result over the size limit: call failed');
  const error = resultTooLargeError(call.spec.tool.exposedName, call.callId, size, limit);
  ctx.life.settle(call, 'invalid-result', error);
}

export function progress(
  ctx: InboundContext,
  sender: string,
  frame: Frame<'client:tool-progress'>,
): void {
  const call = addressedCall(ctx, sender, frame.call_id, 'progress');
  const update = { progress: frame.progress, total: frame.total, message: frame.message };
  if (call?.progress(update)) {
    ctx.stats.progress.accepted++;
    ctx.progressed(call, update);
  } else {
    ctx.stats.progress.dropped++;
  }
}

/** A log message goes to the caller of the addressee's pending call; it moves no deadline. */
export function log(ctx: InboundContext, sender: string, frame: Frame<'client:tool-log'>): void {
  const call = addressedCall(ctx, sender, frame.call_id, 'log');
  if (call?.log({ level: frame.level, data: frame.data, logger: frame.logger })) {
    ctx.stats.logs.accepted++;
  } else {
    ctx.stats.logs.dropped++;
  }
}

/**
 * The pending call `callId` if `sender` is the provider it was sent to. Anything else is dropped
 * and counted: unknown ids, ids already settled (late or duplicate), and other senders (spoofed).
 */
function addressedCall(
  ctx: InboundContext,
  sender: string,
  callId: string,
  kind: 'result' | 'progress' | 'log',
): PendingCall | undefined {
  const call = ctx.calls.get(callId);
  if (call !== undefined && call.spec.tool.provider === sender) return call;
  if (kind !== 'result') return undefined; // counted by the caller, without a log line each
  const counters = ctx.stats.results;
  const settled = ctx.calls.recentlySettled(callId);
  if (call !== undefined || (settled !== undefined && settled.provider !== sender)) {
    counters.spoofed++;
    const logged = ctx.droppedResults.admit(`spoofed:${sender}`);
    if (logged !== undefined) {
      ctx.logger.warn(
        { callId, sender, ...suppressedField(ctx, logged.suppressed) },
        'result from a participant the call was not sent to: dropped',
      );
    }
    return undefined;
  }
  let dropped: 'unknown' | 'duplicate' | 'late';
  if (settled === undefined) dropped = 'unknown';
  else if (settled.outcome === 'result' || settled.outcome === 'remote-error')
    dropped = 'duplicate';
  else dropped = 'late';
  counters[dropped]++;
  const logged = ctx.droppedResults.admit(`${dropped}:${sender}`);
  if (logged === undefined) return undefined;
  const fields = { callId, sender, ...suppressedField(ctx, logged.suppressed) };
  if (dropped === 'unknown') ctx.logger.debug(fields, 'result for an unknown call id: dropped');
  else if (dropped === 'duplicate') ctx.logger.debug(fields, 'duplicate result: dropped');
  else
    ctx.logger.debug(
      { ...fields, outcome: settled?.outcome },
      'result after the call settled: dropped',
    );
  return undefined;
}

/** How many like lines the throttle swallowed since the last one, when any. */
function suppressedField(ctx: InboundContext, suppressed: number): Record<string, number> {
  return suppressed === 0 ? {} : { suppressed, suppressedWindowMs: ctx.droppedResults.windowMs };
}

/** A malformed result from the right provider still ends its call, rather than leaving it to time out. */
export function failMalformedResult(
  ctx: InboundContext,
  sender: string,
  raw: Record<string, unknown>,
  error: string,
  unparsed: 'too-large' | 'too-deep' | undefined,
  size: number,
): void {
  if (typeof raw.call_id !== 'string') return;
  const call = ctx.calls.get(raw.call_id);
  if (call === undefined || call.spec.tool.provider !== sender) return;
  if (unparsed === 'too-large') failTooLarge(ctx, call, size);
  else if (unparsed === 'too-deep') failTooDeep(ctx, call);
  else
    ctx.life.settle(
      call,
      'invalid-result',
      invalidResultError(call.spec.tool.exposedName, call.callId, error),
    );
}

function failTooDeep(ctx: InboundContext, call: PendingCall): void {
  ctx.stats.results.tooLarge++;
  const limit = ctx.limits.limits.maxFrameDepth;
  ctx.logger.info({ callId: call.callId, limit }, 'result nested too deep: call failed');
  const error = resultTooDeepError(call.spec.tool.exposedName, call.callId, limit);
  ctx.life.settle(call, 'invalid-result', error);
}
