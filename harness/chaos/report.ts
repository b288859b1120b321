/**
 * report.html: one self-contained page (inline SVG and CSS, no scripts from anywhere else):
 * verdict and summary, a timeline with one lane per client process and each operation as a bar
 * coloured by outcome, fault periods shaded, throughput and latency per second, and when the
 * history is not linearizable the offending operations highlighted, with a zoomed timeline of
 * the violating key and the states before and after.
 */
import { operations, type HistoryEntry, type NemesisEvent, type Operation } from './history.js';
import { healthySideSection } from './report-healthy.js';
import type { ResultsFile } from './results-file.js';
import { describePowerLosses } from './power-loss-summary.js';

const COLORS = { ok: '#3a9d5d', fail: '#d9822b', info: '#9aa5b1', highlight: '#d1226b' };
const FAULT_COLORS: Record<string, string> = {
  partition: '#4c8fd6',
  kill: '#d64c4c',
  pause: '#b07cd6',
  'restart-wiped': '#7a3b1e',
  delay: '#d6b84c',
  bandwidth: '#e08a3c',
  'power-loss': '#3a3a3a',
  'power-loss-all': '#000000',
  clock: '#1f9e89',
};

export function writeReport(results: ResultsFile, entries: readonly HistoryEntry[]): string {
  const ops = operations(entries);
  const endMs = Math.max(results.endMs, 1);
  const highlight = highlightedOps(results, ops);
  const faults = results.periods.map((p) => ({ fault: p.fault, label: faultLabel(p), startMs: p.startMs, endMs: p.endMs ?? results.healMs ?? endMs }));
  const parts: string[] = [];
  parts.push(header(results));
  parts.push(`<h2>Timeline</h2><p class="legend">${legend()}</p>`);
  parts.push(timeline(ops, { fromMs: 0, toMs: endMs, faults, highlight, healMs: results.healMs, runStartMs: results.runStartMs }));
  parts.push('<h2>Throughput and latency per second</h2>');
  parts.push(throughputChart(results, endMs, faults));
  parts.push(latencyChart(results, endMs, faults));
  parts.push(violationSection(results, ops, highlight, faults));
  parts.push(lostWritesSection(results));
  parts.push(availabilitySection(results));
  parts.push(healthySideSection(results));
  parts.push(nemesisSection(results, entries));
  return page(`chaos ${results.options.protocol} seed ${results.options.seed}: ${results.verdict}`, parts.join('\n'));
}

// ---------- pieces ----------

export function faultLabel(p: Pick<ResultsFile['periods'][number], 'fault' | 'targets' | 'detail'>): string {
  const d = p.detail;
  if (p.fault === 'partition') {
    const shape = typeof d['description'] === 'string' ? `${String(d['shape'])} ${d['description']}` : `isolate ${p.targets.join(',')}`;
    const how = `${d['mode'] === 'refuse' ? ' (refuse)' : ''}${d['by'] === 'kernel' ? ' by iptables' : ''}`;
    return `partition ${shape}${how}`;
  }
  if (p.fault === 'delay') return `delay ${String(d['delayMs'])}±${String(d['jitterMs'])} ms ${p.targets.join(',')}`;
  if (p.fault === 'bandwidth') return `bandwidth ${Math.round(Number(d['bytesPerSec']) / 1024)} KiB/s ${p.targets.join(',')}${d['by'] === 'tc tbf' ? ' by tc tbf' : ''}`;
  if (p.fault.startsWith('power-loss')) return d['wholeCluster'] === true ? 'power failure: whole cluster' : `power loss ${p.targets.join(',')}`;
  if (p.fault === 'clock') return `clock ${clockLabel(d)} ${p.targets.join(',')}`;
  return `${p.fault} ${p.targets.join(',')}`;
}

/** "slow x0.12", "fast x2.4 to +1.20 s", "bump +1.50 s", "strobe +300 ms / 50 ms" (harness/nemesis/clock-fault.ts). */
function clockLabel(d: Record<string, unknown>): string {
  const mode = String(d['mode']);
  if (mode === 'slow') return `slow x${String(d['rate'])}`;
  if (mode === 'fast') return `fast x${String(d['rate'])} to +${(Number(d['gainMs']) / 1000).toFixed(2)} s`;
  if (mode === 'strobe') return `strobe +${String(d['deltaMs'])} ms / ${String(d['periodMs'])} ms`;
  const step = Number(d['stepMs']) / 1000;
  return `bump ${step >= 0 ? '+' : ''}${step.toFixed(2)} s`;
}

function header(r: ResultsFile): string {
  const o = r.options;
  const lin = r.linearizability;
  const linBase = lin.valid === 'skipped' ? `not checked: ${esc(lin.reason)}` : lin.valid === true ? 'linearizable' : lin.valid === false ? 'NOT linearizable' : 'unknown (time budget ran out)';
  const linText = o.readConsistency === 'stale' ? `${linBase} (without the stale reads: see Stale reads)` : linBase;
  const cmd = [
    'npm run chaos --',
    `--protocol ${o.protocol}`,
    `--nemesis ${o.nemesis.join(',')}`,
    `--time ${o.timeS}`,
    `--interval ${o.intervalS}`,
    `--seed ${o.seed}`,
    `--nodes ${o.nodes}`,
    `--clients ${o.clients}`,
    `--keys ${o.keys}`,
    `--rate ${o.ratePerSec}`,
    `--recovery ${o.recoveryS}`,
    `--mix read:${o.mix.read},write:${o.mix.write},cas:${o.mix.cas},delete:${o.mix.delete}`,
    o.unsafeLocalReads ? '--unsafe-local-reads' : '',
    o.unsafeNoFsync ? '--unsafe-no-fsync' : '',
    o.allowMajorityDown ? '--allow-majority-down' : '',
    o.readConsistency !== 'linearizable' ? `--read-consistency ${o.readConsistency}` : '',
    o.clientFailover ? '--client-failover' : '',
    (o.hosts ?? 'loopback') !== 'loopback' ? `--hosts ${o.hosts}` : '',
  ]
    .filter((x) => x !== '')
    .join(' ');
  const w = r.workload;
  return `<h1 class="${r.verdict}">${esc(o.protocol)}: ${esc(r.verdict.toUpperCase())}</h1>
<p><code>${esc(cmd)}</code></p>
<table class="kv">
<tr><th>started</th><td>${esc(r.startedAt)}</td><th>duration</th><td>${(r.durationMs / 1000).toFixed(1)} s</td></tr>
<tr><th>linearizability</th><td class="${lin.valid === true ? 'valid' : lin.valid === false ? 'invalid' : 'unknown'}">${linText}</td><th>checker</th><td>${lin.valid === 'skipped' ? '' : `${lin.stats.ops} ops, ${lin.stats.keys} keys, ${lin.stats.statesExplored} states, ${lin.stats.elapsedMs.toFixed(0)} ms`}</td></tr>
<tr><th>no lost writes</th><td class="${r.lostWrites.valid ? 'valid' : 'invalid'}">${r.lostWrites.valid ? 'valid' : 'INVALID'}</td><th>acknowledged writes</th><td>${r.lostWrites.acknowledgedWrites}</td></tr>
<tr><th>operations</th><td>${w.invoked}: ${w.ok} ok, ${w.fail} fail, ${w.info} info</td><th>processes</th><td>${w.processes} (a process retires after an info)</td></tr>
<tr><th>hosts</th><td colspan="3">${hostsText(r)}</td></tr>
<tr><th>faults</th><td colspan="3">${r.periods.length} run (${r.schedule.faults.length} planned)</td></tr>${r.powerLoss === undefined ? '' : `
<tr><th>power loss</th><td colspan="3">${esc(describePowerLosses(r.powerLoss).replace(/^power loss: /, ''))}</td></tr>`}
</table>`;
}

/** Which hosts mode the run used (runs stored before it was recorded ran on loopback). */
function hostsText(r: ResultsFile): string {
  const n = r.network ?? { hosts: 'loopback', partitionsBy: 'proxy' };
  if (n.hosts === 'loopback') return 'loopback: every replica on 127.0.0.1; partitions, delays and slow links by the fault proxy';
  const addrs = Object.entries(n.replicas ?? {}).map(([id, x]) => `${id} ${x.address}`).join(', ');
  return `netns: every replica in its own network namespace on ${esc(n.subnet ?? '')} (bridge ${esc(n.bridge ?? '')}; ${esc(addrs)}); partitions by iptables in the namespaces (DROP or REJECT, some one-way)`;
}

function legend(): string {
  const box = (color: string, text: string) => `<span class="sw" style="background:${color}"></span>${esc(text)}`;
  return [
    box(COLORS.ok, 'ok'),
    box(COLORS.fail, 'fail'),
    box(COLORS.info, 'info (unknown outcome; the thin line after it: it may still take effect)'),
    box(COLORS.highlight, 'offending operation'),
    ...Object.entries(FAULT_COLORS).map(([f, c]) => box(c + '55', f)),
  ].join(' ');
}

interface FaultBand {
  fault: string;
  label: string;
  startMs: number;
  endMs: number;
}

interface TimelineOptions {
  fromMs: number;
  toMs: number;
  faults: FaultBand[];
  highlight: Set<number>;
  healMs: number | null;
  runStartMs: number;
  width?: number;
  /** Lane label per process; by default "p<process>". */
  showValues?: boolean;
}

function timeline(ops: readonly Operation[], t: TimelineOptions): string {
  const width = t.width ?? 1400;
  const left = 48;
  const plotW = width - left - 10;
  const processes = [...new Set(ops.map((o) => o.process))].sort((a, b) => a - b);
  const laneH = t.showValues === true ? 18 : processes.length > 120 ? 3 : processes.length > 60 ? 5 : 8;
  const top = 26;
  const height = top + processes.length * laneH + 24;
  const span = Math.max(1, t.toMs - t.fromMs);
  const x = (ms: number) => left + ((Math.min(Math.max(ms, t.fromMs), t.toMs) - t.fromMs) / span) * plotW;
  const lane = new Map(processes.map((p, i) => [p, i]));
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" class="timeline">`);
  for (const f of t.faults) {
    if (f.endMs < t.fromMs || f.startMs > t.toMs) continue;
    const x0 = x(f.startMs);
    const x1 = Math.max(x(f.endMs), x0 + 1);
    out.push(`<rect x="${x0.toFixed(1)}" y="${top - 14}" width="${(x1 - x0).toFixed(1)}" height="${height - top - 10}" fill="${FAULT_COLORS[f.fault] ?? '#888'}" fill-opacity="0.18"><title>${esc(f.label)} ${sec(f.startMs)}–${sec(f.endMs)}</title></rect>`);
    out.push(`<text x="${(x0 + 2).toFixed(1)}" y="${top - 4}" class="fl">${esc(f.label)}</text>`);
  }
  if (t.healMs !== null && t.healMs >= t.fromMs && t.healMs <= t.toMs) {
    out.push(`<line x1="${x(t.healMs).toFixed(1)}" x2="${x(t.healMs).toFixed(1)}" y1="${top - 14}" y2="${height - 14}" stroke="#222" stroke-dasharray="4 3"/><text x="${(x(t.healMs) + 3).toFixed(1)}" y="${height - 16}" class="fl">final heal</text>`);
  }
  const highlighted: string[] = [];
  for (const op of ops) {
    const s = op.invokeNs / 1e6;
    const e = Number.isFinite(op.completeNs) ? op.completeNs / 1e6 : t.toMs;
    if (e < t.fromMs || s > t.toMs) continue;
    const i = lane.get(op.process)!;
    const x0 = x(s);
    const isInfo = op.type === 'info';
    const x1 = x(e);
    const w = Math.max(1, x1 - x0);
    const y = top + i * laneH;
    const hl = t.highlight.has(op.index);
    const fill = hl ? COLORS.highlight : COLORS[op.type];
    // An info operation may still take effect after the client gave up: a thin line to the end.
    if (isInfo) out.push(`<line x1="${x1.toFixed(1)}" x2="${x(t.toMs).toFixed(1)}" y1="${y + laneH / 2}" y2="${y + laneH / 2}" stroke="${COLORS.info}" stroke-width="1" stroke-opacity="0.6"/>`);
    const title = `<title>process ${op.process} ${op.f} ${op.key} ${esc(JSON.stringify(op.value))}${op.f === 'read' && op.type === 'ok' ? ' → ' + esc(JSON.stringify(op.result)) : ''} ${op.type}${op.error !== undefined ? ' (' + esc(op.error) + ')' : ''} via ${op.node ?? '?'}, ${sec(s)}–${Number.isFinite(op.completeNs) ? sec(e) : 'never returned'}</title>`;
    const rect = `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${Math.max(1, laneH - 1)}" fill="${fill}"${hl ? ' stroke="#000" stroke-width="1"' : ''}>${title}</rect>`;
    if (hl) highlighted.push(rect);
    else out.push(rect);
    if (t.showValues === true) {
      const label = `${op.f} ${op.f === 'read' ? (op.type === 'ok' ? '→' + JSON.stringify(op.result) : '') : JSON.stringify(op.value)}`;
      (hl ? highlighted : out).push(`<text x="${(x0 + 2).toFixed(1)}" y="${y + laneH - 5}" class="ol">${esc(label)}</text>`);
    }
  }
  out.push(...highlighted);
  for (const [p, i] of lane) {
    if (laneH >= 8 || i % Math.ceil(8 / laneH) === 0) out.push(`<text x="${left - 4}" y="${top + i * laneH + laneH - 1}" class="ll">p${p}</text>`);
  }
  out.push(axis(t.fromMs, t.toMs, x, height - 4));
  out.push('</svg>');
  return `<div class="scroll">${out.join('')}</div>`;
}

function axis(fromMs: number, toMs: number, x: (ms: number) => number, y: number): string {
  const span = toMs - fromMs;
  const steps = [10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000];
  const step = steps.find((s) => span / s <= 16) ?? 120_000;
  const out: string[] = [];
  for (let ms = Math.ceil(fromMs / step) * step; ms <= toMs; ms += step) {
    out.push(`<text x="${x(ms).toFixed(1)}" y="${y}" class="ax">${step >= 1000 ? (ms / 1000).toFixed(0) + ' s' : (ms / 1000).toFixed(2) + ' s'}</text>`);
  }
  return out.join('');
}

function bands(faults: FaultBand[], x: (ms: number) => number, y0: number, h: number): string {
  return faults
    .map((f) => `<rect x="${x(f.startMs).toFixed(1)}" y="${y0}" width="${Math.max(1, x(f.endMs) - x(f.startMs)).toFixed(1)}" height="${h}" fill="${FAULT_COLORS[f.fault] ?? '#888'}" fill-opacity="0.15"/>`)
    .join('');
}

function throughputChart(r: ResultsFile, endMs: number, faults: FaultBand[]): string {
  const width = 1400;
  const height = 160;
  const left = 48;
  const plotW = width - left - 10;
  const plotH = height - 30;
  const buckets = r.availability.perSecond;
  const maxOps = Math.max(1, ...buckets.map((b) => b.ok + b.fail + b.info));
  const x = (ms: number) => left + (Math.min(ms, endMs) / endMs) * plotW;
  const barW = Math.max(1, (1000 / endMs) * plotW - 1);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`, bands(faults, x, 5, plotH)];
  for (const b of buckets) {
    let y = 5 + plotH;
    for (const type of ['ok', 'fail', 'info'] as const) {
      const h = (b[type] / maxOps) * plotH;
      y -= h;
      if (h > 0) out.push(`<rect x="${x(b.second * 1000).toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[type]}"><title>${b.second} s: ${b.ok} ok, ${b.fail} fail, ${b.info} info</title></rect>`);
    }
  }
  out.push(`<text x="4" y="14" class="ax">${maxOps}/s</text><text x="4" y="${5 + plotH}" class="ax">0</text>`);
  out.push(axis(0, endMs, x, height - 4), '</svg>');
  return `<p>Operations invoked per second, by outcome.</p><div class="scroll">${out.join('')}</div>`;
}

function latencyChart(r: ResultsFile, endMs: number, faults: FaultBand[]): string {
  const width = 1400;
  const height = 160;
  const left = 48;
  const plotW = width - left - 10;
  const plotH = height - 30;
  const buckets = r.availability.perSecond.filter((b) => b.p50Ms !== null);
  const maxMs = Math.max(1, ...buckets.map((b) => b.p99Ms ?? 0));
  const x = (ms: number) => left + (Math.min(ms, endMs) / endMs) * plotW;
  const y = (ms: number) => 5 + plotH - (ms / maxMs) * plotH;
  const line = (key: 'p50Ms' | 'p99Ms') => buckets.map((b) => `${x(b.second * 1000 + 500).toFixed(1)},${y(b[key] ?? 0).toFixed(1)}`).join(' ');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    bands(faults, x, 5, plotH),
    `<polyline points="${line('p99Ms')}" fill="none" stroke="#c0392b" stroke-width="1.5"/>`,
    `<polyline points="${line('p50Ms')}" fill="none" stroke="#2c3e50" stroke-width="1.5"/>`,
    `<text x="4" y="14" class="ax">${maxMs.toFixed(0)} ms</text><text x="4" y="${5 + plotH}" class="ax">0</text>`,
    axis(0, endMs, x, height - 4),
    '</svg>',
  ];
  return `<p>Latency of ok operations by the second they were invoked: <b style="color:#2c3e50">p50</b>, <b style="color:#c0392b">p99</b>.</p><div class="scroll">${out.join('')}</div>`;
}

function highlightedOps(r: ResultsFile, ops: readonly Operation[]): Set<number> {
  const lin = r.linearizability;
  const set = new Set<number>();
  if (lin.valid === 'skipped' || lin.violation === undefined) return set;
  const v = lin.violation;
  const wanted = [...v.ops, v.returnedFirst];
  for (const w of wanted) {
    const op = ops.find((o) => o.process === w.process && o.invokeNs === w.invokeTime && o.key === w.key);
    if (op !== undefined) set.add(op.index);
  }
  for (const lw of r.lostWrites.lost) {
    const op = ops.find((o) => o.process === lw.process && o.invokeNs === lw.invokeNs);
    if (op !== undefined) set.add(op.index);
  }
  return set;
}

function violationSection(r: ResultsFile, ops: readonly Operation[], highlight: Set<number>, faults: FaultBand[]): string {
  const lin = r.linearizability;
  if (lin.valid === 'skipped' || lin.violation === undefined) return '';
  const v = lin.violation;
  const rows = v.ops
    .map((op) => `<tr><td>${op.process}</td><td>${op.f}</td><td>${esc(JSON.stringify(op.value))}</td><td>${op.status}</td><td>${sec(op.invokeTime / 1e6)}</td><td>${op.returnTime === null ? '—' : sec(op.returnTime / 1e6)}</td><td>${esc(op.reason)}</td></tr>`)
    .join('');
  const prefixTail = v.prefix.slice(-12);
  const prefixRows = prefixTail
    .map((s) => `<tr><td>${s.process}</td><td>${s.f}</td><td>${esc(JSON.stringify(s.value))}</td><td>${s.status}</td><td>${sec(s.invokeTime / 1e6)}</td><td>${s.returnTime === null ? '—' : sec(s.returnTime / 1e6)}</td><td>${esc(JSON.stringify(s.stateBefore))} → ${esc(JSON.stringify(s.stateAfter))}</td></tr>`)
    .join('');
  // Zoom on the violating key around the operations that could not be linearized.
  // Also show where a value read stale was written.
  const readValues = new Set(v.ops.filter((o) => o.f === 'read').map((o) => o.value));
  const writers = ops.filter((o) => o.key === v.key && o.type !== 'fail' && readValues.has(o.f === 'cas' ? (o.value as [string | null, string])[1] : o.value));
  const times = [...writers.map((o) => o.invokeNs), ...v.ops.map((o) => o.invokeTime), v.returnedFirst.invokeTime, ...(v.returnedFirst.returnTime === null ? [] : [v.returnedFirst.returnTime]), ...prefixTail.slice(-4).map((s) => s.invokeTime)].map((ns) => ns / 1e6);
  const violationMs = Math.min(...v.ops.map((o) => o.invokeTime / 1e6));
  const from = Math.max(0, violationMs - 3000, Math.min(...times) - 150);
  const to = Math.max(...times) + 150;
  const keyOps = ops.filter((o) => o.key === v.key);
  const zoom = timeline(keyOps, { fromMs: from, toMs: to, faults, highlight, healMs: r.healMs, runStartMs: r.runStartMs, showValues: true });
  return `<h2 class="invalid">Linearizability violation on key ${esc(v.key)}</h2>
<p>The longest linearizable prefix the checker found has ${v.prefix.length} operations; it leaves the key at <b>${esc(JSON.stringify(v.stateAfter))}</b> (it started at ${esc(JSON.stringify(v.stateBefore))}).
None of the operations below can be the next one, yet one of them must be: process ${v.returnedFirst.process}'s ${v.returnedFirst.f} returned first, so it had to take effect before ${sec((v.returnedFirst.returnTime ?? 0) / 1e6)}.
They are highlighted in the timelines.</p>
<table><tr><th>process</th><th>f</th><th>value</th><th>status</th><th>invoked</th><th>returned</th><th>why it cannot go next</th></tr>${rows}</table>
<h3>Operations on ${esc(v.key)} around the violation</h3>${zoom}
<h3>End of the linearizable prefix (state before → after)</h3>
<table><tr><th>process</th><th>f</th><th>value</th><th>status</th><th>invoked</th><th>returned</th><th>state</th></tr>${prefixRows}</table>`;
}

function lostWritesSection(r: ResultsFile): string {
  const lw = r.lostWrites;
  const lines: string[] = [`<h2 class="${lw.valid ? 'valid' : 'invalid'}">No lost writes: ${lw.valid ? 'valid' : 'INVALID'}</h2>`];
  lines.push(`<p>${lw.acknowledgedWrites} acknowledged writes and cas. ${lw.notes.map(esc).join(' ')}</p>`);
  if (lw.lost.length > 0) {
    lines.push('<table><tr><th>key</th><th>process</th><th>f</th><th>value</th><th>acknowledged</th><th>final value</th></tr>');
    for (const l of lw.lost) lines.push(`<tr><td>${esc(l.key)}</td><td>${l.process}</td><td>${l.f}</td><td>${esc(l.value)}</td><td>${sec(l.invokeNs / 1e6)}–${sec(l.completeNs / 1e6)}</td><td>${esc(JSON.stringify(l.finalValue))}</td></tr>`);
    lines.push('</table>');
  }
  for (const d of lw.divergent) lines.push(`<p class="invalid">Replicas disagree on ${esc(d.key)}: ${esc(JSON.stringify(d.values))}</p>`);
  for (const u of lw.unexplained) lines.push(`<p class="invalid">Final value of ${esc(u.key)} (${esc(JSON.stringify(u.finalValue))}) was never written by an ok or info operation.</p>`);
  const finals = Object.entries(r.finalValues)
    .map(([k, v]) => `<tr><td>${esc(k)}</td>${Object.entries(v).map(([id, val]) => `<td>${id}: ${esc(JSON.stringify(val))}</td>`).join('')}</tr>`)
    .join('');
  lines.push(`<details><summary>Final values per replica</summary><table>${finals}</table></details>`);
  return lines.join('\n');
}

function availabilitySection(r: ResultsFile): string {
  const a = r.availability;
  const c = (x: { ok: number; fail: number; info: number }) => {
    const n = x.ok + x.fail + x.info;
    return `<td>${x.ok}</td><td>${x.fail}</td><td>${x.info}</td><td>${n === 0 ? '—' : ((100 * x.ok) / n).toFixed(1) + '%'}</td>`;
  };
  const byOp = (['read', 'write', 'cas', 'delete'] as const)
    .map((f) => {
      const l = a.latencyMs[f];
      return `<tr><td>${f}</td>${c(a.byOp[f])}<td>${l.p50.toFixed(1)}</td><td>${l.p90.toFixed(1)}</td><td>${l.p99.toFixed(1)}</td><td>${l.max.toFixed(1)}</td></tr>`;
    })
    .join('');
  const byPeriod = a.byPeriod.map((p) => `<tr><td>${esc(p.period)}</td><td>${(p.durationMs / 1000).toFixed(1)} s</td>${c(p)}<td>${p.okPerSec.toFixed(1)}</td></tr>`).join('');
  return `<h2>Availability and latency</h2>
<table><tr><th>op</th><th>ok</th><th>fail</th><th>info</th><th>ok %</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>${byOp}
<tr><td><b>all</b></td>${c(a.total)}<td>${a.latencyMs.all.p50.toFixed(1)}</td><td>${a.latencyMs.all.p90.toFixed(1)}</td><td>${a.latencyMs.all.p99.toFixed(1)}</td><td>${a.latencyMs.all.max.toFixed(1)}</td></tr></table>
<p>By fault period (an operation counts in the period in which it was invoked):</p>
<table><tr><th>period</th><th>duration</th><th>ok</th><th>fail</th><th>info</th><th>ok %</th><th>ok/s</th></tr>${byPeriod}</table>`;
}

function nemesisSection(r: ResultsFile, entries: readonly HistoryEntry[]): string {
  const nem = entries.filter((e): e is NemesisEvent => e.process === 'nemesis');
  const rows = nem.map((e) => `<tr><td>${sec(e.time / 1e6)}</td><td>${esc(e.f)}</td><td><code>${esc(JSON.stringify(e.value))}</code></td></tr>`).join('');
  const links = r.linkEvents.map((l) => `<tr><td>${sec(l.timeMs)}</td><td>${esc(l.change)}</td><td>${esc(l.links.map(([a, b]) => `${a}→${b}`).join(' '))}</td></tr>`).join('');
  const planned = r.schedule.faults
    .map((f) => `<tr><td>${f.id}</td><td>${sec(f.atMs)}</td><td>${(f.durationMs / 1000).toFixed(1)} s</td><td>${esc(f.fault)}</td><td>${esc(f.targets.join(','))}</td><td><code>${esc(JSON.stringify(f.params ?? {}))}</code></td></tr>`)
    .join('');
  return `<h2>Nemesis</h2>
<details open><summary>Events in the history (process "nemesis")</summary><table><tr><th>time</th><th>f</th><th>value</th></tr>${rows}</table></details>
<details><summary>Planned schedule (seed ${r.schedule.seed}; times from the workload start at ${sec(r.runStartMs)})</summary><table><tr><th>id</th><th>at</th><th>for</th><th>fault</th><th>targets</th><th>params</th></tr>${planned}</table></details>
<details><summary>Link changes ${(r.network?.partitionsBy ?? 'proxy') === 'kernel' ? 'made by iptables in the namespaces' : 'at the fault proxy'}</summary><table><tr><th>time</th><th>change</th><th>links</th></tr>${links}</table></details>`;
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222}
h1.valid,h2.valid,.valid{color:#2e7d32}h1.invalid,h2.invalid,.invalid{color:#c62828}h1.unknown,.unknown{color:#b26a00}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
table.kv th{background:#f5f5f5}
.scroll{overflow-x:auto;border:1px solid #eee;margin:6px 0}
.sw{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
svg text{font:10px system-ui,sans-serif;fill:#333}svg text.ll{text-anchor:end;font-size:8px}svg text.fl{font-size:9px}svg text.ol{font-size:9px;fill:#000}
code{background:#f5f5f5;padding:1px 3px}
</style></head><body>
${body}
</body></html>
`;
}

const sec = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
