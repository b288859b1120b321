/** The partition tree (partition-tree.ts, TOCS §6.2): incremental roots equal roots from scratch. */
import t from 'tap';
import { SeededRng } from '../common/rng.js';
import { EMPTY_ADHASH } from './adhash.js';
import { FANOUT, levelWidths, nodeDigest, PartitionTree } from './partition-tree.js';
import { PARTITIONS } from './partitions.js';
import { SimKeyRing } from './sim/sim-crypto.js';

const crypto = new SimKeyRing(7, 4).cryptoFor(0);
const digest = (bytes: Uint8Array): string => crypto.digest(bytes);

t.test('the tree over the partitions: 4,160 leaves, fan-out 16, one root', async (t) => {
  t.same(levelWidths(PARTITIONS), [4160, 260, 17, 2, 1]);
  t.same(levelWidths(FANOUT), [16, 1]);
});

t.test('after random leaf changes, the incrementally updated root equals a tree built from scratch', async (t) => {
  const rng = new SeededRng(9);
  const leaves = new Array<string>(PARTITIONS).fill(EMPTY_ADHASH);
  const tree = new PartitionTree(digest, leaves);
  const roots = new Set<string>([tree.root()]);
  for (let round = 0; round < 20; round++) {
    for (let k = 0; k < 1 + rng.int(30); k++) {
      const p = rng.int(PARTITIONS);
      leaves[p] = digest(new Uint8Array([round, k, p & 0xff]));
      tree.setLeaf(p, leaves[p] as string);
    }
    const root = tree.root();
    t.equal(root, new PartitionTree(digest, leaves).root(), `round ${round}`);
    roots.add(root);
  }
  t.equal(roots.size, 21, 'every change gave a new root');
});

t.test("each interior node is the digest of its children's digests", async (t) => {
  const leaves = Array.from({ length: PARTITIONS }, (_, p) => digest(new Uint8Array([p & 0xff, p >> 8])));
  const tree = new PartitionTree(digest, leaves);
  tree.root();
  for (const [level, index] of [[1, 0], [1, 259], [2, 16], [4, 0]] as const) {
    t.equal(tree.node(level, index), nodeDigest(digest, level, index, tree.children(level, index)), `node (${level}, ${index})`);
  }
  t.equal(tree.children(1, 259).length, 4160 - 259 * 16, 'the last node has the leaves that are left');
});

t.test('a uniform tree (computed once per process) and a clone equal trees built from scratch', async (t) => {
  const fresh = new PartitionTree(digest, new Array<string>(PARTITIONS).fill(EMPTY_ADHASH)).root();
  const a = PartitionTree.uniform(digest, PARTITIONS, EMPTY_ADHASH);
  const b = PartitionTree.uniform(digest, PARTITIONS, EMPTY_ADHASH);
  t.equal(a.root(), fresh, 'the cached interior is the computed one');
  a.setLeaf(5, 'x'.repeat(64));
  t.equal(b.root(), fresh, 'trees from the cache do not share their levels');
  const other = (bytes: Uint8Array): string => `z${digest(bytes).slice(1)}`;
  t.not(PartitionTree.uniform(other, PARTITIONS, EMPTY_ADHASH).root(), fresh, 'another digest function gets its own tree');

  const copy = a.clone();
  copy.setLeaf(4000, 'y'.repeat(64));
  const leaves = new Array<string>(PARTITIONS).fill(EMPTY_ADHASH);
  leaves[5] = 'x'.repeat(64);
  t.equal(a.root(), new PartitionTree(digest, leaves).root(), 'the original is untouched by its clone');
  leaves[4000] = 'y'.repeat(64);
  t.equal(copy.root(), new PartitionTree(digest, leaves).root(), 'the clone recomputes the changed paths');
});
