/**
 * The parts of one PBFT replica, one per section of the papers, each owning its own state; the
 * façade (../pbft-replica.ts) builds them and routes every input to the one it belongs to:
 *
 *   requests        client requests, the request timer, replies               OSDI §4.1, §4.4
 *   normal          pre-prepare, prepare, commit, execution in order           OSDI §4.2, TOCS §5.1.4
 *   reads           read-only requests                                         OSDI §5.1.3
 *   checkpoints     checkpoints, stability, garbage collection, h and H        OSDI §4.3
 *   views           view changes: ViewChange, NewView, the view-change timer   OSDI §4.4-§4.5.2, TOCS §4.5
 *   transfers       state transfer and committed batches fetched after h       TOCS §6.2
 *   retransmission  resending what may be lost, helping replicas behind        (the BFT library; README Deviations)
 */
import type { Checkpoints } from './checkpoints.js';
import type { ClientRequests } from './client-requests.js';
import type { NormalCase } from './normal-case.js';
import type { ReadOnlyRequests } from './read-only.js';
import type { Retransmission } from './retransmission.js';
import type { StateTransfers } from './state-transfers.js';
import type { ViewChanges } from './view-changes.js';

export interface ReplicaParts {
  requests: ClientRequests;
  normal: NormalCase;
  reads: ReadOnlyRequests;
  checkpoints: Checkpoints;
  views: ViewChanges;
  transfers: StateTransfers;
  retransmission: Retransmission;
}
