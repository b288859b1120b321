/** Reading the counters the report needs from Prometheus text (GET /metrics). */

/** Sum of every sample of each metric name, over all label sets. */
export function parsePrometheus(text: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = brace === -1 ? line.indexOf(' ') : line.indexOf(' ', line.lastIndexOf('}'));
    if (space === -1) continue;
    const name = line.slice(0, brace === -1 ? space : brace);
    const value = Number(line.slice(space + 1).trim().split(' ')[0]);
    if (!Number.isFinite(value)) continue;
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return sums;
}

/** Cluster-wide totals (summed over replicas); null where a system has no such counter. */
export interface ConsensusCounters {
  fsyncs: number | null;
  entriesPersisted: number | null;
  peerMessagesSent: number | null;
}

export interface CounterNames {
  fsyncs: string | null;
  entriesPersisted: string | null;
  peerMessagesSent: string | null;
}

export const ourCounterNames: CounterNames = {
  fsyncs: 'consensus_fsyncs_total',
  entriesPersisted: 'consensus_entries_persisted_total',
  peerMessagesSent: 'consensus_peer_messages_sent_total',
};

export async function scrapeCounters(metricsUrls: string[], names: CounterNames): Promise<ConsensusCounters | null> {
  const texts = await Promise.all(
    metricsUrls.map(async (url) => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
        return res.ok ? await res.text() : null;
      } catch {
        return null;
      }
    }),
  );
  if (texts.every((t) => t === null)) return null;
  const totals: ConsensusCounters = { fsyncs: null, entriesPersisted: null, peerMessagesSent: null };
  for (const text of texts) {
    if (text === null) continue;
    const sums = parsePrometheus(text);
    for (const field of ['fsyncs', 'entriesPersisted', 'peerMessagesSent'] as const) {
      const name = names[field];
      const v = name === null ? undefined : sums.get(name);
      if (v !== undefined) totals[field] = (totals[field] ?? 0) + v;
    }
  }
  return totals;
}

export interface DerivedMetrics {
  entriesPerFsync: number | null;
  peerMessagesPerRequest: number | null;
}

export function deriveMetrics(before: ConsensusCounters | null, after: ConsensusCounters | null, requests: number): DerivedMetrics {
  const d = (f: keyof ConsensusCounters): number | null => {
    const a = after?.[f];
    const b = before?.[f];
    return a === null || a === undefined || b === null || b === undefined ? null : a - b;
  };
  const fsyncs = d('fsyncs');
  const entries = d('entriesPersisted');
  const messages = d('peerMessagesSent');
  return {
    entriesPerFsync: fsyncs === null || entries === null || fsyncs === 0 ? null : entries / fsyncs,
    peerMessagesPerRequest: messages === null || requests === 0 ? null : messages / requests,
  };
}
