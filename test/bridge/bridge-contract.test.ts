/** Every bridge passes the same contract (see contract/bridge-contract.ts). */
import { describe } from 'vitest';
import { bridgeContract } from '../contract/bridge-contract.js';
import { liveKitWorld } from '../contract/livekit-worlds.js';
import { memoryWorld } from '../contract/memory-world.js';
import { webSocketWorld } from '../contract/websocket-world.js';

describe('bridge contract: in-memory', () => bridgeContract(memoryWorld));
describe('bridge contract: LiveKit, rtc-node agent ↔ rtc-node provider', () =>
  bridgeContract(liveKitWorld('rtc-node')));
describe('bridge contract: LiveKit, rtc-node agent ↔ livekit-client provider', () =>
  bridgeContract(liveKitWorld('livekit-client')));
describe('bridge contract: WebSocket', () => bridgeContract(webSocketWorld));
