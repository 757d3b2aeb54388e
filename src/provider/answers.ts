/**
 * What a provider sends back for a call (its one `client:tool-result`), and the errors its
 * handlers' signals abort with when the proxy gives up on a call.
 */
import { isToolResultContent } from '../protocol/rich-result.js';
import {
  CANCEL_REASONS,
  describeUnknown,
  ErrorCode,
  eventError,
  type ToolProxyError,
} from '../shared/errors.js';
import { encodeFrame } from '../protocol/codec.js';
import { DEFAULT_MAX_JSON_DEPTH, scanJson } from '../protocol/json-depth.js';
import type { ContentBlock } from '../protocol/content-blocks.js';
import { type ProxyFrame, WIRE_LIMITS } from '../protocol/frames.js';
import type { ToolContext, ToolDefinition } from './define-tool.js';

/** `content` set: a rich answer, `result` its structured value (`undefined`: none, not sent). */
export type Answer =
  | { result: unknown; content?: readonly ContentBlock[]; error?: undefined }
  | { error: string; code?: string; result?: undefined; content?: undefined };

type Frame<T extends ProxyFrame['type']> = Extract<ProxyFrame, { type: T }>;

/** Runs the handler; the answer is what goes in `client:tool-result` (besides `call_id`). */
export async function runHandler(
  tool: ToolDefinition,
  args: unknown,
  context: ToolContext,
): Promise<Answer> {
  try {
    const result: unknown = await tool.handler(args, context);
    if (isToolResultContent(result)) return { result: result.structured, content: result.content };
    return { result: result === undefined ? null : result };
  } catch (error) {
    return { error: describeUnknown(error) || 'tool failed' };
  }
}

/**
 * The result frame of a call, as text: `type` and `call_id` first (PROTOCOL.md section 8), then
 * `content` when the answer has some, then `result`. A result that cannot go in a frame (not JSON,
 * larger than `maxFrameChars`, or nested deeper than a proxy parses) becomes an error result that
 * says why: the agent learns at once, rather than when the call times out.
 */
export function encodeAnswer(callId: string, answer: Answer, maxFrameChars: number): string {
  const head = { type: 'client:tool-result', call_id: callId } as const;
  const fail = (error: string, code?: string) => {
    const message = error.slice(0, WIRE_LIMITS.errorMessageLength);
    return encodeFrame({ ...head, error: code === undefined ? message : { message, code } });
  };
  if (answer.error !== undefined) return fail(answer.error, answer.code);
  const { content, result } = answer;
  let text: string;
  try {
    text =
      content === undefined
        ? encodeFrame({ ...head, result })
        : encodeFrame({ ...head, content, ...(result === undefined ? {} : { result }) });
  } catch (error) {
    return fail(`the result is not JSON-serialisable: ${describeUnknown(error)}`);
  }
  if (text.length > maxFrameChars) {
    const advice = content === undefined ? '' : oversizeContentAdvice;
    return fail(
      `the result is ${text.length} characters; a frame holds at most ${maxFrameChars}${advice}`,
    );
  }
  if (scanJson(text, DEFAULT_MAX_JSON_DEPTH).tooDeep) {
    return fail(
      `the result nests arrays and objects more than ${DEFAULT_MAX_JSON_DEPTH - 1} levels deep; ` +
        'a proxy refuses deeper frames unread, so return flatter JSON',
    );
  }
  return text;
}

/** The answer to an `agent:tool-call` refused unparsed for its nesting (runtime.ts). */
export const DEEP_CALL_ERROR =
  `invalid arguments: nested more than ${DEFAULT_MAX_JSON_DEPTH - 1} levels deep, the limit; ` +
  'the call was not run. Send flatter arguments.';

const CALL_HEAD =
  /^\s*\{\s*"type"\s*:\s*"agent:tool-call"\s*,\s*"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,128})"/;

/** The `call_id` of a call frame that could not be parsed, if its head (as proxies write it) shows one. */
export function deepCallId(text: string): string | undefined {
  return CALL_HEAD.exec(text.slice(0, 512))?.[1];
}

const oversizeContentAdvice =
  ' (send a smaller image or a resource_link to the data instead of the bytes)';

export function cancelledByProxy(frame: Frame<'agent:tool-call-cancelled'>): ToolProxyError {
  const reason = CANCEL_REASONS.find((known) => known === frame.reason);
  const why = [frame.reason ?? 'no reason given', frame.detail].filter(Boolean).join(': ');
  return eventError(ErrorCode.Cancelled, `The proxy cancelled the call (${why}).`, {
    callId: frame.call_id,
    ...(reason === undefined ? {} : { reason }),
    ...(frame.detail === undefined ? {} : { detail: frame.detail }),
  });
}

export function timedOutByProxy(frame: Frame<'agent:tool-call-timeout'>): ToolProxyError {
  return eventError(
    ErrorCode.Timeout,
    'The proxy stopped waiting for the call (deadline passed).',
    { callId: frame.call_id },
  );
}
