/**
 * A PBFT replica's identity: an Ed25519 key pair (signatures on checkpoint, view-change and
 * new-view messages, and on every message in 'sign-all' mode) and an X25519 key pair (the
 * pairwise MAC keys of the authenticators), Castro and Liskov, TOCS 2002 §3.1.
 *
 * The private keys live in one JSON file, mode 0600, created on the replica's first start by
 * whoever launches it (the cluster script, the harness, or `nodes/pbft/keys-cli.ts`), because
 * the cluster file every replica reads must already hold everybody's public keys.
 *
 * Where the file lives: `<dataRoot>/keys/<id>.json`, beside the replicas' data directories and
 * not inside them, so that wiping a replica's data directory (the harness's
 * `restart({wipe: true})`, the cluster console's `wipe`) keeps its identity: a wiped replica
 * is the same replica with amnesia, and recovers by state transfer. `--fresh` wipes the whole
 * data root, keys included, and makes a new cluster.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** What the cluster file holds per replica: SPKI DER, base64. */
export interface PbftPublicKeys {
  ed25519: string;
  x25519: string;
}

/** One replica's key material, as KeyObjects. */
export interface PbftKeyPair {
  publicKeys: PbftPublicKeys;
  signingKey: KeyObject;
  agreementKey: KeyObject;
}

interface StoredKeyFile {
  version: 1;
  ed25519: { public: string; private: string };
  x25519: { public: string; private: string };
}

/** The key file of replica `id` under a cluster's data root (see the header for why here). */
export function keyFilePath(dataRoot: string, id: string): string {
  return join(dataRoot, 'keys', `${id}.json`);
}

export function generateKeyPair(): PbftKeyPair {
  const ed = generateKeyPairSync('ed25519');
  const x = generateKeyPairSync('x25519');
  return {
    publicKeys: { ed25519: exportPublic(ed.publicKey), x25519: exportPublic(x.publicKey) },
    signingKey: ed.privateKey,
    agreementKey: x.privateKey,
  };
}

/** Read the key file; create it (0600, written atomically) when it does not exist yet. */
export async function loadOrCreateKeys(path: string): Promise<PbftKeyPair> {
  const existing = await loadKeys(path);
  if (existing !== null) return existing;
  const keys = generateKeyPair();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(toStored(keys), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  return keys;
}

/** The key file's keys, or null when there is no file. Throws on a damaged file. */
export async function loadKeys(path: string): Promise<PbftKeyPair | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return fromStored(JSON.parse(text) as StoredKeyFile, path);
}

export function exportPublic(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** A public key from the cluster file; throws when it is not a key of that type. */
export function importPublic(base64: string, type: 'ed25519' | 'x25519'): KeyObject {
  const key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== type) throw new Error(`expected an ${type} public key, got ${String(key.asymmetricKeyType)}`);
  return key;
}

function toStored(keys: PbftKeyPair): StoredKeyFile {
  const priv = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    version: 1,
    ed25519: { public: keys.publicKeys.ed25519, private: priv(keys.signingKey) },
    x25519: { public: keys.publicKeys.x25519, private: priv(keys.agreementKey) },
  };
}

function fromStored(stored: StoredKeyFile, path: string): PbftKeyPair {
  if (stored?.version !== 1) throw new Error(`${path}: not a PBFT key file (version 1)`);
  const signingKey = createPrivateKey(stored.ed25519.private);
  const agreementKey = createPrivateKey(stored.x25519.private);
  if (signingKey.asymmetricKeyType !== 'ed25519' || agreementKey.asymmetricKeyType !== 'x25519') {
    throw new Error(`${path}: wrong key types`);
  }
  // The public halves are derived, so a hand-edited public field cannot disagree with the private key.
  return {
    publicKeys: { ed25519: exportPublic(createPublicKey(signingKey)), x25519: exportPublic(createPublicKey(agreementKey)) },
    signingKey,
    agreementKey,
  };
}
