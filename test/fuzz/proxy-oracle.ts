/** What the proxy must answer to a provider's frame (PROTOCOL.md 3.1, 4.2, 4.6, 10). */
import { DEFAULT_MAX_FRAME_CHARS } from '../../src/protocol/codec.js';
import type { JsonObject } from '../support/wire-peer.js';
import { codePoints, isObject, parse, tooDeep } from './json-text.js';

export const REGISTRATION_REASONS = new Set([
  'name-invalid',
  'schema-invalid',
  'description-invalid',
  'metadata-invalid',
  'too-many-tools',
  'not-allowed',
  'name-taken',
  'registry-collision',
  'register-failed',
]);

interface ExpectedReply {
  readonly type: 'agent:tool-registered' | 'agent:tool-unregistered';
  /** The names the reply may carry: as sent, or cut to 256 chars when the item did not parse. */
  readonly names: readonly string[];
}

function replyNames(item: unknown): string[] {
  const name = isObject(item) ? item.name : undefined;
  return typeof name === 'string' ? [name, name.slice(0, 256)] : [''];
}

/** What the proxy must answer to `text` (PROTOCOL.md 3.1, 4.6, 10). */
export function expectedProxyReplies(text: string): ExpectedReply[] {
  if (text.length > DEFAULT_MAX_FRAME_CHARS || tooDeep(text)) return [];
  // Only these frame types are answered. JSON can write their `type` without these words only
  // with \u escapes, so this skips parsing exactly the frames that cannot be answered.
  if (!text.includes('tool-register') && !text.includes('tool-unregister') && !text.includes('\\u'))
    return [];
  const frame = parse(text);
  if (!isObject(frame)) return [];
  switch (frame.type) {
    case 'client:tool-register':
      return [{ type: 'agent:tool-registered', names: replyNames(frame) }];
    case 'client:tool-register-batch': {
      const { tools, replace } = frame;
      if (!Array.isArray(tools) || tools.length > 256) return [];
      if (replace !== undefined && typeof replace !== 'boolean') return [];
      return tools.map((item: unknown) => ({
        type: 'agent:tool-registered',
        names: replyNames(item),
      }));
    }
    case 'client:tool-unregister':
      return typeof frame.name === 'string' && codePoints(frame.name) <= 256
        ? [{ type: 'agent:tool-unregistered', names: [frame.name] }]
        : [];
    default:
      return [];
  }
}

/**
 * The one registration answer a provider gets unasked: its suffixed tool has its plain name back,
 * freed by another provider's frame (PROTOCOL 4.2), so the ack carries no `exposed_name`.
 */
export function isReclaimNotice(frame: JsonObject): boolean {
  return (
    frame.type === 'agent:tool-registered' &&
    frame.success === true &&
    typeof frame.name === 'string' &&
    frame.exposed_name === undefined &&
    frame.reason === undefined
  );
}
