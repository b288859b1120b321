/**
 * The core's message bounds and the runtime's frames agree (protocols/pbft/message-bounds.ts):
 * every message of a view change over a full window of max-size batches, packed as the transport
 * packs it, fits the bound the cluster file is validated against.
 */
import t from 'tap';
import { requestWireBytesMax } from '../../protocols/pbft/canonical.js';
import { messageBytesMax } from '../../protocols/pbft/message-bounds.js';
import { TestCluster } from '../../protocols/pbft/sim/test-cluster.js';
import type { ClientRequest, NewView, PbftConfig } from '../../protocols/pbft/types.js';
import { validateClusterFile } from '../config.js';
import { FRAME_HEADER_BYTES, FrameEncoder } from '../transport/frame-codec.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../transport/transport-options.js';
import { generateKeyPair } from './keys.js';
import { defaultPbftTuning, pbftMessageBytesMax } from './pbft-config.js';

t.test('a view change over a full window of max-size batches: every packed message is within messageBytesMax', async (t) => {
  const overrides: Partial<PbftConfig> = { checkpointInterval: 4, watermarkWindow: 4, maxBatchRequests: 2, maxBatchBytes: 7000, maxTransferBytes: 8000, maxCarriedBatchBytes: 20_000, requestTimeoutTicks: 10 };
  const c = new TestCluster(4, overrides);
  const value = (k: number): string => `${k}`.repeat(1) + '\u00e9'.repeat(2999); // 6000 UTF-8 bytes
  const requests: ClientRequest[] = [];
  for (let k = 1; k <= 8; k++) requests.push({ clientId: 'c', seq: k, operation: { op: 'put', key: `k${k}`, value: value(k) }, origin: 1 });
  c.filter = (e) => e.message.type !== 'Commit'; // the whole window prepares, nothing commits
  for (const r of requests) c.replicas[1]?.submit(r);
  c.run();
  c.filter = (e) => e.from !== 0 && e.to !== 0 && !(e.message.type === 'Commit' && e.message.view === 0);
  c.down.add(0);
  c.tick(80);
  c.filter = () => true;
  for (let k = 9; k <= 14; k++) c.replicas[1]?.submit({ clientId: 'c', seq: k, operation: { op: 'get', key: `k${k - 8}` }, origin: 1 });
  c.tick(20);
  t.equal(c.cores[2]?.status().view, 1, 'the view changed');
  t.ok((c.cores[2]?.status().lastExecuted ?? 0) >= 5, 'and the window executed in view 1');
  const bound = messageBytesMax({ ...c.config(0) }, Math.max(...requests.map(requestWireBytesMax)));
  const encoder = new FrameEncoder();
  let largest = 0;
  let largestType = '';
  for (const e of c.sent) {
    const bytes = encoder.encode(e.message).length - FRAME_HEADER_BYTES;
    if (bytes > largest) [largest, largestType] = [bytes, e.message.type];
  }
  t.ok(largest <= bound, `largest message ${largestType} ${largest} bytes <= bound ${bound}`);
  const nv = c.sent.find((e) => e.message.type === 'NewView')?.message as NewView | undefined;
  t.ok(nv !== undefined && nv.batches.length < nv.chosen.length, 'the NewView left batches out (fetched instead)');
});

t.test('the cluster file is refused when a view change could exceed a peer frame', async (t) => {
  for (const n of [4, 7, 13]) t.ok(pbftMessageBytesMax(defaultPbftTuning.core, n) <= DEFAULT_MAX_FRAME_BYTES, `defaults fit with n = ${n}`);
  const nodes = [1, 2, 3, 4].map((i) => ({ id: `n${i}`, host: '127.0.0.1', httpPort: 7000 + i, peerPort: 7100 + i, publicKeys: generateKeyPair().publicKeys }));
  const file = (pbft: object): unknown => ({ protocol: 'pbft', secret: 'secret-secret', nodes, pbft });
  t.throws(() => validateClusterFile(file({ maxCarriedBatchBytes: 100 * 1024 * 1024 })), /peer frame/);
  t.throws(() => validateClusterFile(file({ maxTransferBytes: 80 * 1024 * 1024 })), /peer frame/);
  t.doesNotThrow(() => validateClusterFile(file({ maxCarriedBatchBytes: 32 * 1024 * 1024 })));
});
