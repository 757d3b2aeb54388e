/**
 * The proxy's tools as @livekit/agents function tools. Each is `llm.tool({ name, description,
 * parameters, execute, flags: CANCELLABLE })` with the provider's JSON Schema as `parameters`;
 * `execute` is one proxy call whose signal is the framework's `abortSignal`, so an interrupted
 * speech, `session.interrupt()`, a closing session or `lk_agents_cancel_task` stops the provider too.
 *
 * With JSON Schema parameters, @livekit/agents 1.9 only parses the arguments as JSON (it validates
 * zod schemas alone); the proxy validates them against the schema and answers INVALID_ARGUMENTS,
 * with nothing sent to the provider.
 *
 * @livekit/agents hands the LLM a tool's output as JSON text (`FunctionCallOutput.output` is a
 * string), so a result with content blocks becomes one text: text blocks as they are, binary ones
 * described by type, MIME type and size (`contentAsText`).
 */
import { llm } from '@livekit/agents';
import {
  type ContentBlock,
  type ExposedTool,
  isToolResultContent,
  type ToolProxy,
} from '../../src/index.js';
import { base64Bytes } from '../../src/front-seam.js';
import {
  argumentsOf,
  buildToolSet,
  failureText,
  objectSchema,
  type ToolFilter,
} from '../kit/index.js';

/** The session key of each call: fixed, or read when the call starts (undefined: no key). */
export type SessionKeyOption = string | (() => string | undefined);

export interface LiveKitAgentToolsOptions {
  /**
   * Puts every call in this agent session, so `agent_loop_stopped` / `session:end` /
   * `session:reset` for it (or `bindAgentSession`) cancel them. Without one a call has no session
   * key, and a stop of any session cancels it (PROTOCOL.md section 7).
   */
  sessionKey?: SessionKeyOption;
  /** Which of the proxy's tools to offer, e.g. to leave out names the agent already uses. */
  filter?: ToolFilter;
}

/** The JSON Schema form of `FunctionTool['parameters']` (the other forms are zod / Standard Schema). */
export type JsonSchemaParameters = Exclude<
  llm.FunctionTool['parameters'],
  { _output: unknown } | { '~standard': unknown }
>;

/** The proxy's tools now, keyed by name: for `new voice.Agent({ tools })` or `agent.updateTools`. */
export function liveKitAgentTools(
  proxy: ToolProxy,
  options: LiveKitAgentToolsOptions = {},
): Record<string, llm.FunctionTool> {
  return buildToolSet(proxy, options.filter, (tool) =>
    liveKitAgentTool(proxy, tool, options.sessionKey),
  );
}

/** One proxy tool as a cancellable function tool. */
export function liveKitAgentTool(
  proxy: ToolProxy,
  tool: ExposedTool,
  sessionKey?: SessionKeyOption,
): llm.FunctionTool {
  const { name } = tool;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- with a JSON Schema, @livekit/agents types the arguments `any`; execute checks them itself
  return llm.tool({
    name,
    description: tool.description,
    parameters: objectSchema<JsonSchemaParameters>(tool),
    flags: llm.ToolFlag.CANCELLABLE,
    execute: async (args: unknown, { abortSignal }) => {
      const key = typeof sessionKey === 'function' ? sessionKey() : sessionKey;
      let result: unknown;
      try {
        result = await proxy.call(name, argumentsOf(name, args), {
          signal: abortSignal,
          sessionKey: key,
        });
      } catch (error) {
        throw toToolError(error);
      }
      return isToolResultContent(result) ? contentAsText(result.content) : result;
    },
  });
}

/**
 * A failed call as the error @livekit/agents shows the LLM verbatim (`ToolError`); any other throw
 * would reach the LLM as "An internal error occurred". A throw that is not a ToolProxyError gets
 * the proxy's honest generic text.
 */
export function toToolError(error: unknown): llm.ToolError {
  return new llm.ToolError(failureText(error));
}

/**
 * Content blocks as the one text the LLM gets: text blocks (and text resources) joined by blank
 * lines; images, audio and binary resources as a line naming the MIME type and decoded size,
 * since the LLM cannot see them here; resource links by name and URI.
 */
export function contentAsText(content: readonly ContentBlock[]): string {
  return content.map(blockAsText).join('\n\n');
}

function blockAsText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type}: ${block.mimeType}, ${bytes(base64Bytes(block.data))}]`;
    case 'resource': {
      const { resource } = block;
      if ('text' in resource) return `[resource ${resource.uri}]\n${resource.text}`;
      const type = resource.mimeType ?? 'application/octet-stream';
      return `[resource ${resource.uri}: ${type}, ${bytes(base64Bytes(resource.blob))}]`;
    }
    case 'resource_link': {
      const type = block.mimeType === undefined ? '' : `, ${block.mimeType}`;
      const about = block.description === undefined ? '' : `: ${block.description}`;
      return `[link ${block.title ?? block.name} <${block.uri}>${type}]${about}`;
    }
  }
}

function bytes(count: number): string {
  return `${count.toLocaleString('en-US')} bytes`;
}
