/**
 * What the proxy does with each frame a provider sends. Every path ends in a counted, logged
 * outcome; nothing here throws back into a transport's event handler.
 */

import type { CallTable } from '../calls/call-table.js';
import { callStaleError, invalidResultError, remoteError } from '../calls/messages.js';
import type { PendingCall, ProgressUpdate } from '../calls/pending-call.js';
import { ToolResultContent } from '../../protocol/rich-result.js';
import type { PeerInfo } from '../../shared/channel.js';
import { ErrorCode } from '../../shared/errors.js';
import { refuseMalformedRegistration, register, registerBatch } from './inbound-registration.js';
import { frameRateDetail, resultTooDeepError, resultTooLargeError } from '../limits/messages.js';
import { mayBeOwnResult } from '../limits/own-result.js';
import type { ProviderLimits } from '../limits/provider-limits.js';
import type { LogThrottle } from '../../shared/log-throttle.js';
import type { Logger } from '../../shared/logger.js';
import { type DecodeResult, decodeFrame } from '../../protocol/codec.js';
import { type JsonScan, scanJson } from '../../protocol/json-depth.js';
import {
  type OutboundProxyFrame,
  type ProviderFrame,
  ProviderFrameSchemas,
} from '../../protocol/frames.js';
import type { ToolRegistry } from '../registry/registry.js';
import type { ProxyStats } from '../stats.js';

export interface InboundContext {
  readonly registry: ToolRegistry;
  readonly calls: CallTable;
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

type Frame<T extends ProviderFrame['type']> = Extract<ProviderFrame, { type: T }>;

export function handleProviderFrame(ctx: InboundContext, from: PeerInfo, text: string): void {
  ctx.stats.frames.received++;
  if (from.identity === '') {
    // hermes-livekit ignores frames from an empty identity too: there is no one to answer or trust.
    ctx.stats.frames.malformed++;
    ctx.logger.warn({}, 'frame from a participant with no identity: dropped');
    return;
  }
  ctx.heard(from.identity, false);
  const { maxFrameDepth, charsPerStructural } = ctx.limits.limits;
  // Scanned only once admitted on its length: a frame over budget is dropped unread, as before.
  let scan: JsonScan | undefined;
  let cost = text.length;
  const over = ctx.limits.takeFrame(from.identity, text.length, () => {
    if (text.length > ctx.maxFrameChars) return 0; // refused unread as too large
    scan = scanJson(text, maxFrameDepth);
    cost += charsPerStructural * scan.structural;
    return cost - text.length;
  });
  if (over !== undefined) {
    handleOverBudget(ctx, from.identity, text, over);
    return;
  }
  const decoded = decodeFrame(text, ProviderFrameSchemas, ctx.maxFrameChars, {
    maxDepth: maxFrameDepth,
    ...(scan === undefined ? {} : { scan }),
  });
  if (!decoded.ok) {
    handleUndecodable(ctx, from.identity, decoded, text);
    return;
  }
  const frame = decoded.frame;
  switch (frame.type) {
    case 'client:tool-register':
      register(ctx, from, frame);
      return;
    case 'client:tool-register-batch':
      registerBatch(ctx, from, frame);
      return;
    case 'client:tool-unregister':
      unregister(ctx, from.identity, frame);
      return;
    case 'client:tool-result':
      // Results settle calls the agent made: they are not charged to the provider's budget.
      if (result(ctx, from.identity, frame, text.length))
        ctx.limits.refundFrame(from.identity, cost);
      return;
    case 'client:tool-progress':
      progress(ctx, from.identity, frame);
      return;
    case 'client:tool-log':
      log(ctx, from.identity, frame);
      return;
    case 'client:pong':
      ctx.heard(from.identity, true);
      return;
  }
}

/**
 * Over its frame budget, a provider's frames are dropped, except a result for one of its own
 * pending calls: each call settles once, so those are bounded by the calls the agent sent it.
 * Only a frame whose text names such a call is parsed, and then only a result is taken from it.
 */
function handleOverBudget(
  ctx: InboundContext,
  sender: string,
  text: string,
  over: 'frames' | 'chars',
): void {
  if (mayBeOwnResult(ctx.calls, sender, text, ctx.maxFrameChars)) {
    const decoded = decodeFrame(text, ProviderFrameSchemas, ctx.maxFrameChars, {
      maxDepth: ctx.limits.limits.maxFrameDepth,
    });
    if (decoded.ok && decoded.frame.type === 'client:tool-result') {
      result(ctx, sender, decoded.frame, text.length);
      return;
    }
    if (!decoded.ok && (decoded.type === 'client:tool-result' || unread(decoded.problem))) {
      handleUndecodable(ctx, sender, decoded, text);
      return;
    }
  }
  ctx.stats.frames.rateLimited++;
  const cost = over === 'chars' ? text.length : 1;
  const { report, retryAfterMs } = ctx.limits.refused(over, sender, cost);
  const limit = ctx.limits.limits[over];
  if (report === undefined || limit === undefined) return;
  ctx.logger.warn(
    {
      provider: sender,
      limit: over,
      dropped: report,
      perSecond: limit.perSecond,
      burst: limit.burst,
    },
    'provider over its frame budget: frames dropped',
  );
  ctx.reply(sender, {
    type: 'agent:rate-limited',
    limit: over,
    per_second: limit.perSecond,
    burst: limit.burst,
    dropped: report,
    retry_after_ms: retryAfterMs,
    detail: frameRateDetail(over, limit, retryAfterMs),
  });
}

function unregister(
  ctx: InboundContext,
  provider: string,
  frame: Frame<'client:tool-unregister'>,
): void {
  const outcome = ctx.registry.unregister(provider, frame.name);
  ctx.reply(provider, {
    type: 'agent:tool-unregistered',
    name: frame.name,
    success: outcome.ok,
    ...(outcome.ok ? {} : { reason: outcome.reason }),
  });
}

/** Settles the call the result is for, if the sender is its addressee; true if it did. */
function result(
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
    call.succeed(
      content === undefined || content === null
        ? (frame.result ?? null)
        : new ToolResultContent(content, frame.result),
    );
    return true;
  }
  const tool = call.spec.tool.exposedName;
  if (typeof error === 'string') call.fail('remote-error', remoteError(tool, call.callId, error));
  else if (error.code === ErrorCode.CallStale)
    call.fail('remote-error', callStaleError(tool, call.callId, error.message));
  else
    call.fail(
      'remote-error',
      remoteError(tool, call.callId, error.message, error.code, error.data),
    );
  return true;
}

function failTooLarge(ctx: InboundContext, call: PendingCall, size: number): void {
  ctx.stats.results.tooLarge++;
  const limit = ctx.limits.limits.maxResultChars;
  ctx.logger.info({ callId: call.callId, size, limit }, 'result over the size limit: call failed');
  const error = resultTooLargeError(call.spec.tool.exposedName, call.callId, size, limit);
  call.fail('invalid-result', error);
}

function progress(ctx: InboundContext, sender: string, frame: Frame<'client:tool-progress'>): void {
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
function log(ctx: InboundContext, sender: string, frame: Frame<'client:tool-log'>): void {
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

function handleUndecodable(
  ctx: InboundContext,
  sender: string,
  decoded: Extract<DecodeResult<unknown>, { ok: false }>,
  text: string,
): void {
  const { frames } = ctx.stats;
  if (decoded.problem === 'unknown-type') {
    frames.unknownType++;
    ctx.logger.debug({ sender, type: decoded.type }, 'unknown frame type: ignored');
    return;
  }
  if (unread(decoded.problem)) frames.tooLarge++;
  else frames.malformed++;
  ctx.logger.warn(
    { sender, type: decoded.type, problem: decoded.problem, error: decoded.error },
    'protocol error: frame dropped',
  );
  const raw = unread(decoded.problem) ? oversizeResultHead(text) : decoded.raw;
  if (raw === undefined) return;
  if (decoded.type === 'client:tool-register') {
    refuseMalformedRegistration(ctx, sender, raw, decoded.field ?? '', decoded.error);
  } else if (decoded.type === 'client:tool-result' || unread(decoded.problem)) {
    const unparsed = unread(decoded.problem) ? decoded.problem : undefined;
    failMalformedResult(ctx, sender, raw, decoded.error, unparsed, text.length);
  }
}

/** Refused before parsing (too large, or nested too deep): only the frame's head can be read. */
function unread(problem: string): problem is 'too-large' | 'too-deep' {
  return problem === 'too-large' || problem === 'too-deep';
}

/**
 * An oversize (or too deep) frame is not parsed, but if its head shows a result's `type` and `call_id` (the order
 * PROTOCOL.md asks for), the call can still fail at once instead of waiting for its deadline.
 */
function oversizeResultHead(text: string): Record<string, unknown> | undefined {
  const head = text.slice(0, 512);
  if (!/^\s*\{\s*"type"\s*:\s*"client:tool-result"/.test(head)) return undefined;
  const callId = /"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"/.exec(head)?.[1];
  return callId === undefined ? undefined : { call_id: callId };
}

/** A malformed result from the right provider still ends its call, rather than leaving it to time out. */
function failMalformedResult(
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
    call.fail('invalid-result', invalidResultError(call.spec.tool.exposedName, call.callId, error));
}

function failTooDeep(ctx: InboundContext, call: PendingCall): void {
  ctx.stats.results.tooLarge++;
  const limit = ctx.limits.limits.maxFrameDepth;
  ctx.logger.info({ callId: call.callId, limit }, 'result nested too deep: call failed');
  call.fail('invalid-result', resultTooDeepError(call.spec.tool.exposedName, call.callId, limit));
}
