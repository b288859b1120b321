// One card per replica: role, epoch, leader, commit and applied index, process state, log tail,
// event-loop delay and the fault buttons. Cards are built once and updated in place, so a button
// is never replaced under the pointer.
import { el, pressed } from './api.js';
import { ballotColor, phaseColors, termColor } from './colors.js';
import { sparkline } from './sparkline.js';

/** A stall (a delay over 50 ms) stays marked this long: STALL_RECENT_MS of harness/dashboard/event-loop-lag.ts. */
const stallShownMs = 30_000;
const lagColors = { p99: '#5aa9ff', max: '#f0a04b' };

const actions = [
  ['kill', 'kill'],
  ['restart', 'restart'],
  ['wipe', 'restart wiped'],
  ['pause', 'pause'],
  ['resume', 'resume'],
  ['power-off', 'power off'],
];

// Without power-loss filesystems (--lazyfs) the power button cannot work: disabled, and says why.
const POWER_ON = 'lose power: SIGKILL, then lose every write the replica had not made durable (fsync); restart brings it back on what survived';
const POWER_OFF = 'needs the replicas on power-loss filesystems: start the cluster with --lazyfs (root and FUSE)';

const cards = new Map();

export function renderCards(container, snapshot) {
  for (const r of snapshot.replicas) {
    let card = cards.get(r.id);
    if (card === undefined) {
      card = buildCard(r.id);
      cards.set(r.id, card);
      container.append(card.root);
    }
    updateCard(card, r, snapshot.leader, snapshot.powerLoss === true);
    updateLag(card, r.lag, snapshot.timeMs);
  }
}

function buildCard(id) {
  const root = el('article', { class: 'card', 'data-replica': id });
  const role = el('span', { class: 'role', text: '…' });
  const proc = el('span', { class: 'proc' });
  root.append(el('header', {}, el('span', { class: 'id', text: id }), role, proc));
  const facts = el('dl', { class: 'facts' });
  root.append(facts);
  const log = el('div', { class: 'log', 'aria-label': `log tail of ${id}` });
  root.append(log);
  const lag = el('div', { class: 'lag', 'data-stall': 'false', hidden: '' });
  const p99 = el('b', { class: 'p99' });
  const max = el('b', { class: 'max' });
  const lagText = el('span', { class: 'lag-text' }, 'event loop ', p99, ' · ', max, ' ms');
  const lagCanvas = el('canvas', { class: 'lag-spark', 'aria-label': `event-loop delay of ${id}: p99 and max per second` });
  const stall = el('span', { class: 'stall-mark' });
  lag.append(lagText, el('div', { class: 'lag-chart' }, lagCanvas, stall));
  root.append(lag);
  const err = el('div', { class: 'err' });
  root.append(err);
  const bar = el('div', { class: 'actions' });
  const buttons = {};
  for (const [action, label] of actions) {
    const b = el('button', { type: 'button', 'data-action': action, 'data-replica': id, text: label });
    b.addEventListener('click', () => pressed(b, `/api/replicas/${id}/${action}`));
    buttons[action] = b;
    bar.append(b);
  }
  root.append(bar);
  return { root, role, proc, facts, log, lag, p99, max, lagCanvas, stall, err, buttons, logKey: '', lagKey: '' };
}

function updateCard(card, r, clusterLeader, powerLoss) {
  const s = r.state;
  const root = card.root;
  root.dataset.process = r.process;
  root.dataset.stale = String(r.stale);
  root.dataset.role = s === null ? 'unknown' : s.role === 'view-changing' ? 'candidate' : s.role;
  root.dataset.leader = String(r.process === 'up' && !r.stale && s !== null && s.leader === r.id && clusterLeader === r.id);
  card.role.textContent = s === null ? '…' : s.role;
  card.proc.textContent = r.process + (r.stale ? ' (last known)' : '');
  card.proc.dataset.process = r.process;
  card.err.textContent = r.error ?? '';
  setFacts(card.facts, factsOf(s));
  const logKey = s === null ? '' : JSON.stringify([s.commitIndex, s.appliedIndex, s.log]);
  if (logKey !== card.logKey) {
    card.logKey = logKey;
    card.log.replaceChildren(...logEntries(s));
  }
  const b = card.buttons;
  b.kill.disabled = !['up', 'paused', 'starting'].includes(r.process);
  b.pause.disabled = r.process !== 'up';
  b.resume.disabled = r.process !== 'paused';
  b['power-off'].disabled = !powerLoss || r.process === 'stopped';
  b['power-off'].title = powerLoss ? POWER_ON : POWER_OFF;
}

/** The last second's p99 and max, a sparkline of the last 30 reads, and a mark after a recent stall. */
function updateLag(card, lag, nowMs) {
  card.lag.hidden = lag === undefined;
  if (lag === undefined) return;
  const last = lag.points.at(-1);
  card.p99.textContent = `p99 ${ms(last.p99Ms)}`;
  card.max.textContent = `max ${ms(last.maxMs)}`;
  const s = lag.lastStall;
  const recent = s !== null && nowMs - s.timeMs < stallShownMs;
  card.lag.dataset.stall = String(recent);
  card.stall.textContent = recent ? `stall ${s.atLeast ? '>' : ''}${Math.round(s.ms)} ms, ${Math.max(0, Math.round((nowMs - s.timeMs) / 1000))} s ago` : '';
  card.stall.title = recent ? 'the event loop ran a timer more than 50 ms late: nothing else ran in this replica meanwhile' : '';
  const key = `${last.timeMs}`;
  if (key === card.lagKey) return; // redraw only on a new read (about once a second)
  card.lagKey = key;
  sparkline(card.lagCanvas, [{ values: lag.points.map((p) => p.p99Ms), color: lagColors.p99 }, { values: lag.points.map((p) => p.maxMs), color: lagColors.max }], 30, { threshold: 50, unit: ' ms' });
}

const ms = (v) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));

function factsOf(s) {
  if (s === null) return [['state', 'not read yet']];
  const common = [
    [epochName(s), epochValue(s)],
    [s.protocol === 'pbft' ? 'primary' : 'leader', s.leader ?? '–'],
    ['commit', s.commitIndex],
    ['applied', s.appliedIndex],
  ];
  if (s.protocol === 'pbft') common.push(['checkpoint', s.stableCheckpoint], ['watermark', `${s.stableCheckpoint}–${s.highWatermark}`]);
  if (s.protocol === 'raft') common.push(['last index', s.lastLogIndex], ['voted for', s.votedFor ?? '–']);
  if (s.protocol === 'multipaxos') common.push(['slot in', s.slotIn], ['slot out', s.slotOut]);
  return common;
}

const epochName = (s) => ({ raft: 'term', multipaxos: 'ballot', pbft: 'view' })[s.protocol] ?? 'epoch';
const epochValue = (s) => (s.protocol === 'multipaxos' ? `${s.ballot.round}.${s.ballot.leader}` : s.protocol === 'raft' ? s.term : s.protocol === 'pbft' ? s.view : s.epochLabel);

function setFacts(dl, facts) {
  const key = JSON.stringify(facts);
  if (dl.dataset.key === key) return;
  dl.dataset.key = key;
  dl.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
}

function logEntries(s) {
  if (s === null || s.log.length === 0) return [el('span', { class: 'log-empty', text: s === null ? '' : 'log empty (or compacted)' })];
  switch (s.protocol) {
    case 'raft':
      return s.log.map((e) => entry(e.index, termColor(e.term), `index ${e.index} · term ${e.term} · ${e.kind}`, e.index > s.commitIndex, e.kind === 'noop'));
    case 'multipaxos':
      return s.log.map((e) =>
        entry(e.slot, ballotColor(e.ballot), `slot ${e.slot} · ballot ${e.ballot.round}.${e.ballot.leader} · ${e.status} · ${e.kind === 'noop' ? 'no-op' : `${e.commands} commands`}`, e.status !== 'decided', e.kind === 'noop'),
      );
    case 'pbft':
      return s.log.map((e) => {
        const span = entry(e.seq, phaseColors[e.phase] ?? '#888', `seq ${e.seq} · view ${e.view} · ${e.phase}${e.executed ? ' · executed' : ''}`, false, false);
        if (e.executed) span.classList.add('executed');
        span.dataset.phase = e.phase;
        return span;
      });
    default:
      return [];
  }
}

function entry(label, color, title, uncommitted, noop) {
  const span = el('span', { class: `entry${uncommitted ? ' uncommitted' : ''}${noop ? ' noop' : ''}`, title, text: String(label) });
  span.style.setProperty('--c', color);
  return span;
}
