/**
 * The proxy's tools for the Vercel AI SDK (`ai` 7): one `dynamicTool` per registered tool, its
 * input schema the provider's JSON Schema (`jsonSchema()`, no SDK-side validation: the proxy
 * validates and answers INVALID_ARGUMENTS), its `execute` one proxy call whose signal is the SDK's
 * `abortSignal` (the caller's `abortSignal` merged with the `timeout.toolMs` deadline), so aborting
 * `generateText` / `streamText` cancels the call at the provider.
 *
 * A failed call throws; the SDK turns the throw into a `tool-error` part and sends the model
 * `String(error)`. The error thrown is an `AiSdkToolError`: a ToolProxyError (same code, reason and
 * message, the original as `cause`) whose text is its LLM-readable message alone.
 *
 * A result with content blocks is the tool's output as the ToolResultContent the proxy resolved
 * with (`output.content`, `output.structured`); `toModelOutput` shows the model its blocks, images
 * and audio as media (model-output.ts). Plain results are the output as they are, as before.
 */
import { dynamicTool, type JSONSchema7, jsonSchema, type ToolSet } from 'ai';
import {
  type ExposedTool,
  isToolProxyError,
  type ToolProxy,
  ToolProxyError,
} from '../../src/index.js';
import {
  argumentsOf,
  buildToolSet,
  objectSchema,
  type ToolFilter,
  UNEXPECTED_FAILURE_TEXT,
} from '../kit/index.js';
import { toModelOutput } from './model-output.js';

export interface AiSdkToolsOptions {
  /**
   * Puts every call in this agent session, so `agent_loop_stopped` / `session:end` /
   * `session:reset` for it cancel them. Without one a call has no session key, and a stop of any
   * session cancels it (PROTOCOL.md section 7).
   */
  sessionKey?: string;
  /** Which of the proxy's tools to offer, e.g. to leave out names the app's own tools use. */
  filter?: ToolFilter;
}

/**
 * A ToolProxyError whose `toString()` is its message: the AI SDK sends the model `String(error)`,
 * which for an Error is `name: message`.
 */
export class AiSdkToolError extends ToolProxyError {
  static from(error: ToolProxyError): AiSdkToolError {
    return new AiSdkToolError(error.code, error.message, {
      cause: error,
      tool: error.tool,
      callId: error.callId,
      reason: error.reason,
      detail: error.detail,
      data: error.data,
    });
  }

  override toString(): string {
    return this.message;
  }
}

/**
 * The proxy's tools now, keyed by name. Providers come and go: build the set for each
 * `generateText` / `streamText` call rather than once.
 */
export function aiSdkTools(proxy: ToolProxy, options: AiSdkToolsOptions = {}): ToolSet {
  return buildToolSet(proxy, options.filter, (tool) => aiSdkTool(proxy, tool, options.sessionKey));
}

/** One proxy tool as a dynamic tool. */
export function aiSdkTool(
  proxy: ToolProxy,
  tool: ExposedTool,
  sessionKey?: string,
): ToolSet[string] {
  const { name } = tool;
  return dynamicTool({
    description: tool.description,
    inputSchema: jsonSchema(objectSchema<JSONSchema7>(tool)),
    execute: async (input, { abortSignal }) => {
      try {
        return await proxy.call(name, argumentsOf(name, input), {
          signal: abortSignal,
          sessionKey,
        });
      } catch (error) {
        throw toAiSdkError(error);
      }
    },
    toModelOutput: ({ output }) => toModelOutput(output),
  });
}

/** A throw that is not a ToolProxyError (a bug): the model gets the proxy's honest generic text. */
export class UnexpectedToolError extends Error {
  override name = 'UnexpectedToolError';

  override toString(): string {
    return this.message;
  }
}

/** A failed call as what the tool throws: the proxy's message, or the generic text. */
export function toAiSdkError(error: unknown): AiSdkToolError | UnexpectedToolError {
  if (isToolProxyError(error)) return AiSdkToolError.from(error);
  return new UnexpectedToolError(UNEXPECTED_FAILURE_TEXT, { cause: error });
}
