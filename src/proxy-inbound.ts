/**
 * What the proxy does with each frame a provider sends. Every path ends in a counted, logged
 * outcome; nothing here throws back into a transport's event handler.
 */

import type { CallTable } from './calls/call-table.js';
import { invalidResultError, remoteError } from './calls/messages.js';
import type { PendingCall, ProgressUpdate } from './calls/pending-call.js';
import type { PeerInfo } from './channel.js';
import type { Logger } from './logger.js';
import { type DecodeResult, decodeFrame, formatIssues } from './protocol/codec.js';
import {
  type OutboundProxyFrame,
  type ProviderFrame,
  ProviderFrameSchemas,
  type ToolRegistration,
  ToolRegistrationSchema,
} from './protocol/frames.js';
import type { RegistrationFailure, ToolRegistry } from './registry/registry.js';
import type { ProxyStats } from './stats.js';

export interface InboundContext {
  readonly registry: ToolRegistry;
  readonly calls: CallTable;
  readonly stats: ProxyStats;
  readonly logger: Logger;
  readonly maxFrameChars: number;
  /** Best-effort send; failures are logged by the proxy. */
  reply(to: string, frame: OutboundProxyFrame): void;
  progressed(call: PendingCall, update: ProgressUpdate): void;
}

type Frame<T extends ProviderFrame['type']> = Extract<ProviderFrame, { type: T }>;

const FIELD_REASONS: Record<string, RegistrationFailure> = {
  name: 'name-invalid',
  input_schema: 'schema-invalid',
  description: 'description-invalid',
  metadata: 'metadata-invalid',
};

export function handleProviderFrame(ctx: InboundContext, from: PeerInfo, text: string): void {
  ctx.stats.frames.received++;
  if (from.identity === '') {
    // hermes-livekit ignores frames from an empty identity too: there is no one to answer or trust.
    ctx.stats.frames.malformed++;
    ctx.logger.warn({}, 'frame from a participant with no identity: dropped');
    return;
  }
  const decoded = decodeFrame(text, ProviderFrameSchemas, ctx.maxFrameChars);
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
      result(ctx, from.identity, frame);
      return;
    case 'client:tool-progress':
      progress(ctx, from.identity, frame);
      return;
  }
}

function register(ctx: InboundContext, from: PeerInfo, registration: ToolRegistration): void {
  const provider = from.identity;
  const outcome = ctx.registry.register(from, registration);
  const name = registration.name;
  if (outcome.ok) {
    const renamed =
      outcome.tool.exposedName === name ? {} : { exposed_name: outcome.tool.exposedName };
    ctx.reply(provider, { type: 'agent:tool-registered', name, success: true, ...renamed });
    return;
  }
  ctx.logger.info(
    { provider, tool: name, reason: outcome.reason, detail: outcome.detail },
    'registration refused',
  );
  ctx.reply(provider, {
    type: 'agent:tool-registered',
    name,
    success: false,
    reason: outcome.reason,
    detail: outcome.detail,
  });
}

function registerBatch(
  ctx: InboundContext,
  from: PeerInfo,
  frame: Frame<'client:tool-register-batch'>,
): void {
  const provider = from.identity;
  const items = frame.tools.map((item) => ({
    item,
    parsed: ToolRegistrationSchema.safeParse(item),
  }));
  if (frame.replace) {
    // Unlisted tools go first, so the new set does not count against the cap next to the old one.
    const listed = new Set(items.map(({ item }) => nameOf(item)));
    for (const name of ctx.registry.namesOf(provider)) {
      if (!listed.has(name)) ctx.registry.unregister(provider, name);
    }
  }
  for (const { item, parsed } of items) {
    if (parsed.success) {
      register(ctx, from, parsed.data);
    } else {
      const raw =
        typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
      const field = String(parsed.error.issues[0]?.path[0] ?? '');
      refuseMalformedRegistration(ctx, provider, raw, field, formatIssues(parsed.error.issues));
    }
  }
}

function nameOf(item: unknown): unknown {
  return typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
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

function result(ctx: InboundContext, sender: string, frame: Frame<'client:tool-result'>): void {
  const call = addressedCall(ctx, sender, frame.call_id, 'result');
  if (call === undefined) return;
  ctx.stats.results.accepted++;
  const error = frame.error;
  if (error === undefined || error === null) {
    call.succeed(frame.result ?? null);
    return;
  }
  const tool = call.spec.tool.exposedName;
  if (typeof error === 'string') call.fail('remote-error', remoteError(tool, call.callId, error));
  else
    call.fail(
      'remote-error',
      remoteError(tool, call.callId, error.message, error.code, error.data),
    );
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

/**
 * The pending call `callId` if `sender` is the provider it was sent to. Anything else is dropped
 * and counted: unknown ids, ids already settled (late or duplicate), and other senders (spoofed).
 */
function addressedCall(
  ctx: InboundContext,
  sender: string,
  callId: string,
  kind: 'result' | 'progress',
): PendingCall | undefined {
  const call = ctx.calls.get(callId);
  if (call !== undefined && call.spec.tool.provider === sender) return call;
  if (kind === 'progress') return undefined;
  const counters = ctx.stats.results;
  const settled = ctx.calls.recentlySettled(callId);
  if (call !== undefined || (settled !== undefined && settled.provider !== sender)) {
    counters.spoofed++;
    ctx.logger.warn(
      { callId, sender },
      'result from a participant the call was not sent to: dropped',
    );
  } else if (settled === undefined) {
    counters.unknown++;
    ctx.logger.debug({ callId, sender }, 'result for an unknown call id: dropped');
  } else if (settled.outcome === 'result' || settled.outcome === 'remote-error') {
    counters.duplicate++;
    ctx.logger.debug({ callId, sender }, 'duplicate result: dropped');
  } else {
    counters.late++;
    ctx.logger.debug(
      { callId, sender, outcome: settled.outcome },
      'result after the call settled: dropped',
    );
  }
  return undefined;
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
  if (decoded.problem === 'too-large') frames.tooLarge++;
  else frames.malformed++;
  ctx.logger.warn(
    { sender, type: decoded.type, problem: decoded.problem, error: decoded.error },
    'protocol error: frame dropped',
  );
  const raw = decoded.problem === 'too-large' ? oversizeResultHead(text) : decoded.raw;
  if (raw === undefined) return;
  if (decoded.type === 'client:tool-register') {
    refuseMalformedRegistration(ctx, sender, raw, decoded.field ?? '', decoded.error);
  } else if (decoded.type === 'client:tool-result' || decoded.problem === 'too-large') {
    failMalformedResult(ctx, sender, raw, decoded.error);
  }
}

/**
 * An oversize frame is not parsed, but if its head shows a result's `type` and `call_id` (the order
 * PROTOCOL.md asks for), the call can still fail at once instead of waiting for its deadline.
 */
function oversizeResultHead(text: string): Record<string, unknown> | undefined {
  const head = text.slice(0, 512);
  if (!/^\s*\{\s*"type"\s*:\s*"client:tool-result"/.test(head)) return undefined;
  const callId = /"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"/.exec(head)?.[1];
  return callId === undefined ? undefined : { call_id: callId };
}

function refuseMalformedRegistration(
  ctx: InboundContext,
  provider: string,
  raw: Record<string, unknown>,
  field: string,
  error: string,
): void {
  const name = typeof raw.name === 'string' ? raw.name.slice(0, 256) : '';
  ctx.reply(provider, {
    type: 'agent:tool-registered',
    name,
    success: false,
    reason: FIELD_REASONS[field] ?? 'register-failed',
    detail: error,
  });
}

/** A malformed result from the right provider still ends its call, rather than leaving it to time out. */
function failMalformedResult(
  ctx: InboundContext,
  sender: string,
  raw: Record<string, unknown>,
  error: string,
): void {
  if (typeof raw.call_id !== 'string') return;
  const call = ctx.calls.get(raw.call_id);
  if (call === undefined || call.spec.tool.provider !== sender) return;
  call.fail('invalid-result', invalidResultError(call.spec.tool.exposedName, call.callId, error));
}
