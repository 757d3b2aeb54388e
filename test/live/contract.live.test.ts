/** The bridge contract (test/contract/bridge-contract.ts) on the real LiveKit server. */
import { dispose } from '@livekit/rtc-node';
import { afterAll, describe, inject } from 'vitest';
import { bridgeContract } from '../contract/bridge-contract.js';
import { realLiveKitWorld } from './real-world.js';

afterAll(() => dispose());

describe('bridge contract: LiveKit (real server), rtc-node agent ↔ rtc-node provider', () =>
  bridgeContract(realLiveKitWorld(inject('livekit'))));
