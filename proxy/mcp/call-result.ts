/**
 * What a proxy call's outcome looks like to an MCP client. Every failure is a tool result with
 * `isError: true` (MCP's execution-error channel, which clients pass to the LLM), never a JSON-RPC
 * error: the proxy's messages are written for the LLM that reads them.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isToolResultContent } from '../../src/index.js';
import { failureText } from '../kit/index.js';

/**
 * A provider's result: a string as one text block; any other JSON value as its JSON text (plus
 * `structuredContent` for an object). Content blocks go to the client as they came (the proxy has
 * checked them against MCP's shapes), with the structured value as `structuredContent` when it is
 * an object (MCP allows nothing else there); the provider chose what the model sees, so no JSON
 * text of it is added.
 */
export function resultToMcp(value: unknown): CallToolResult {
  if (isToolResultContent(value)) {
    const { structured } = value;
    const result: CallToolResult = { content: value.content.map((block) => ({ ...block })) };
    if (isPlainObject(structured)) result.structuredContent = structured;
    return result;
  }
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  const result: CallToolResult = { content: [{ type: 'text', text: jsonText(value) }] };
  if (isPlainObject(value)) result.structuredContent = value;
  return result;
}

/** Any failure of a call as an MCP execution error. */
export function errorToMcp(error: unknown): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: failureText(error) }] };
}

function jsonText(value: unknown): string {
  // Results arrive as parsed JSON, so this cannot throw; undefined only for a value that is not JSON.
  const json = JSON.stringify(value) as string | undefined;
  return json ?? 'null';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
