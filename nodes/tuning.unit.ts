/**
 * Tuning in typed sections (nodes/tuning.ts): a cluster file's flat section is sorted into what the
 * core gets and what only the runtime reads, every key into exactly one section, with the same
 * values as before the split.
 */
import t from 'tap';
import { defaultPaxosTuning, defaultRaftTuning, paxosTuning, raftTuning, validateClusterFile, type ClusterFile, type RaftFileTuning } from './config.js';
import { defaultPbftTuning, pbftTuning } from './pbft/pbft-config.js';

const file = (extra: Partial<ClusterFile>): ClusterFile => ({ protocol: 'raft', secret: 'secret-secret', nodes: [], ...extra });

t.test('raft: each key of the file goes to its section, and only there', async (t) => {
  const tuning = raftTuning(file({ raft: { tickMs: 7, electionTimeoutTicks: 3, snapshotEvery: 9, preVote: false } }));
  t.same(tuning.runtime, { ...defaultRaftTuning.runtime, tickMs: 7 });
  t.same(tuning.core, { ...defaultRaftTuning.core, electionTimeoutTicks: 3, preVote: false, snapshotEvery: 9 }, 'the core decides when to snapshot');
  t.notOk('tickMs' in tuning.core, 'a runtime setting never reaches the core');
});

t.test('a key neither section knows reaches neither', async (t) => {
  const tuning = raftTuning(file({ raft: { noSuchSetting: 1 } as RaftFileTuning }));
  t.same(tuning, defaultRaftTuning);
});

t.test('the defaults, taken together, are the flat defaults the file format has always had', async (t) => {
  t.same({ ...defaultRaftTuning.core, ...defaultRaftTuning.runtime }, {
    tickMs: 50, electionTimeoutTicks: 10, heartbeatIntervalTicks: 2, preVote: true, checkQuorum: true, leaseReads: true,
    leaseDriftTicks: 2, maxAppendBytes: 1024 * 1024, maxInflightAppends: 64, requestTimeoutMs: 5000, maxPendingRequests: 20_000,
    snapshotEvery: 50_000, maxSnapshotChunkBytes: 1024 * 1024, maxUncommittedBytes: 64 * 1024 * 1024, snapshotLogRatio: 0.25,
  });
  t.same({ ...defaultPaxosTuning.core, ...defaultPaxosTuning.runtime }, {
    tickMs: 50, electionTimeoutTicks: 10, heartbeatIntervalTicks: 2, window: 64, maxBatchBytes: 1024 * 1024, maxCatchUpSlots: 256,
    snapshotEvery: 4096, requestTimeoutMs: 5000, maxPendingRequests: 20_000, maxSnapshotChunkBytes: 1024 * 1024, snapshotLogRatio: 0.25,
  });
  t.same({ ...defaultPbftTuning.core, ...defaultPbftTuning.runtime }, {
    checkpointInterval: 128, watermarkWindow: 256, maxBatchRequests: 512, maxBatchBytes: 1024 * 1024, maxBatchesInFlight: 1,
    requestTimeoutTicks: 40, authentication: 'mac', tickMs: 50, requestTimeoutMs: 10_000, maxPendingRequests: 20_000,
    readOnlyTimeoutMs: 300, retransmitMs: 2000,
  });
  for (const d of [defaultRaftTuning, defaultPaxosTuning, defaultPbftTuning]) {
    const shared = Object.keys(d.core).filter((k) => k in d.runtime);
    t.same(shared, [], 'no key in both sections');
  }
});

t.test('multipaxos and pbft: runtime keys, and optional core keys that have no default', async (t) => {
  const paxos = paxosTuning(file({ protocol: 'multipaxos', multipaxos: { snapshotEvery: 16, window: 8, maxSnapshotChunkBytes: 4096 } }));
  t.same([paxos.core.snapshotEvery, paxos.core.window], [16, 8], 'snapshotEvery is a core setting, as in Raft');
  t.equal(paxos.runtime.maxSnapshotChunkBytes, 4096);
  t.notOk('snapshotEvery' in paxos.runtime);
  const pbft = pbftTuning({ nodes: [], pbft: { retransmitTicks: 3, retransmitMs: 500, maxPendingRequests: 7 } });
  t.equal(pbft.core.retransmitTicks, 3, 'an optional core key is passed on when the file sets it');
  t.notOk('maxTransferBytes' in pbft.core, 'and left out when it does not (the core applies its own default)');
  t.same([pbft.runtime.retransmitMs, pbft.runtime.maxPendingRequests], [500, 7]);
  t.notOk('maxPendingRequests' in pbft.core);
});

t.test('a cluster file with the old name of snapshotEvery gets the new name in a clear error', async (t) => {
  const nodes = [{ id: 'n1', host: '127.0.0.1', httpPort: 1, peerPort: 2 }];
  const old = (extra: object) => () => validateClusterFile({ protocol: 'raft', secret: 'secret-secret', nodes, ...extra }, 'cluster.json');
  t.throws(old({ raft: { snapshotEveryEntries: 10 } }), /cluster\.json: raft\.snapshotEveryEntries is now raft\.snapshotEvery/);
  t.throws(old({ multipaxos: { snapshotEverySlots: 10 } }), /multipaxos\.snapshotEverySlots is now multipaxos\.snapshotEvery/);
  t.doesNotThrow(old({ raft: { snapshotEvery: 10 } }));
});
