/** Every bridge passes the same contract (see contract/bridge-contract.ts). */
import { describe } from 'vitest';
import { bridgeContract } from './contract/bridge-contract.js';
import { memoryWorld } from './contract/memory-world.js';

describe('bridge contract: in-memory', () => bridgeContract(memoryWorld));
