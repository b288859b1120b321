import type { ReplicaMetrics } from '../metrics.js';

/**
 * Counters of a PBFT replica's client side (the HTTP gateway and the library route), read by
 * GET /metrics through the process's registry (nodes/metrics.ts).
 */
export class GatewayStats {
  writes = 0;
  reads = 0;
  readOnlyServed = 0;
  readOnlyFallbacks = 0;
  libraryRequests = 0;
  resends = 0;
  timeouts = 0;
  overloaded = 0;

  register(m: ReplicaMetrics, pending: () => number): void {
    m.counter('pbft_gateway_writes_total', 'Ordered requests this replica originated for HTTP clients.', () => this.writes);
    m.counter('pbft_gateway_reads_total', 'Linearizable reads this replica served as a gateway.', () => this.reads);
    m.counter('consensus_linearizable_reads_total', 'Linearizable reads served.', () => this.readOnlyServed + this.readOnlyFallbacks);
    m.counter('pbft_read_only_served_total', 'Reads answered by 2f+1 matching read-only replies (§5.1.3).', () => this.readOnlyServed);
    m.counter('pbft_read_only_fallbacks_total', 'Reads that fell back to the ordered path.', () => this.readOnlyFallbacks);
    m.counter('pbft_library_requests_total', 'Requests from library clients (POST /pbft/request).', () => this.libraryRequests);
    m.counter('pbft_gateway_resends_total', 'Requests resent because no f+1 matching replies came in time.', () => this.resends);
    m.counter('consensus_request_timeouts_total', 'Client requests answered TIMEOUT.', () => this.timeouts);
    m.counter('consensus_overloaded_total', 'Client requests refused OVERLOADED.', () => this.overloaded);
    m.gauge('pbft_gateway_pending', 'Requests waiting for their reply quorum here.', pending);
  }
}
