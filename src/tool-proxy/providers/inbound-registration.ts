/**
 * What the proxy does with a provider's registrations: each one, single or in a batch, is charged
 * to the provider's registration budget first and always answered with `agent:tool-registered`.
 */
import type { PeerInfo } from '../../shared/channel.js';
import { registrationRateDetail } from '../limits/messages.js';
import { formatIssues } from '../../shared/zod-issues.js';
import {
  type ProviderFrame,
  type ToolRegistration,
  ToolRegistrationSchema,
} from '../../protocol/frames.js';
import type { InboundContext } from './inbound-context.js';
import type { RegistrationFailure } from '../registry/registry.js';

type BatchFrame = Extract<ProviderFrame, { type: 'client:tool-register-batch' }>;

const FIELD_REASONS: Record<string, RegistrationFailure> = {
  name: 'name-invalid',
  input_schema: 'schema-invalid',
  description: 'description-invalid',
  metadata: 'metadata-invalid',
};

export function register(
  ctx: InboundContext,
  from: PeerInfo,
  registration: ToolRegistration,
): void {
  const provider = from.identity;
  const name = registration.name;
  if (!admitRegistration(ctx, provider, name)) return;
  const outcome = ctx.registry.register(from, registration);
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

export function registerBatch(ctx: InboundContext, from: PeerInfo, frame: BatchFrame): void {
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

export function refuseMalformedRegistration(
  ctx: InboundContext,
  provider: string,
  raw: Record<string, unknown>,
  field: string,
  error: string,
): void {
  const name = typeof raw.name === 'string' ? raw.name.slice(0, 256) : '';
  if (!admitRegistration(ctx, provider, name)) return;
  ctx.reply(provider, {
    type: 'agent:tool-registered',
    name,
    success: false,
    reason: FIELD_REASONS[field] ?? 'register-failed',
    detail: error,
  });
}

/**
 * Takes a registration token. Without one, the registration is answered `rate-limited`, with
 * `retry_after_ms` for providers to act on and the same in `detail` for people (a refused update
 * leaves the previous registration in place), and this returns false; the log says so once per
 * interval, however many are refused.
 */
function admitRegistration(ctx: InboundContext, provider: string, name: string): boolean {
  const limit = ctx.limits.limits.registrations;
  if (limit === undefined || ctx.limits.take('registrations', provider)) return true;
  ctx.stats.registrations.rateLimited++;
  const { report, retryAfterMs } = ctx.limits.refused('registrations', provider);
  if (report !== undefined) {
    ctx.logger.warn(
      { provider, refused: report, perSecond: limit.perSecond, burst: limit.burst },
      'provider over its registration budget: registrations refused',
    );
  }
  ctx.reply(provider, {
    type: 'agent:tool-registered',
    name,
    success: false,
    reason: 'rate-limited',
    detail: registrationRateDetail(limit, retryAfterMs),
    retry_after_ms: retryAfterMs,
  });
  return false;
}
