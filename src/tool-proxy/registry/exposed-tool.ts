/** A registered tool as agents and observers see it: its exposed name first, never its schema object. */
import type { ToolSummary } from '../hooks/events.js';
import type { RegisteredTool } from './registry.js';

export interface ExposedTool extends ToolSummary {
  readonly inputSchema: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
}

export function toolSummary(tool: RegisteredTool): ToolSummary {
  return {
    name: tool.exposedName,
    providerName: tool.name,
    provider: tool.provider,
    description: tool.description,
    annotations: tool.annotations,
  };
}

export function exposeTool(tool: RegisteredTool, timeoutMs: number): ExposedTool {
  return { ...toolSummary(tool), inputSchema: tool.inputSchema, timeoutMs };
}
