/**
 * A tool result with content blocks (images, audio, resources) for the model, beside an optional
 * structured value. Both sides use it: a provider's handler returns one (`toolContent`), the
 * provider runtime sends it as `content` + `result`, and `proxy.call()` resolves with one.
 *
 * Why a class and not a record: a plain result arrives as parsed JSON, which can never be an
 * instance of a class nor carry a symbol. So `isToolResultContent` tells the two apart exactly,
 * without guessing from a value's shape, and a provider's plain `result` can never pass for content
 * (nor the reverse). Results without content still resolve as the plain value, so callers that
 * never see content change nothing.
 */
import { ErrorCode, ToolProxyError } from '../shared/errors.js';
import { formatIssues } from '../shared/zod-issues.js';
import {
  type ContentBlock,
  type ContentBlockInput,
  ContentBlocksSchema,
} from './content-blocks.js';

/** Registered, so two copies of toolproxy in one process still recognise each other's results. */
const BRAND = Symbol.for('toolproxy.ToolResultContent');

/** What `JSON.stringify` makes of a ToolResultContent (logs, UI message stores). */
export interface ToolResultContentJson {
  content: ContentBlock[];
  structured?: unknown;
}

export class ToolResultContent {
  /** What the model sees: validated MCP content blocks, 1 to 64. */
  readonly content: readonly ContentBlock[];
  /** The provider's `result` beside the content (any JSON value); `undefined` when it sent none. */
  readonly structured: unknown;

  /** Takes blocks as they are; use `toolContent()` to validate blocks written by hand. */
  constructor(content: readonly ContentBlock[], structured?: unknown) {
    this.content = Object.freeze([...content]);
    this.structured = structured;
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): ToolResultContentJson {
    const content = [...this.content];
    return this.structured === undefined ? { content } : { content, structured: this.structured };
  }
}

export function isToolResultContent(value: unknown): value is ToolResultContent {
  return (
    value instanceof ToolResultContent ||
    (typeof value === 'object' && value !== null && BRAND in value)
  );
}

/**
 * Rich content for a tool's answer, checked against the wire format now, so a handler learns of a
 * bad block where it built it (INVALID_RESULT, naming the block) rather than from the proxy.
 *
 * @example return toolContent([{ type: 'image', data: base64Png, mimeType: 'image/png' }], { width, height });
 */
export function toolContent(
  content: readonly ContentBlockInput[],
  structured?: unknown,
): ToolResultContent {
  const parsed = ContentBlocksSchema.safeParse(content);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      ...issue,
      path: ['content', ...issue.path],
    }));
    throw new ToolProxyError(
      ErrorCode.InvalidResult,
      `Invalid tool content: ${formatIssues(issues)}`,
    );
  }
  return new ToolResultContent(parsed.data, structured);
}
