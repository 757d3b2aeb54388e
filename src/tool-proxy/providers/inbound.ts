/**
 * What the proxy does with each frame a provider sends. Every path ends in a counted, logged
 * outcome; nothing here throws back into a transport's event handler.
 */

import type { PeerInfo } from '../../shared/channel.js';
import { failMalformedResult, log, progress, result } from './inbound-call-frames.js';
import type { Frame, InboundContext } from './inbound-context.js';
import { refuseMalformedRegistration, register, registerBatch } from './inbound-registration.js';
import { frameRateDetail } from '../limits/messages.js';
import { mayBeOwnResult } from '../limits/own-result.js';
import { type DecodeResult, decodeFrame } from '../../protocol/codec.js';
import { type JsonScan, scanJson } from '../../protocol/json-depth.js';
import { ProviderFrameSchemas } from '../../protocol/frames.js';

export type { InboundContext } from './inbound-context.js';

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
