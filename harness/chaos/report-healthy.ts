/**
 * report.html's "Availability both ways" section (healthy-side.ts): per fault period what the
 * clients saw and what the replicas the faults left alone served, then every replica on its own;
 * and, with `--read-consistency stale`, what became of the stale reads (stale-reads.ts).
 */
import type { HealthyPeriod, SideStats } from './healthy-side.js';
import type { ResultsFile } from './results-file.js';

export function healthySideSection(r: ResultsFile): string {
  const h = r.healthySide;
  const side = (s: SideStats) => {
    const n = s.ok + s.fail + s.info;
    return `<td>${n}</td><td>${n === 0 ? '—' : ((100 * s.ok) / n).toFixed(0) + '%'}</td><td>${s.okPerSec.toFixed(1)}</td><td>${ms(s.p50Ms)}</td><td>${s.clientSeconds.toFixed(1)}</td>`;
  };
  const row = (p: HealthyPeriod) =>
    `<tr><td>${esc(p.period)}</td><td>${(p.durationMs / 1000).toFixed(1)} s</td><td>${esc(p.impaired.join(' ') || '—')}</td>${side(p.clients)}${side(p.healthy)}${side(p.onImpaired)}</tr>`;
  const head = '<th>ops</th><th>ok %</th><th>ok/s</th><th>p50 ms</th><th>client s</th>';
  const replicas = h.byReplica
    .map((x) => `<tr><td>${esc(x.period)}</td><td>${esc(x.node)}</td><td>${x.ok}</td><td>${x.fail}</td><td>${x.info}</td><td>${x.okPerSec.toFixed(1)}</td><td>${ms(x.p50Ms)}</td><td>${ms(x.p99Ms)}</td></tr>`)
    .join('');
  const clients = r.options.clientFailover
    ? 'The clients failed over (<code>--client-failover</code>): each stays with one replica and leaves it after a timeout, a refused connection or 503.'
    : 'Each operation went to a random replica (no <code>--client-failover</code>), so clients also waited on impaired replicas.';
  return `<h2>Availability both ways</h2>
<p>What the clients saw, and what the replicas no fault impaired offered (a replica is impaired while it is down or cut off from every majority).
${clients} <i>client s</i> is the time clients spent in those operations.</p>
<table><tr><th rowspan="2">period</th><th rowspan="2">duration</th><th rowspan="2">impaired</th><th colspan="5">all operations (the clients' view)</th><th colspan="5">on replicas not impaired</th><th colspan="5">on impaired replicas</th></tr>
<tr>${head}${head}${head}</tr>${h.byPeriod.map(row).join('')}</table>
<details><summary>Per replica and period</summary><table><tr><th>period</th><th>replica</th><th>ok</th><th>fail</th><th>info</th><th>ok/s</th><th>p50 ms</th><th>p99 ms</th></tr>${replicas}</table></details>
${staleReadsPart(r)}`;
}

function staleReadsPart(r: ResultsFile): string {
  const s = r.staleReads;
  if (s === undefined) return '';
  const withReads = s.withReads === true ? 'happens to be linearizable' : s.withReads === false ? 'is not linearizable (stale reads need not be)' : `could not be checked (${s.withReads})`;
  const phantom = s.phantom
    .slice(0, 20)
    .map((p) => `<tr><td>${p.process}</td><td>${esc(p.key)}</td><td>${esc(JSON.stringify(p.value))}</td><td>${esc(p.node ?? '?')}</td><td>${(p.invokeNs / 1e9).toFixed(3)} s</td></tr>`)
    .join('');
  return `<h3 class="${s.phantom.length === 0 ? 'valid' : 'invalid'}">Stale reads</h3>
<p>${s.reads} ok reads with <code>?consistency=stale</code>: left out of the linearizability check above; with them the history ${withReads}.
${s.phantom.length === 0 ? 'Every one returned a value some write had been invoked with, or nothing.' : `${s.phantom.length} returned a value no write or cas had been invoked with before they returned:`}</p>
${phantom === '' ? '' : `<table><tr><th>process</th><th>key</th><th>value</th><th>replica</th><th>invoked</th></tr>${phantom}</table>`}`;
}

const ms = (x: number | null): string => (x === null ? '—' : x.toFixed(1));

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
