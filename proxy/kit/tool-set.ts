/**
 * The proxy's exposed tools as a framework's tool map: the tools the front's `filter` offers, each
 * built by the front's translation, keyed by name.
 */
import type { ExposedTool, ToolProxy } from '../../src/index.js';

/** Which of the proxy's tools a front offers; undefined offers them all. */
export type ToolFilter = (tool: ExposedTool) => boolean;

/** The proxy's tools now that `filter` offers. */
export function offeredTools(proxy: ToolProxy, filter?: ToolFilter): ExposedTool[] {
  return proxy.tools().filter((tool) => filter === undefined || filter(tool));
}

/** The offered tools, each as `build` makes it, keyed by name. */
export function buildToolSet<Built>(
  proxy: ToolProxy,
  filter: ToolFilter | undefined,
  build: (tool: ExposedTool) => Built,
): Record<string, Built> {
  const tools: Record<string, Built> = {};
  for (const tool of offeredTools(proxy, filter)) tools[tool.name] = build(tool);
  return tools;
}
