/** The Raft entry of the runtime table (nodes/host/runtimes.ts): its LevelDB log store and `RaftReplica`. */
import { raftTuning } from '../config.js';
import { httpUrls, type ProtocolRuntime } from '../host/protocol-runtime.js';
import { LevelDbRaftLogStore } from '../storage/leveldb-raft-log-store.js';
import { RaftReplica } from './raft-replica.js';

export const raftRuntime: ProtocolRuntime = {
  async start({ cluster, self, dataDir, flags }, { transport, logger, metrics, onWrite }) {
    const store = await LevelDbRaftLogStore.open(dataDir, { sync: flags.sync, onWrite });
    const service = await RaftReplica.start({
      id: self.id,
      // The bootstrap configuration (dissertation §4.1): every node of the file unless it names the voters.
      voters: cluster.voters ?? cluster.nodes.map((n) => n.id),
      clusterNodes: cluster.nodes,
      httpUrls: httpUrls(cluster),
      tuning: raftTuning(cluster),
      store,
      transport,
      logger,
      unsafeLocalReads: flags.unsafeLocalReads,
      metrics,
    });
    return { service, store };
  },
};
