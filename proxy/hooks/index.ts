/**
 * toolproxy/hooks: agents' hooks in (`HookIngress`, the `/hooks/<event>` handler to mount; or
 * `forwardHook`, what `toolproxy hook` does), lifecycle events out.
 */
export { EVENT_AGE_HEADER, type EventAge, MAX_EVENT_AGE_MS, parseEventAge } from './event-age.js';
export { type ForwardHookOptions, forwardHook } from './forward.js';
export {
  type HookAccepted,
  hookEventFromPath,
  HookIngress,
  type HookIngressOptions,
} from './ingress.js';
export {
  HOOK_EVENT_NAMES,
  type HookMapping,
  hookSource,
  isKnownHookEvent,
  mapAgentHook,
} from './mapping.js';
export type { HookSource, MappedEvent } from './routes.js';
