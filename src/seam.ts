/**
 * The core's door for bridges (`bridge/`) and agent fronts (`proxy/`): what a transport or a front
 * needs beyond the public entries (`index.ts`, `provider.ts`). Nothing outside `src/` imports any
 * other core file (test/layering.test.ts and the lint rule police it). It loads no package at all, so
 * provider-side bridges stay browser-safe; what only the fronts need is in `front-seam.ts`.
 */
export {
  type ChannelHandlers,
  FrameTooLargeError,
  type PeerInfo,
  type ToolChannel,
} from './shared/channel.js';
export { describeUnknown } from './shared/errors.js';
export { type Logger, silentLogger } from './shared/logger.js';
export { MAX_TIMER_MS, positiveInteger } from './shared/option-checks.js';
export { systemTimers, type Timers } from './shared/timers.js';
