/**
 * Tools on the provider side are defined with zod: the schema validates incoming arguments and
 * `z.toJSONSchema` produces the registration the proxy (and the LLM) sees.
 */
import { z } from 'zod';
import { ErrorCode, ToolProxyError } from '../shared/errors.js';
import type { ToolAnnotations, ToolLogLevel, ToolRegistration } from '../protocol/frames.js';
import { PROVIDER_TOOL_NAME } from '../protocol/tool-names.js';

export interface ToolContext {
  /** Aborted (with a ToolProxyError: CANCELLED or TIMEOUT) when the proxy gives up on the call. */
  readonly signal: AbortSignal;
  readonly callId: string;
  /** Identity of the proxy that made the call. */
  readonly caller: string;
  /** Reports progress; `progress` must increase. Ignored once the call is aborted. */
  readonly progress: (progress: number, total?: number, message?: string) => void;
  /**
   * Sends a log message to the agent (`client:tool-log`; MCP shows it as `notifications/message`,
   * filtered by the client's level). `data` is any JSON value; `logger` names the source (≤ 256
   * chars). Unlike progress it does not extend the deadline. Ignored once the call is aborted.
   */
  readonly log: (level: ToolLogLevel, data: unknown, logger?: string) => void;
}

export interface ToolDefinition<Input extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly input: Input;
  /** Asks the proxy for this deadline (the proxy clamps it to its maximum). */
  readonly timeoutMs?: number;
  readonly annotations?: ToolAnnotations;
  /**
   * Runs a call. Returns (or resolves with) a JSON value, the result; or `toolContent(blocks,
   * structured?)` to show the model images, audio or resources (sent as `content`, PROTOCOL.md
   * section 8). A throw is the call's error.
   */
  handler(args: z.output<Input>, context: ToolContext): unknown;
}

/** Identity function that infers the handler's argument type from `input`. */
export function defineTool<Input extends z.ZodType>(
  definition: ToolDefinition<Input>,
): ToolDefinition<Input> {
  return definition;
}

/** The registration frame body for a tool; throws INVALID_TOOL for a name or schema that cannot go on the wire. */
export function toRegistration(tool: ToolDefinition): ToolRegistration {
  if (!PROVIDER_TOOL_NAME.test(tool.name)) {
    throw new ToolProxyError(
      ErrorCode.InvalidTool,
      `Tool name "${tool.name}" must match ${PROVIDER_TOOL_NAME.source}`,
      {
        tool: tool.name,
      },
    );
  }
  let inputSchema: Record<string, unknown>;
  try {
    inputSchema = z.toJSONSchema(tool.input, { io: 'input' });
  } catch (error) {
    throw new ToolProxyError(
      ErrorCode.InvalidTool,
      `Tool "${tool.name}": input cannot be expressed as JSON Schema`,
      {
        tool: tool.name,
        cause: error,
      },
    );
  }
  if (inputSchema.type !== 'object') {
    throw new ToolProxyError(
      ErrorCode.InvalidTool,
      `Tool "${tool.name}": input must be a z.object(...)`,
      {
        tool: tool.name,
      },
    );
  }
  const metadata = {
    ...(tool.timeoutMs === undefined ? {} : { max_execution_time_ms: tool.timeoutMs }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
  };
  return {
    name: tool.name,
    description: tool.description,
    input_schema: inputSchema,
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
  };
}
