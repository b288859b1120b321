// The dashboard's entry point: one server-sent event stream (GET /api/stream) drives the cards,
// the network graph, the load sparklines and the timeline; buttons call the server's API.
import { pressed, post, toast } from './api.js';
import { renderCards } from './cards.js';
import { Graph } from './graph.js';
import { renderLoad, setupKv, setupLoad, updateKvNodes } from './panels.js';
import { Replay } from './replay.js';
import { Timeline } from './timeline.js';

const $ = (id) => document.getElementById(id);
let latest = null;
let receivedAt = 0;

const graph = new Graph($('graph'), {
  onLinkClick: (a, b, state) => linkPress(a, b, state === 'ok' ? 'partition' : 'heal'),
});
const timeline = new Timeline($('timeline-chart'), $('events'));
const loadParts = { button: $('load-toggle'), ops: $('load-ops'), err: $('load-err'), p50: $('load-p50'), p99: $('load-p99'), opsCanvas: $('spark-ops'), latCanvas: $('spark-lat') };
const replay = new Replay(document);

setupKv($('kv-form'), $('kv-results'));
setupLoad($('load-toggle'));
for (const b of document.querySelectorAll('[data-split]')) b.addEventListener('click', () => pressed(b, `/api/splits/${b.dataset.split}`));
for (const b of document.querySelectorAll('[data-tab]')) b.addEventListener('click', () => showTab(b.dataset.tab));
$('power-failure').addEventListener('click', () => pressed($('power-failure'), '/api/power-failure'));

function showTab(name) {
  for (const b of document.querySelectorAll('[data-tab]')) b.classList.toggle('active', b.dataset.tab === name);
  $('tab-live').hidden = name !== 'live';
  $('tab-replay').hidden = name !== 'replay';
  if (name === 'replay') replay.listRuns();
}

async function linkPress(a, b, action) {
  const r = await post(`/api/links/${a}/${b}/${action}`);
  toast(r.ok ? r.done : `failed: ${r.error}`, !r.ok);
}

function onSnapshot(s) {
  latest = s;
  receivedAt = performance.now();
  $('protocol').textContent = s.protocol;
  $('hosts').textContent = `hosts: ${s.hosts ?? 'loopback'}`;
  $('leader-label').textContent = s.protocol === 'pbft' ? 'primary' : 'leader';
  $('leader').textContent = s.leader ?? 'none';
  $('commit').textContent = String(s.commitIndex);
  $('cps').textContent = s.commitsPerSec.toFixed(0);
  renderCards($('cards'), s);
  renderPowerFailure($('power-failure'), s.powerLoss === true);
  const ids = s.replicas.map((r) => r.id);
  const nodes = new Map(
    s.replicas.map((r) => [r.id, { role: r.state?.role, process: r.process, leader: s.leader === r.id, sub: r.process === 'up' ? (r.state?.role ?? '') : r.process }]),
  );
  graph.update(ids, nodes, s.links);
  renderLinkRows(s);
  updateKvNodes($('kv-node'), ids);
  renderLoad(s.load, loadParts);
  timeline.addCommits(s.timeMs, s.commitsPerSec);
}

/** The whole-cluster power button works only on power-loss filesystems (--lazyfs). */
function renderPowerFailure(button, enabled) {
  if (button.classList.contains('busy')) return;
  button.disabled = !enabled;
  button.title = enabled
    ? 'every replica loses power at once (each loses what it had not made durable), then all restart'
    : 'needs the replicas on power-loss filesystems: start the cluster with --lazyfs (root and FUSE)';
}

/** A row per link with its partition/heal buttons (the graph's links are clickable too). */
function renderLinkRows(s) {
  const box = $('links');
  if (s.links === null) {
    box.textContent = 'links cannot be cut: this cluster runs without the fault proxy';
    return;
  }
  for (const l of s.links) {
    const key = `${l.a}-${l.b}`;
    let row = box.querySelector(`[data-link-row="${key}"]`);
    if (row === null) {
      row = document.createElement('span');
      row.className = 'link-row';
      row.dataset.linkRow = key;
      row.append(`${l.a}–${l.b}`);
      for (const action of ['partition', 'heal']) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = action === 'partition' ? 'cut' : 'heal';
        b.dataset.link = key;
        b.dataset.action = action;
        b.addEventListener('click', () => pressed(b, `/api/links/${l.a}/${l.b}/${action}`));
        row.append(b);
      }
      box.append(row);
    }
    const state = l.ab === 'pass' && l.ba === 'pass' ? 'ok' : l.ab !== 'pass' && l.ba !== 'pass' ? 'cut' : 'half';
    row.dataset.state = state;
  }
}

function renderLegend() {
  const items = graph.legend();
  const box = $('legend');
  const key = items.map((i) => i.type).join();
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  box.replaceChildren(
    ...items.map((i) => {
      const span = document.createElement('span');
      const dot = document.createElement('i');
      dot.style.background = i.color;
      span.append(dot, i.type);
      return span;
    }),
  );
}

function connect() {
  const conn = $('conn');
  const source = new EventSource('/api/stream');
  source.addEventListener('open', () => {
    conn.dataset.state = 'live';
    conn.textContent = 'live';
  });
  source.addEventListener('error', () => {
    conn.dataset.state = 'lost';
    conn.textContent = 'reconnecting…';
  });
  source.addEventListener('snapshot', (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener('events', (e) => timeline.addEvents(JSON.parse(e.data)));
  source.addEventListener('messages', (e) => graph.flow(JSON.parse(e.data)));
}

setInterval(() => {
  if (document.hidden || latest === null) return;
  timeline.draw(latest.timeMs + (performance.now() - receivedAt)); // the server's clock
  renderLegend();
}, 500);

connect();
