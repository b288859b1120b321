// The event timeline: commits per second over the last two minutes with event markers, and the
// list of events (newest first).
import { el } from './api.js';
import { fitCanvas } from './sparkline.js';

const windowMs = 120_000;
const kindColors = { election: '#f0a04b', epoch: '#5aa9ff', leader: '#ffd34e', fault: '#ef5b5b', process: '#ef5b5b', heal: '#3fb27f', stall: '#ef5b5b' };

export class Timeline {
  constructor(canvas, list) {
    this.canvas = canvas;
    this.list = list;
    this.commits = [];
    this.events = [];
    this.seen = new Set();
  }

  addCommits(timeMs, perSec) {
    this.commits.push({ timeMs, perSec });
    const cutoff = timeMs - windowMs;
    while (this.commits.length > 0 && this.commits[0].timeMs < cutoff) this.commits.shift();
  }

  addEvents(events) {
    // Keyed by time too: a restarted server numbers its events from 1 again.
    const fresh = events.filter((e) => !this.seen.has(`${e.seq}@${e.timeMs}`));
    for (const e of fresh) {
      this.seen.add(`${e.seq}@${e.timeMs}`);
      this.events.push(e);
      this.list.prepend(
        el('li', { 'data-kind': e.kind }, el('time', { text: clock(e.timeMs) }), el('span', { class: `kind kind-${e.kind}`, text: e.kind }), el('span', { text: e.text })),
      );
    }
    while (this.list.children.length > 300) this.list.lastElementChild.remove();
    if (this.events.length > 1000) this.events.splice(0, this.events.length - 1000);
  }

  draw(nowMs) {
    const { ctx, w, h } = fitCanvas(this.canvas);
    const x = (t) => w - ((nowMs - t) / windowMs) * w;
    const max = Math.max(1, ...this.commits.map((c) => c.perSec));
    ctx.fillStyle = 'rgba(90, 169, 255, 0.55)';
    const barW = Math.max(1, (w / windowMs) * 300);
    for (const c of this.commits) {
      const bh = (c.perSec / max) * (h - 14);
      ctx.fillRect(x(c.timeMs) - barW, h - bh, barW, bh);
    }
    for (const e of this.events) {
      if (e.timeMs < nowMs - windowMs) continue;
      ctx.fillStyle = kindColors[e.kind] ?? '#ccc';
      ctx.fillRect(x(e.timeMs) - 1, 0, 2, h);
    }
    ctx.fillStyle = '#8b94a9';
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillText(`${Math.round(max)} commits/s`, 4, 11);
    ctx.fillText('−2 min', 4, h - 3);
  }
}

export function clock(ms) {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0').slice(0, 1)}`;
}
