/**
 * The PBFT entry of the runtime table (nodes/host/runtimes.ts): keys, crypto, LevelDB, the core
 * and its runtime. What PBFT does differently from the leader-based protocols stays here: every
 * replica loads its private keys (nodes/pbft/keys.ts), may be Byzantine on purpose
 * (`--byzantine`), is a gateway of its own (the service is `PbftKvService`, which never forwards,
 * docs/design.md §4.3), and adds the library client's routes to the HTTP app.
 */
import { join } from 'node:path';
import { httpUrls, type ProtocolRuntime } from '../host/protocol-runtime.js';
import { LevelDbPbftStore } from '../storage/leveldb-pbft-store.js';
import { byzantineWrapper } from './byzantine-mode.js';
import { keyFilePath, loadKeys, type PbftPublicKeys } from './keys.js';
import { NodePbftCrypto } from './node-crypto.js';
import { pbftTuning } from './pbft-config.js';
import { PbftReplicaNode } from './pbft-replica-node.js';
import { pbftRoutes } from './pbft-routes.js';

export const pbftRuntime: ProtocolRuntime = {
  async start({ cluster, self, dataDir, flags }, { transport, logger, metrics, onWrite }) {
    const keyFile = flags.keyFile ?? keyFilePath(join(dataDir, '..'), self.id);
    const keys = await loadKeys(keyFile);
    if (keys === null) {
      throw new Error(`no PBFT key file at ${keyFile}: the launcher creates it with the cluster file (nodes/pbft/keys.ts)`);
    }
    const replicas = cluster.nodes.map((n) => n.id);
    const publicKeys = cluster.nodes.map((n) => n.publicKeys as PbftPublicKeys);
    const crypto = new NodePbftCrypto(replicas.indexOf(self.id), keys, publicKeys);
    const { byzantine } = flags;
    const wrap = byzantine === undefined ? undefined : byzantineWrapper(byzantine, crypto);
    const store = await LevelDbPbftStore.open(dataDir, { sync: flags.sync, onWrite });
    const node = await PbftReplicaNode.start({
      id: self.id,
      replicas,
      httpUrls: httpUrls(cluster),
      tuning: pbftTuning(cluster),
      store,
      transport,
      crypto,
      logger,
      metrics,
      ...(wrap === undefined ? {} : { wrap, byzantine: byzantine ?? null }),
    });
    if (byzantine !== undefined) logger.warn({ mode: byzantine }, 'this replica is Byzantine on purpose (--byzantine)');
    const service = node.service;
    return { service, store, routes: async (app) => void (await app.register(pbftRoutes, { service })) };
  },
};
