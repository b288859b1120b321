// Colours of log entries: one hue per Raft term, per Multi-Paxos ballot, per PBFT phase.

const golden = 137.508;

export function termColor(term) {
  return `hsl(${(term * golden) % 360} 70% 62%)`;
}

export function ballotColor(ballot) {
  const leaderNumber = Number(String(ballot.leader).replace(/\D/g, '')) || 0;
  return `hsl(${(ballot.round * golden + leaderNumber * 29) % 360} 70% 62%)`;
}

export const phaseColors = {
  'pre-prepared': '#f2c14e',
  prepared: '#f08a4b',
  committed: '#3fb27f',
};

/** A stable colour for a message type (AppendEntries, P2a, Prepare, ...). */
export function typeColor(type) {
  let h = 0;
  for (const ch of type) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 80% 65%)`;
}
