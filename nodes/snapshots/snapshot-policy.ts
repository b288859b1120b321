/**
 * When a replica takes a snapshot, in proportion to its state (Ongaro's dissertation §5.1.3,
 * "When to snapshot": "A better approach involves comparing the snapshot's size with the log's
 * size ... If the log is larger than the snapshot by some expansion factor, then snapshotting may
 * be worthwhile").
 *
 * The cores ask for a snapshot by entry count (Raft's and Multi-Paxos's `snapshotEvery`, the
 * Ready's `snapshotWanted`): a floor, so that a small state is not snapshotted after every few
 * writes. A snapshot costs in proportion to the whole state, though, and a fixed count makes that
 * cost per write grow with the state: with 1,000,000 keys a replica wrote its 300 MB state every
 * 50,000 entries, about every 13 s, and the soak's throughput halved while it did. So the runtime
 * also waits until the commands applied since the last snapshot add up to `ratio` times that
 * snapshot's bytes. The decision stays in the runtime, as etcd's server (not its raft library)
 * decides when to snapshot; a core holds its log until the runtime saves a snapshot, so a later
 * snapshot is always safe, only a longer log.
 *
 * Every replica of a cluster applies the same log, so with one ratio they all reach it at once
 * and take their snapshots together: on the 1,000,000-key soak, every dip of the cluster's
 * throughput was all three replicas snapshotting within a second or two of each other. So each
 * snapshot draws its own ratio from [ratio, ratio × (1 + SPREAD)), as Raft draws its election
 * timeouts at random so that servers do not time out together (§5.2): the replicas drift apart
 * and take their snapshots one at a time.
 *
 * Only the sizes are counted here: the caller says what it applied, when a snapshot's cut was
 * opened, and how large each stored or installed snapshot is.
 */

/** Commands applied since the last snapshot must reach this fraction of its size. */
export const DEFAULT_SNAPSHOT_LOG_RATIO = 0.25;

/** How far above `ratio` each snapshot's own ratio may be drawn. */
export const SNAPSHOT_RATIO_SPREAD = 0.5;

export class SnapshotPolicy {
  /** Bytes of commands applied since the cut of the last snapshot. */
  private logBytes = 0;
  /** Bytes counted before the cut of a snapshot still being written (given back if it fails). */
  private inFlight = 0;
  /** Bytes of the last snapshot stored or installed (0 before the first: no size to compare). */
  private snapshotBytes = 0;
  /** The ratio drawn for the snapshot after the last one. */
  private drawn: number;

  /** `random` (in [0, 1), Math.random by default) draws each snapshot's ratio. */
  constructor(
    readonly ratio: number = DEFAULT_SNAPSHOT_LOG_RATIO,
    private readonly random: () => number = Math.random,
  ) {
    if (!(Number.isFinite(ratio) && ratio >= 0)) throw new Error(`snapshot log ratio ${ratio}: not a number >= 0`);
    this.drawn = this.draw();
  }

  /** Commands of `bytes` bytes were applied to the state machine. */
  applied(bytes: number): void {
    this.logBytes += bytes;
  }

  /** Has the log since the last snapshot grown to its drawn ratio times that snapshot? */
  get due(): boolean {
    return this.logBytes >= this.drawn * this.snapshotBytes;
  }

  /** What a status page shows: the log's bytes since the last snapshot, and that snapshot's. */
  get sizes(): { logBytes: number; snapshotBytes: number } {
    return { logBytes: this.logBytes, snapshotBytes: this.snapshotBytes };
  }

  /** A snapshot's cut was opened: everything applied so far is in it. */
  cutOpened(): void {
    this.inFlight = this.logBytes;
    this.logBytes = 0;
  }

  /** The snapshot of the last cut is stored, `bytes` in all. */
  stored(bytes: number): void {
    this.inFlight = 0;
    this.snapshotBytes = bytes;
    this.drawn = this.draw();
  }

  /** The snapshot of the last cut was abandoned: its log still counts. */
  abandoned(): void {
    this.logBytes += this.inFlight;
    this.inFlight = 0;
  }

  /** A snapshot of `bytes` bytes replaced the state machine (restored at start, or from a peer). */
  installed(bytes: number): void {
    this.logBytes = 0;
    this.inFlight = 0;
    this.snapshotBytes = bytes;
    this.drawn = this.draw();
  }

  private draw(): number {
    return this.ratio * (1 + SNAPSHOT_RATIO_SPREAD * this.random());
  }
}
