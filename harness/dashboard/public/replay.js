// Replay of a chaos run from store/: pick a run, scrub through its history and fault events, see
// the network and the operations at that moment, the checker's verdict and any violation.
import { el, getJson, toast } from './api.js';
import { Graph } from './graph.js';
import { fitCanvas } from './sparkline.js';

const faultColors = { kill: 'rgba(239,91,91,0.22)', 'restart-wiped': 'rgba(239,91,91,0.32)', pause: 'rgba(240,160,75,0.22)', partition: 'rgba(195,139,255,0.2)', delay: 'rgba(90,169,255,0.18)', 'power-loss': 'rgba(160,160,160,0.3)', 'power-loss-all': 'rgba(120,120,120,0.4)' };

export class Replay {
  constructor(doc) {
    this.d = doc;
    this.$ = (id) => doc.getElementById(id);
    this.data = null;
    this.t = 0;
    this.playing = null;
    this.graph = new Graph(this.$('replay-graph'));
    this.$('open-run').addEventListener('click', () => this.open(this.$('runs').value));
    this.$('scrub').addEventListener('input', (e) => this.seek((Number(e.target.value) / 1000) * this.duration()));
    this.$('replay-chart').addEventListener('click', (e) => {
      const rect = e.target.getBoundingClientRect();
      this.seek(((e.clientX - rect.left) / rect.width) * this.duration());
    });
    this.$('jump-violation').addEventListener('click', () => this.jumpToViolation());
    this.$('play').addEventListener('click', () => this.togglePlay());
    window.addEventListener('resize', () => this.data && this.drawChart());
  }

  async listRuns() {
    try {
      const { runs } = await getJson('/api/runs');
      const select = this.$('runs');
      select.replaceChildren(...runs.map((r) => el('option', { value: r.name, text: `${r.name} · ${r.protocol ?? '?'} · ${r.verdict}` })));
      if (runs.length === 0) select.append(el('option', { value: '', text: 'no chaos runs in store/ (npm run chaos)' }));
    } catch (err) {
      toast(`runs: ${err.message}`, true);
    }
  }

  async open(name) {
    if (!name) return;
    try {
      this.data = await getJson(`/api/runs/${encodeURIComponent(name)}`);
    } catch (err) {
      return toast(`replay: ${err.message}`, true);
    }
    const d = this.data;
    const verdict = this.$('run-verdict');
    verdict.textContent = d.verdict;
    verdict.dataset.verdict = d.verdict;
    this.$('run-info').textContent = `${d.protocol ?? ''} · seed ${d.seed ?? '?'} · nemesis ${d.nemesis.join(',') || 'none'} · ${d.ops.length} operations${d.truncated ? ' (truncated)' : ''}`;
    this.$('replay-summary').replaceChildren(...summaryLines(d).map((s) => el('li', { text: s })));
    this.$('replay-violation').textContent = violationText(d.violation);
    this.$('jump-violation').hidden = d.violation === null;
    this.seek(d.violation ? firstViolationMs(d) : 0);
  }

  duration() {
    return this.data ? Math.max(1, this.data.durationMs) : 1;
  }

  seek(t) {
    if (!this.data) return;
    this.t = Math.max(0, Math.min(this.duration(), t));
    this.$('scrub').value = String(Math.round((this.t / this.duration()) * 1000));
    this.$('scrub-time').textContent = `${(this.t / 1000).toFixed(2)} s`;
    this.drawChart();
    this.drawMoment();
  }

  jumpToViolation() {
    if (this.data?.violation) this.seek(firstViolationMs(this.data));
  }

  togglePlay() {
    if (this.playing !== null) {
      clearInterval(this.playing);
      this.playing = null;
      this.$('play').textContent = '▶ play';
      return;
    }
    this.$('play').textContent = '❚❚ pause';
    this.playing = setInterval(() => {
      if (this.t >= this.duration()) return this.togglePlay();
      this.seek(this.t + 200);
    }, 100);
  }

  drawChart() {
    const d = this.data;
    const { ctx, w, h } = fitCanvas(this.$('replay-chart'));
    const x = (t) => (t / this.duration()) * w;
    for (const p of d.periods) {
      ctx.fillStyle = faultColors[p.fault] ?? 'rgba(200,200,200,0.15)';
      ctx.fillRect(x(p.startMs), 0, Math.max(2, x(p.endMs ?? d.durationMs) - x(p.startMs)), h);
      ctx.fillStyle = '#cdd3e0';
      ctx.font = '10px system-ui, sans-serif';
      ctx.fillText(`${p.fault} ${p.targets.join(',')}`, x(p.startMs) + 2, 10);
    }
    const b = d.buckets;
    const max = Math.max(1, ...b.ok.map((v, i) => v + b.fail[i] + b.info[i]));
    const bw = Math.max(1, x(b.bucketMs));
    b.ok.forEach((ok, i) => {
      let y = h;
      for (const [v, color] of [[ok, '#3fb27f'], [b.fail[i], '#f0a04b'], [b.info[i], '#ef5b5b']]) {
        const bh = (v / max) * (h - 16);
        ctx.fillStyle = color;
        ctx.fillRect(x(i * b.bucketMs), y - bh, bw, bh);
        y -= bh;
      }
    });
    if (d.healMs !== null) {
      ctx.fillStyle = '#3fb27f';
      ctx.fillRect(x(d.healMs), 0, 2, h);
    }
    ctx.fillStyle = '#ef5b5b';
    for (const op of d.ops) if (op.violation) ctx.fillRect(x(op.startMs) - 2, h - 8, 5, 8);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(x(this.t) - 1, 0, 2, h);
  }

  drawMoment() {
    const d = this.data;
    const t = this.t;
    const links = at(d.linkFrames, t)?.cut ?? [];
    const down = at(d.nodeFrames, t)?.down ?? {};
    const cut = new Set(links.map(([a, b]) => `${a}>${b}`));
    const mode = (a, b) => (cut.has(`${a}>${b}`) ? 'blackhole' : 'pass');
    const pairs = d.ids.flatMap((a) => d.ids.filter((b) => a < b).map((b) => ({ a, b, ab: mode(a, b), ba: mode(b, a) })));
    const nodes = new Map(d.ids.map((id) => [id, { role: 'unknown', process: down[id] ?? 'up', leader: false, sub: down[id] ?? '' }]));
    this.graph.update(d.ids, nodes, pairs);
    const active = d.periods.filter((p) => p.startMs <= t && t < (p.endMs ?? d.durationMs));
    const faults = this.$('replay-faults');
    faults.replaceChildren(...(active.length === 0 ? [el('li', { text: t >= (d.healMs ?? Infinity) ? 'healed; recovering' : 'no fault active' })] : active.map((p) => el('li', { text: `${p.fault} ${p.targets.join(', ')} since ${(p.startMs / 1000).toFixed(1)} s` }))));
    this.renderOps(t);
  }

  renderOps(t) {
    const d = this.data;
    const near = d.ops.filter((o) => o.startMs <= t + 300 && (o.endMs ?? d.durationMs) >= t - 300);
    const shown = near.filter((o) => o.violation).concat(near.filter((o) => !o.violation)).slice(0, 40);
    const tbody = this.$('replay-ops').tBodies[0];
    tbody.replaceChildren(
      ...shown.map((o) =>
        el(
          'tr',
          { class: `t-${o.type}${o.violation ? ' violation' : ''}` },
          el('td', { text: String(o.process) }),
          el('td', { text: o.f }),
          el('td', { text: o.key }),
          el('td', { text: `${JSON.stringify(o.value)} → ${JSON.stringify(o.result)}` }),
          el('td', { text: o.type + (o.error ? ` (${o.error})` : '') }),
          el('td', { text: o.node ?? '' }),
          el('td', { text: o.endMs === null ? '∞' : (o.endMs - o.startMs).toFixed(1) }),
        ),
      ),
    );
  }
}

function at(frames, t) {
  let best;
  for (const f of frames) {
    if (f.timeMs <= t) best = f;
    else break;
  }
  return best;
}

function firstViolationMs(d) {
  const ops = d.ops.filter((o) => o.violation);
  return ops.length > 0 ? Math.min(...ops.map((o) => o.startMs)) : (d.violation?.ops[0]?.startMs ?? 0);
}

function summaryLines(d) {
  const lin = d.linearizability;
  const linText = lin.valid === true ? `linearizable (${lin.ops} operations checked in ${lin.elapsedMs?.toFixed(0)} ms)` : lin.valid === false ? 'NOT linearizable' : `linearizability: ${lin.valid}${lin.reason ? ` (${lin.reason})` : ''}`;
  return [`verdict: ${d.verdict}`, linText, ...d.summary];
}

function violationText(v) {
  if (v === null) return '';
  const lines = [`Violation on key ${v.key}: after the longest linearizable prefix the key is ${JSON.stringify(v.stateAfter)}; none of these can go next:`];
  for (const o of v.ops) lines.push(`  process ${o.process} ${o.f} ${JSON.stringify(o.value)} at ${(o.startMs / 1000).toFixed(3)} s: ${o.reason}`);
  return lines.join('\n');
}
