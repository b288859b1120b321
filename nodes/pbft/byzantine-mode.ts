import { randomInt } from 'node:crypto';
import { SeededRng } from '../../protocols/common/rng.js';
import { BYZANTINE_MODES, ByzantineReplica, type ByzantineMode } from '../../protocols/pbft/byzantine.js';
import type { PbftCrypto } from '../../protocols/pbft/crypto.js';
import type { PbftReplica } from '../../protocols/pbft/pbft-replica.js';
import type { PbftReplicaApi } from '../../protocols/pbft/types.js';

/**
 * `--byzantine MODE`: wrap the correct core in the core's ByzantineReplica (protocols/pbft/
 * byzantine.ts), the same misbehaviour the seeded simulation uses. It holds only this replica's
 * own keys, so what it forges fails verification at the correct replicas. Throws on an unknown mode.
 */
export function byzantineWrapper(mode: string, crypto: PbftCrypto): (core: PbftReplica) => PbftReplicaApi {
  if (!(BYZANTINE_MODES as readonly string[]).includes(mode)) {
    throw new Error(`unknown --byzantine mode ${JSON.stringify(mode)} (one of ${BYZANTINE_MODES.join(', ')})`);
  }
  return (core) => new ByzantineReplica(core, mode as ByzantineMode, crypto, new SeededRng(randomInt(2 ** 31)));
}
