/**
 * Frames in and out of JSON text. Decoding never throws: every way a frame can be wrong is a value,
 * so a transport's event handler can count it and move on.
 */
import type { z } from 'zod';
import { formatIssues } from '../shared/zod-issues.js';
import { DEFAULT_MAX_JSON_DEPTH, type JsonScan, scanJson, tooDeepMessage } from './json-depth.js';

/** `too-deep`: nested past the depth cap, refused unparsed like a `too-large` one. */
export type FrameProblem =
  'too-large' | 'too-deep' | 'not-json' | 'not-object' | 'unknown-type' | 'invalid';

export type DecodeResult<F> =
  | { ok: true; frame: F }
  | {
      ok: false;
      problem: FrameProblem;
      /** Human-readable, for logs and for answers to the sender. */
      error: string;
      /** The frame's `type`, when it had one. */
      type?: string;
      /** The parsed object, when the text was a JSON object (for answering a bad frame). */
      raw?: Record<string, unknown>;
      /** For `invalid`: the first field that failed, e.g. `input_schema`. */
      field?: string;
    };

export const DEFAULT_MAX_FRAME_CHARS = 1_048_576;

export interface DepthCheck {
  /** Deepest nesting accepted. Default `DEFAULT_MAX_JSON_DEPTH` (64). */
  readonly maxDepth?: number;
  /** This text's scan at `maxDepth`, when the caller already made it (to charge its cost). */
  readonly scan?: JsonScan;
}

type SchemaMap = Record<string, z.ZodType>;
type FrameOf<M extends SchemaMap> = z.output<M[keyof M]>;

export function decodeFrame<M extends SchemaMap>(
  text: string,
  schemas: M,
  maxChars: number = DEFAULT_MAX_FRAME_CHARS,
  depth: DepthCheck = {},
): DecodeResult<FrameOf<M>> {
  if (text.length > maxChars) {
    return {
      ok: false,
      problem: 'too-large',
      error: `frame of ${text.length} chars exceeds ${maxChars}`,
    };
  }
  // Parse time grows with nesting far faster than with length: a deep frame is never parsed.
  const maxDepth = depth.maxDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if ((depth.scan ?? scanJson(text, maxDepth)).tooDeep) {
    return { ok: false, problem: 'too-deep', error: tooDeepMessage('the frame', maxDepth) };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: 'not-json', error: (error as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'not-object', error: 'a frame must be a JSON object' };
  }
  const raw = value as Record<string, unknown>;
  const type = raw.type;
  if (typeof type !== 'string') {
    return { ok: false, problem: 'unknown-type', error: 'frame has no string "type"', raw };
  }
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema === undefined) {
    return { ok: false, problem: 'unknown-type', error: `unknown frame type "${type}"`, type, raw };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first?.path[0] === undefined ? undefined : String(first.path[0]);
    return {
      ok: false,
      problem: 'invalid',
      error: formatIssues(parsed.error.issues),
      type,
      raw,
      ...(field === undefined ? {} : { field }),
    };
  }
  return { ok: true, frame: parsed.data as FrameOf<M> };
}

export function encodeFrame(frame: object): string {
  return JSON.stringify(frame);
}
