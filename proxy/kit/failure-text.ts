/**
 * What every front sends the model when a call fails: the proxy's own message (written for the
 * LLM that reads it), or, for a throw that is not a ToolProxyError, an honest generic text.
 */
import { isToolProxyError } from '../../src/index.js';

/** For a throw that is not a ToolProxyError: nothing specific is known, so say so honestly. */
export const UNEXPECTED_FAILURE_TEXT =
  'The tool call failed inside the tool proxy, for an unexpected reason. If this tool acts on the ' +
  'physical world or changes state, the action may already have started or completed; check the ' +
  'current state before retrying.';

/** A failed call's text for the model. */
export function failureText(error: unknown): string {
  return isToolProxyError(error) ? error.message : UNEXPECTED_FAILURE_TEXT;
}
