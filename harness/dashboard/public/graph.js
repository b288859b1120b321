// The network as an SVG graph: replicas on a circle, one line per pair (each half shows one
// direction: the half at a replica is its outgoing direction), cut links drawn broken with a
// cross, and sampled messages flowing along the links. Used live and in replay.
import { typeColor } from './colors.js';

const NS = 'http://www.w3.org/2000/svg';
const R = 34;
const maxFlows = 160;

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

export class Graph {
  constructor(svg, { onLinkClick = null } = {}) {
    this.svg = svg;
    this.onLinkClick = onLinkClick;
    this.ids = [];
    this.pos = new Map();
    this.links = new Map();
    this.nodes = new Map();
    this.modes = new Map();
    this.flows = [];
    this.types = new Map();
    this.frame = null;
  }

  /** nodes: Map id → {role, process, leader, sub}; links: [{a, b, ab, ba}] or null. */
  update(ids, nodes, links) {
    if (ids.join() !== this.ids.join()) this.layout(ids);
    for (const [id, n] of nodes) {
      const g = this.nodes.get(id);
      if (g === undefined) continue;
      g.root.dataset.role = n.role ?? 'unknown';
      g.root.dataset.process = n.process ?? 'up';
      g.root.dataset.leader = String(n.leader === true);
      g.sub.textContent = n.sub ?? '';
    }
    for (const l of links ?? []) {
      const g = this.links.get(`${l.a}-${l.b}`);
      if (g === undefined) continue;
      this.modes.set(`${l.a}>${l.b}`, l.ab);
      this.modes.set(`${l.b}>${l.a}`, l.ba);
      const state = l.ab === 'pass' && l.ba === 'pass' ? 'ok' : l.ab !== 'pass' && l.ba !== 'pass' ? 'cut' : 'half';
      g.root.dataset.state = state;
      g.halfA.classList.toggle('ok', l.ab === 'pass');
      g.halfB.classList.toggle('ok', l.ba === 'pass');
      g.title.textContent = `${l.a}→${l.b}: ${l.ab}, ${l.b}→${l.a}: ${l.ba} (click to ${state === 'ok' ? 'cut' : 'heal'})`;
      this.shape(g, state !== 'ok');
    }
  }

  layout(ids) {
    this.ids = [...ids];
    this.svg.replaceChildren();
    this.pos.clear();
    this.links.clear();
    this.nodes.clear();
    const n = ids.length;
    ids.forEach((id, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
      this.pos.set(id, { x: 200 + 150 * Math.cos(angle), y: 200 + 150 * Math.sin(angle) });
    });
    const linkLayer = svgEl('g', { class: 'links-layer' });
    for (const a of ids) for (const b of ids) if (a < b) linkLayer.append(this.buildLink(a, b));
    this.flowLayer = svgEl('g', { class: 'flow' });
    const nodeLayer = svgEl('g', { class: 'nodes-layer' });
    for (const id of ids) nodeLayer.append(this.buildNode(id));
    this.svg.append(linkLayer, this.flowLayer, nodeLayer);
    // Fit the view to the replicas (3 on a circle leave the bottom of the square empty).
    const ys = [...this.pos.values()].map((p) => p.y);
    const top = Math.min(...ys) - R - 12;
    this.svg.setAttribute('viewBox', `0 ${top} 400 ${Math.max(...ys) + R + 12 - top}`);
  }

  buildLink(a, b) {
    const root = svgEl('g', { class: 'link', 'data-link': `${a}-${b}`, 'data-state': 'ok' });
    const pa = this.pos.get(a);
    const pb = this.pos.get(b);
    const hit = svgEl('line', { class: 'hit', x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y });
    const halfA = svgEl('line', { class: 'half ok' });
    const halfB = svgEl('line', { class: 'half ok' });
    const mark = svgEl('text', { class: 'cut-mark', x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 });
    mark.textContent = '✕';
    const title = svgEl('title');
    root.append(title, hit, halfA, halfB, mark);
    if (this.onLinkClick !== null) root.addEventListener('click', () => this.onLinkClick(a, b, root.dataset.state));
    const g = { root, halfA, halfB, title, a, b };
    this.links.set(`${a}-${b}`, g);
    this.shape(g, false);
    return root;
  }

  /** Each half runs from a replica's edge to the middle, leaving a gap when the link is cut. */
  shape(g, gap) {
    const pa = this.pos.get(g.a);
    const pb = this.pos.get(g.b);
    const len = Math.hypot(pb.x - pa.x, pb.y - pa.y);
    const ux = (pb.x - pa.x) / len;
    const uy = (pb.y - pa.y) / len;
    const mid = len / 2;
    const g0 = gap ? 14 : 0;
    set(g.halfA, pa, ux, uy, R, mid - g0);
    set(g.halfB, pa, ux, uy, mid + g0, len - R);
  }

  buildNode(id) {
    const p = this.pos.get(id);
    const root = svgEl('g', { class: 'node', 'data-replica': id });
    const label = svgEl('text', { x: p.x, y: p.y - 6 });
    label.textContent = id;
    const sub = svgEl('text', { class: 'sub', x: p.x, y: p.y + 14 });
    root.append(svgEl('circle', { cx: p.x, cy: p.y, r: R }), label, sub);
    this.nodes.set(id, { root, sub });
    return root;
  }

  /** Animate sampled messages: each flies from its sender to its receiver, or dies at a cut. */
  flow(messages) {
    if (document.hidden || this.flowLayer === undefined) return;
    const t0 = Math.min(...messages.map((m) => m.timeMs));
    const now = performance.now();
    for (const m of messages) {
      if (this.flows.length >= maxFlows) break;
      const from = this.pos.get(m.from);
      const to = this.pos.get(m.to);
      if (from === undefined || to === undefined) continue;
      const color = typeColor(m.type);
      this.types.set(m.type, { color, seen: Date.now() });
      const dot = svgEl('circle', { r: 5, fill: color, cx: from.x, cy: from.y });
      this.flowLayer.append(dot);
      const cut = (this.modes.get(`${m.from}>${m.to}`) ?? 'pass') !== 'pass';
      // Each direction flies on its own side of the line, so requests and responses do not overlap.
      const len = Math.hypot(to.x - from.x, to.y - from.y) || 1;
      const ox = (-(to.y - from.y) / len) * 5;
      const oy = ((to.x - from.x) / len) * 5;
      this.flows.push({ dot, from, to, ox, oy, start: now + Math.min(400, m.timeMs - t0), dur: 650, stopAt: cut ? 0.42 : 1 });
    }
    if (this.frame === null) this.frame = requestAnimationFrame((t) => this.tick(t));
  }

  tick(t) {
    this.frame = null;
    this.flows = this.flows.filter((f) => {
      const p = (t - f.start) / f.dur;
      if (p < 0) {
        f.dot.setAttribute('opacity', '0');
        return true;
      }
      if (p >= f.stopAt + (f.stopAt < 1 ? 0.35 : 0)) {
        f.dot.remove();
        return false;
      }
      const q = Math.min(p, f.stopAt);
      f.dot.setAttribute('cx', f.from.x + (f.to.x - f.from.x) * q + f.ox);
      f.dot.setAttribute('cy', f.from.y + (f.to.y - f.from.y) * q + f.oy);
      f.dot.setAttribute('opacity', p > f.stopAt ? String(Math.max(0, 1 - (p - f.stopAt) / 0.35)) : '1');
      return true;
    });
    if (this.flows.length > 0) this.frame = requestAnimationFrame((t2) => this.tick(t2));
  }

  /** Message types seen in the last 10 s, for the legend. */
  legend() {
    const cutoff = Date.now() - 10_000;
    return [...this.types].filter(([, v]) => v.seen >= cutoff).map(([type, v]) => ({ type, color: v.color }));
  }
}

function set(line, p, ux, uy, from, to) {
  line.setAttribute('x1', p.x + ux * from);
  line.setAttribute('y1', p.y + uy * from);
  line.setAttribute('x2', p.x + ux * to);
  line.setAttribute('y2', p.y + uy * to);
}
