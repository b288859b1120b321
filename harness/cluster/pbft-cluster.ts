/**
 * The PBFT parts of the cluster launcher: every replica's key pair exists before the cluster file
 * is written (the file holds the public keys), under `<dataRoot>/keys/<id>.json`, outside the
 * replica's data directory so that `restart(id, { wipe: true })` and the console's `wipe` keep its
 * identity (nodes/pbft/keys.ts).
 */
import type { NodeSpec } from '../../nodes/config.js';
import { keyFilePath, loadOrCreateKeys } from '../../nodes/pbft/keys.js';

/** Create (first start) or load each replica's keys and put the public halves in its spec. */
export async function pbftNodeKeys(dataRoot: string, nodes: NodeSpec[]): Promise<void> {
  for (const node of nodes) node.publicKeys = (await loadOrCreateKeys(keyFilePath(dataRoot, node.id))).publicKeys;
}

/** The replica's PBFT flags: its key file and, when asked, its misbehaviour. */
export function pbftReplicaArgs(dataRoot: string, id: string, byzantine: Record<string, string> | undefined): string[] {
  const mode = byzantine?.[id];
  return ['--key-file', keyFilePath(dataRoot, id), ...(mode === undefined ? [] : ['--byzantine', mode])];
}
