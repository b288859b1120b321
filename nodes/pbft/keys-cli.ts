/**
 * `node --import tsx nodes/pbft/keys-cli.ts FILE`: create a PBFT replica's key file (first run)
 * or load it, and print its public keys as JSON, for the `publicKeys` of that replica's entry in a
 * cluster file spanning several machines (nodes/pbft/keys.ts; run it on the replica's machine).
 */
import { loadOrCreateKeys } from './keys.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: node --import tsx nodes/pbft/keys-cli.ts KEY_FILE');
  process.exit(64);
}
const keys = await loadOrCreateKeys(file);
console.log(JSON.stringify({ publicKeys: keys.publicKeys }, null, 2));
