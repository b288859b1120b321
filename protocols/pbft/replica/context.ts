/**
 * What every part of one PBFT replica shares: its configuration (n = 3f + 1, K, L, the bounds),
 * its keys (the Authenticator), the service state it executes requests on, the message log, the
 * outbox for the next Ready, logical time, and the counters status() reports. The parts
 * (normal-case.ts, checkpoints.ts, view-changes.ts, state-transfers.ts, retransmission.ts,
 * client-requests.ts, read-only.ts) each own the rest of the replica's state.
 */
import { byzantineF } from '../../common/quorum.js';
import { Authenticator } from '../auth.js';
import { batchDigest } from '../canonical.js';
import type { PbftCrypto } from '../crypto.js';
import { DEFAULT_MAX_CARRIED_BATCH_BYTES, DEFAULT_MAX_TRANSFER_BYTES } from '../message-bounds.js';
import { ServiceState } from '../service-state.js';
import type { Batch, PbftConfig } from '../types.js';
import type { ViewChangeRules } from '../view-change.js';
import { MessageLog } from './message-log.js';
import { Outbox } from './outbox.js';

/** Entries per FetchBatches, Batches and FetchReply answer (and PrePrepares resent per Fetch). */
export const FETCH_ENTRIES_MAX = 64;

export class ReplicaContext {
  readonly n: number;
  readonly f: number;
  readonly self: number;
  /** K: checkpoint interval; L: log size, H = h + L (OSDI §4.3). */
  readonly K: number;
  readonly L: number;
  readonly maxPending: number;
  readonly retransmitTicks: number;
  readonly maxTransferBytes: number;
  readonly maxCarriedBytes: number;
  readonly maxBatchesInFlight: number;
  readonly auth: Authenticator;
  readonly rules: ViewChangeRules;
  /** Every replica but this one, in index order. */
  readonly others: number[];
  /** d of the null request's empty batch (TOCS §4.5.2, condition B). */
  readonly nullDigest: string;
  /** The checkpoint digest of the initial state (h = 0). */
  readonly genesisDigest: string;
  /**
   * The service state with its sessions and partition digests (service-state.ts): the replica
   * asks the sessions whether a request was executed before ordering it again (OSDI §4.1, "the
   * replica re-sends the reply").
   */
  readonly state: ServiceState;
  readonly log = new MessageLog();
  readonly out: Outbox;
  /** Logical time: tick() calls so far. */
  ticks = 0;
  readonly stats = { rejectedAuth: 0, rejectedInvalid: 0, executedRequests: 0, viewChanges: 0, stateTransfers: 0 };

  constructor(
    readonly config: PbftConfig,
    readonly crypto: PbftCrypto,
  ) {
    this.n = config.n;
    this.f = byzantineF(config.n);
    this.self = config.self;
    this.K = config.checkpointInterval;
    this.L = config.watermarkWindow;
    this.maxPending = config.maxPendingRequests ?? 10_000;
    this.retransmitTicks = config.retransmitTicks ?? Math.max(1, Math.floor(config.requestTimeoutTicks / 4));
    this.maxTransferBytes = config.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES;
    this.maxCarriedBytes = config.maxCarriedBatchBytes ?? DEFAULT_MAX_CARRIED_BATCH_BYTES;
    this.maxBatchesInFlight = config.maxBatchesInFlight ?? 2;
    this.auth = new Authenticator(crypto, config.authentication);
    this.out = new Outbox(this.auth);
    this.others = Array.from({ length: this.n }, (_, k) => k).filter((k) => k !== this.self);
    this.nullDigest = batchDigest([], (bytes) => crypto.digest(bytes));
    this.state = new ServiceState((bytes) => crypto.digest(bytes));
    this.genesisDigest = this.state.checkpoints.digestAt(0) as string;
    this.rules = {
      n: this.n,
      f: this.f,
      checkpointInterval: this.K,
      watermarkWindow: this.L,
      genesisDigest: this.genesisDigest,
      auth: this.auth,
    };
  }

  /** primary(v) = v mod |R| (OSDI §4.1). */
  primaryOf(view: number): number {
    return view % this.n;
  }

  /** d = D(m) of a batch (OSDI §4.2). */
  digestOf(batch: Batch): string {
    return batchDigest(batch, (bytes) => this.crypto.digest(bytes));
  }

  /** A message that broke a protocol rule: dropped and counted (status().rejectedInvalid). */
  invalid(): void {
    this.stats.rejectedInvalid++;
  }
}
