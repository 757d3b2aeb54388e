/**
 * The kit the agent fronts share (AI SDK, LiveKit Agents, MCP): what each needs beyond its own
 * framework's translation. Fronts import this file only, never a kit file directly.
 */
export { failureText, UNEXPECTED_FAILURE_TEXT } from './failure-text.js';
export { objectSchema } from './object-schema.js';
export { argumentsOf } from './tool-arguments.js';
export { type ToolListWatchOptions, watchToolList } from './tool-list-watch.js';
export { buildToolSet, offeredTools, type ToolFilter } from './tool-set.js';
