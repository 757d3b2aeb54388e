/**
 * Keeping an agent's tool list in step with the room: an `llm.Toolset`, the mechanism
 * @livekit/agents 1.9 offers for tool sources that change at runtime. The toolset is one entry of
 * the agent's tools, beside the agent's own, so updating it never touches them (unlike
 * `agent.updateTools`, which replaces the whole set). The framework calls `setup()` when the agent
 * becomes active (again after a handoff back) and `aclose()` when it stops: setup subscribes to the
 * proxy's tool events and pushes the list through `updateTools` once per burst of changes; aclose
 * unsubscribes. An unchanged tool keeps its FunctionTool object, so the runtime sees no change.
 */
import { llm } from '@livekit/agents';
import { type ExposedTool, systemTimers, type Timers, type ToolProxy } from '../../src/index.js';
import { offeredTools, watchToolList } from '../kit/index.js';
import { type LiveKitAgentToolsOptions, liveKitAgentTool } from './function-tools.js';

export interface LiveKitAgentToolsetOptions extends LiveKitAgentToolsOptions {
  /** The toolset's id in the agent's tool context. Default `toolproxy`. */
  id?: string;
  /** One update per burst of tool changes this long. Default 50 ms. */
  debounceMs?: number;
  timers?: Timers;
}

export const DEFAULT_TOOLSET_ID = 'toolproxy';
export const DEFAULT_TOOLSET_DEBOUNCE_MS = 50;

/**
 * A toolset offering the proxy's tools, kept current while the agent is active. Put it in the
 * agent's tools: `new voice.Agent({ instructions, tools: [...ownTools, liveKitAgentToolset(proxy)] })`.
 * Names must not collide with the agent's own tools (@livekit/agents rejects duplicates); use
 * `filter` to leave such tools out.
 */
export function liveKitAgentToolset(
  proxy: ToolProxy,
  options: LiveKitAgentToolsetOptions = {},
): llm.Toolset {
  const debounceMs = options.debounceMs ?? DEFAULT_TOOLSET_DEBOUNCE_MS;
  if (!Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new RangeError('debounceMs must be a finite number of ms, at least 0');
  }
  const tools = new ToolCache(proxy, options);
  const watchers = new Set<() => void>();
  return llm.Toolset.create({
    id: options.id ?? DEFAULT_TOOLSET_ID,
    tools: tools.current(),
    setup: (context) => {
      // The list given at creation may be stale by the time the agent starts.
      context.updateTools(tools.current());
      const stop = watchToolList(proxy, {
        debounceMs,
        timers: options.timers ?? systemTimers,
        notify: () => context.updateTools(tools.current()),
      });
      watchers.add(stop);
      return Promise.resolve();
    },
    aclose: () => {
      for (const stop of watchers) stop();
      watchers.clear();
      return Promise.resolve();
    },
  });
}

interface Built {
  readonly source: ExposedTool;
  readonly tool: llm.FunctionTool;
}

/** FunctionTools by name, rebuilt only for tools whose registration changed. */
class ToolCache {
  readonly #proxy: ToolProxy;
  readonly #options: LiveKitAgentToolsOptions;
  #built = new Map<string, Built>();

  constructor(proxy: ToolProxy, options: LiveKitAgentToolsOptions) {
    this.#proxy = proxy;
    this.#options = options;
  }

  current(): llm.FunctionTool[] {
    const { filter, sessionKey } = this.#options;
    const next = new Map<string, Built>();
    for (const source of offeredTools(this.#proxy, filter)) {
      const previous = this.#built.get(source.name);
      const reuse = previous !== undefined && sameRegistration(previous.source, source);
      next.set(source.name, {
        source,
        tool: reuse ? previous.tool : liveKitAgentTool(this.#proxy, source, sessionKey),
      });
    }
    this.#built = next;
    return [...next.values()].map((entry) => entry.tool);
  }
}

/** The registry keeps a registration's schema object until the tool is registered again. */
function sameRegistration(a: ExposedTool, b: ExposedTool): boolean {
  return (
    a.provider === b.provider &&
    a.providerName === b.providerName &&
    a.description === b.description &&
    a.inputSchema === b.inputSchema
  );
}
