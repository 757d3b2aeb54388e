/**
 * What a provider sends back for a call (its one `client:tool-result`), and the errors its
 * handlers' signals abort with when the proxy gives up on a call.
 */
import { CANCEL_REASONS, describeUnknown, ErrorCode, ToolProxyError } from '../errors.js';
import { encodeFrame } from '../protocol/codec.js';
import { type ProxyFrame, WIRE_LIMITS } from '../protocol/frames.js';
import type { ToolContext, ToolDefinition } from './define-tool.js';

export type Answer = { result: unknown; error?: undefined } | { error: string; result?: undefined };

type Frame<T extends ProxyFrame['type']> = Extract<ProxyFrame, { type: T }>;

/** Runs the handler; the answer is what goes in `client:tool-result` (besides `call_id`). */
export async function runHandler(
  tool: ToolDefinition,
  args: unknown,
  context: ToolContext,
): Promise<Answer> {
  try {
    const result: unknown = await tool.handler(args, context);
    return { result: result === undefined ? null : result };
  } catch (error) {
    return { error: describeUnknown(error) || 'tool failed' };
  }
}

/**
 * The result frame of a call, as text. A result that cannot go in a frame (not JSON, or larger
 * than `maxFrameChars`) becomes an error result that says why.
 */
export function encodeAnswer(callId: string, answer: Answer, maxFrameChars: number): string {
  const head = { type: 'client:tool-result', call_id: callId } as const;
  const fail = (error: string) =>
    encodeFrame({ ...head, error: error.slice(0, WIRE_LIMITS.errorMessageLength) });
  if (answer.error !== undefined) return fail(answer.error);
  let text: string;
  try {
    text = encodeFrame({ ...head, result: answer.result });
  } catch (error) {
    return fail(`the result is not JSON-serialisable: ${describeUnknown(error)}`);
  }
  if (text.length > maxFrameChars)
    return fail(`the result is ${text.length} characters; a frame holds at most ${maxFrameChars}`);
  return text;
}

export function cancelledByProxy(frame: Frame<'agent:tool-call-cancelled'>): ToolProxyError {
  const reason = CANCEL_REASONS.find((known) => known === frame.reason);
  const why = [frame.reason ?? 'no reason given', frame.detail].filter(Boolean).join(': ');
  return new ToolProxyError(ErrorCode.Cancelled, `The proxy cancelled the call (${why}).`, {
    callId: frame.call_id,
    ...(reason === undefined ? {} : { reason }),
    ...(frame.detail === undefined ? {} : { detail: frame.detail }),
  });
}

export function timedOutByProxy(frame: Frame<'agent:tool-call-timeout'>): ToolProxyError {
  return new ToolProxyError(
    ErrorCode.Timeout,
    'The proxy stopped waiting for the call (deadline passed).',
    { callId: frame.call_id },
  );
}
