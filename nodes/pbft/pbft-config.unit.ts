import t from 'tap';
import { validateClusterFile, type ClusterFile } from '../config.js';
import { generateKeyPair } from './keys.js';
import { faultsTolerated, pbftTuning } from './pbft-config.js';

const node = (i: number, withKeys = true) => ({
  id: `n${i}`, host: '127.0.0.1', httpPort: 7000 + i, peerPort: 7100 + i,
  ...(withKeys ? { publicKeys: generateKeyPair().publicKeys } : {}),
});
const file = (nodes: unknown[], pbft?: object): unknown => ({ protocol: 'pbft', secret: 'secret-secret', nodes, ...(pbft ? { pbft } : {}) });

t.test('f = floor((n-1)/3): n >= 3f + 1 (OSDI §2)', async (t) => {
  t.same([4, 5, 6, 7, 10].map(faultsTolerated), [1, 1, 1, 2, 3]);
});

t.test('a pbft cluster file needs 4+ replicas, each with public keys', async (t) => {
  t.throws(() => validateClusterFile(file([1, 2, 3].map((i) => node(i)))), /at least 4/);
  t.throws(() => validateClusterFile(file([node(1), node(2), node(3), node(4, false)])), /publicKeys/);
  const ok = validateClusterFile(file([1, 2, 3, 4].map((i) => node(i))));
  t.equal(ok.protocol, 'pbft');
});

t.test('tuning: defaults, overrides, and nonsense refused', async (t) => {
  const nodes = [1, 2, 3, 4].map((i) => node(i));
  const tuned = pbftTuning(validateClusterFile(file(nodes, { checkpointInterval: 8, watermarkWindow: 16, authentication: 'sign-all' })) as ClusterFile);
  t.same([tuned.core.checkpointInterval, tuned.core.watermarkWindow, tuned.core.authentication, tuned.core.maxBatchRequests], [8, 16, 'sign-all', 512]);
  t.equal(pbftTuning({ nodes: [] }).core.checkpointInterval, 128, 'K defaults to 128');
  t.throws(() => validateClusterFile(file(nodes, { authentication: 'none' })), /authentication/);
  t.throws(() => validateClusterFile(file(nodes, { checkpointInterval: 8, watermarkWindow: 12 })), /multiple/);
  t.throws(() => validateClusterFile(file(nodes, { tickMs: 0 })), /tickMs/);
});
