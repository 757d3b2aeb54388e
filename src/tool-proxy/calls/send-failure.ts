/**
 * Why a call frame could not be sent, as the caller should hear it: a frame that can never be sent
 * as it is (over the transport's maximum, or nested past what JSON encoding recurses through) asks
 * for smaller arguments; anything else (not connected, a full channel) may pass on a later try.
 */
import { FrameTooLargeError } from '../../shared/channel.js';
import { ErrorCode, ToolProxyError } from '../../shared/errors.js';
import { sendFailedError } from './messages.js';

/** What about the frame makes it unsendable; undefined when the failure was the transport's. */
export function unsendableBecause(error: unknown): string | undefined {
  if (error instanceof FrameTooLargeError)
    return `the call frame is ${error.bytes} bytes; the transport carries at most ${error.maxBytes}`;
  // JSON.stringify of arguments nested too deep runs out of stack: a RangeError.
  if (error instanceof RangeError) return 'the arguments are nested too deeply to encode';
  if (error instanceof Error && 'code' in error && error.code === 'FRAME_TOO_LARGE')
    return `the call frame is over the transport's maximum (${error.message})`;
  return undefined;
}

export function sendFailure(tool: string, callId: string, error: unknown): ToolProxyError {
  const why = unsendableBecause(error);
  if (why === undefined) return sendFailedError(tool, callId, error);
  return new ToolProxyError(
    ErrorCode.ArgumentsUnsendable,
    `Tool "${tool}" was not called: ${why}, so these arguments can never be sent. Call it again with smaller or simpler arguments (less data, less nesting); retrying the same arguments fails the same way.`,
    { tool, callId, cause: error },
  );
}
