/**
 * `tools/list`: the proxy's tools as MCP `Tool`s, in the proxy's stable order. The input schema is
 * the provider's JSON Schema as registered (the registry has already checked `"type": "object"`).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ExposedTool } from '../../src/index.js';

export function toMcpTool(tool: ExposedTool): Tool {
  const { annotations } = tool;
  return {
    name: tool.name,
    ...(annotations?.title === undefined ? {} : { title: annotations.title }),
    description: tool.description,
    // Spread, so the result is the caller's own object; `type` is restated for the SDK's typing.
    inputSchema: { ...tool.inputSchema, type: 'object' },
    ...(annotations === undefined ? {} : { annotations: { ...annotations } }),
  };
}

export function toMcpTools(tools: readonly ExposedTool[]): Tool[] {
  return tools.map(toMcpTool);
}
