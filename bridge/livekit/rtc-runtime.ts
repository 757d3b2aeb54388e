/**
 * Everything that loads @livekit/rtc-node's native module, behind one dynamic import (see
 * agent.ts: it is loaded with NODE_ENV=production so rtc-node does not log at debug level to stdout).
 */
export { dispose, Room } from '@livekit/rtc-node';
export { rtcRoomPort } from './rtc-port.js';
