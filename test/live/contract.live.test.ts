/** The bridge contract (test/contract/bridge-contract.ts) on the real LiveKit server. */
import { dispose } from '@livekit/rtc-node';
import { afterAll, describe, inject } from 'vitest';
import { bridgeContract } from '../contract/bridge-contract.js';
import { realLiveKitWorld } from './real-world.js';

afterAll(() => dispose());

// Where the real server still disagrees with what the double lets us promise: open, not passed.
const gaps = {
  'progress reaches the caller':
    'on the real SFU two progress frames sent back to back do not both reach the caller within 2 s: under investigation',
  'a resumed connection cancels calls in flight honestly, and providers register again':
    'after simulateScenario(SIGNAL_RECONNECT) the calls are cancelled (connection-interrupted) but the provider does not register again: under investigation',
};

describe('bridge contract: LiveKit (real server), rtc-node agent ↔ rtc-node provider', () =>
  bridgeContract(realLiveKitWorld(inject('livekit')), gaps));
