/**
 * What a provider sends back for a call (its one `client:tool-result`), and the errors its
 * handlers' signals abort with when the proxy gives up on a call.
 */
import { isToolResultContent } from '../calls/rich-result.js';
import {
  CANCEL_REASONS,
  describeUnknown,
  ErrorCode,
  eventError,
  type ToolProxyError,
} from '../errors.js';
import { encodeFrame } from '../protocol/codec.js';
import type { ContentBlock } from '../protocol/content-blocks.js';
import { type ProxyFrame, WIRE_LIMITS } from '../protocol/frames.js';
import type { ToolContext, ToolDefinition } from './define-tool.js';

/** `content` set: a rich answer, `result` its structured value (`undefined`: none, not sent). */
export type Answer =
  | { result: unknown; content?: readonly ContentBlock[]; error?: undefined }
  | { error: string; result?: undefined; content?: undefined };

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
 * or larger than `maxFrameChars`) becomes an error result that says why.
 */
export function encodeAnswer(callId: string, answer: Answer, maxFrameChars: number): string {
  const head = { type: 'client:tool-result', call_id: callId } as const;
  const fail = (error: string) =>
    encodeFrame({ ...head, error: error.slice(0, WIRE_LIMITS.errorMessageLength) });
  if (answer.error !== undefined) return fail(answer.error);
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
  return text;
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
