/** The Multi-Paxos entry of the runtime table (nodes/host/runtimes.ts): its LevelDB store and `PaxosReplica`. */
import { paxosTuning } from '../config.js';
import { httpUrls, type ProtocolRuntime } from '../host/protocol-runtime.js';
import { LevelDbPaxosStore } from '../storage/leveldb-paxos-store.js';
import { PaxosReplica } from './paxos-replica.js';

export const paxosRuntime: ProtocolRuntime = {
  async start({ cluster, self, dataDir, flags }, { transport, logger, metrics, onWrite }) {
    const store = await LevelDbPaxosStore.open(dataDir, { sync: flags.sync, onWrite });
    const service = await PaxosReplica.start({
      id: self.id,
      replicas: cluster.nodes.map((n) => n.id),
      httpUrls: httpUrls(cluster),
      tuning: paxosTuning(cluster),
      store,
      transport,
      logger,
      unsafeLocalReads: flags.unsafeLocalReads,
      metrics,
    });
    return { service, store };
  },
};
