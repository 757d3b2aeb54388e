/** Hook ingress: agents' hooks in (HTTP, or the `hook` command), lifecycle events out. */
export { bearerMatches } from '../bearer.js';
export { type ForwardHookOptions, forwardHook } from './forward.js';
export {
  type HookAccepted,
  HookIngress,
  type HookIngressOptions,
  hookEventFromPath,
} from './ingress.js';
export {
  HOOK_EVENT_NAMES,
  type HookMapping,
  hookSource,
  isKnownHookEvent,
  mapAgentHook,
} from './mapping.js';
export type { HookSource, MappedEvent } from './routes.js';
