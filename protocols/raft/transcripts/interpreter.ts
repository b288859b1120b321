/**
 * Transcripts of the Raft core, in the style of etcd-io/raft's datadriven tests: a file of blocks
 *
 *     # comments
 *     command arg key=value
 *     ----
 *     what the command printed
 *
 * separated by blank lines. Each command acts on one in-memory cluster (cluster.ts) and prints
 * what happened, message by message, so a scenario of the Raft paper (Ongaro and Ousterhout,
 * "In Search of an Understandable Consensus Algorithm", 2014) can be read and reviewed as text.
 * The commands are listed in README.md beside this file.
 */
import { bytes, logOfTerms, type Disk } from '../sim/test-cluster.js';
import type { NodeId, RaftConfig } from '../types.js';
import { TranscriptCluster, type MessageFilter } from './cluster.js';
import { formatEntry, formatMessage } from './format.js';

// ---------------------------------------------------------------- the file format

export interface Block {
  /** The comment and blank lines before the command, verbatim. */
  preamble: string[];
  command: string;
  /** 1-based line of the command in its file. */
  line: number;
  expected: string[];
}

export interface Transcript {
  blocks: Block[];
  /** Comment and blank lines after the last block. */
  trailer: string[];
}

const SEPARATOR = '----';

const isPreamble = (line: string): boolean => line.trim() === '' || line.startsWith('#');

/** Parses a transcript file; throws with the line number on a block without `----`. */
export function parseTranscript(text: string, file = 'transcript'): Transcript {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const blocks: Block[] = [];
  let preamble: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = lines[i] as string;
    if (isPreamble(line)) {
      preamble.push(line);
      i++;
      continue;
    }
    if (lines[i + 1] !== SEPARATOR) throw new Error(`${file}:${i + 2}: expected ${SEPARATOR} after the command "${line}"`);
    const block: Block = { preamble, command: line, line: i + 1, expected: [] };
    for (i += 2; i < lines.length && (lines[i] as string).trim() !== ''; i++) block.expected.push(lines[i] as string);
    blocks.push(block);
    preamble = [];
  }
  return { blocks, trailer: preamble };
}

/** The file again, with `outputs[k]` as block k's expected output (the rewrite mode). */
export function renderTranscript(transcript: Transcript, outputs: readonly string[][]): string {
  const lines: string[] = [];
  transcript.blocks.forEach((block, k) => lines.push(...block.preamble, block.command, SEPARATOR, ...(outputs[k] ?? block.expected)));
  lines.push(...transcript.trailer);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- arguments

/** `propose id=1 x`: the positional arguments (`x`) and the named ones (`id` = `1`). */
export class Args {
  readonly positional: string[] = [];
  private readonly named = new Map<string, string>();

  constructor(
    tokens: string[],
    private readonly command: string,
    allowed: readonly string[],
  ) {
    for (const token of tokens) {
      const eq = token.indexOf('=');
      if (eq < 0) {
        this.positional.push(token);
        continue;
      }
      const key = token.slice(0, eq);
      if (!allowed.includes(key)) throw new Error(`${command}: unknown argument ${key} (allowed: ${allowed.join(', ') || 'none'})`);
      this.named.set(key, token.slice(eq + 1));
    }
  }

  has(key: string): boolean {
    return this.named.has(key);
  }

  str(key: string): string {
    const value = this.named.get(key);
    if (value === undefined) throw new Error(`${this.command}: missing ${key}=`);
    return value;
  }

  list(key: string): string[] {
    const value = this.str(key);
    return value === '' ? [] : value.split(',');
  }

  int(key: string, fallback?: number): number {
    if (!this.has(key) && fallback !== undefined) return fallback;
    const n = Number(this.str(key));
    if (!Number.isSafeInteger(n)) throw new Error(`${this.command}: ${key} is not an integer`);
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const value = this.str(key);
    if (value !== 'true' && value !== 'false') throw new Error(`${this.command}: ${key} must be true or false`);
    return value === 'true';
  }

  /** `from=`, `to=` and `type=`, each a comma-separated list, as a filter on queued messages. */
  filter(): MessageFilter {
    const f: MessageFilter = {};
    if (this.has('from')) f.from = new Set(this.list('from'));
    if (this.has('to')) f.to = new Set(this.list('to'));
    if (this.has('type')) f.type = new Set(this.list('type'));
    return f;
  }
}

const FILTER = ['from', 'to', 'type', 'n'];
const MAX_DELIVERIES = 10_000;

// ---------------------------------------------------------------- commands

type Command = (args: Args) => string[];

/** Runs transcript commands against one cluster; `run` returns the lines a command printed. */
export class Interpreter {
  private current: TranscriptCluster | null = null;

  /** Per command: its named arguments, whether it takes positional ones, and what it does. */
  private readonly commands: Record<string, { allowed: readonly string[]; positional?: true; run: Command }> = {
    cluster: { allowed: ['voters', 'prevote', 'checkquorum', 'maxappendbytes', 'inflight', 'election', 'heartbeat', 'seed'], run: (a) => this.newCluster(a) },
    log: { allowed: ['id', 'terms', 'term', 'vote', 'commit'], run: (a) => this.log(a) },
    campaign: { allowed: ['id'], run: (a) => this.campaign(a) },
    tick: { allowed: ['id', 'n'], run: (a) => this.tick(a) },
    propose: { allowed: ['id'], positional: true, run: (a) => this.propose(a) },
    deliver: { allowed: FILTER, run: (a) => this.deliver(a) },
    drop: { allowed: FILTER, run: (a) => dropSome(this.cluster, a) },
    msgs: { allowed: FILTER, run: (a) => orNone(this.cluster.pending(a.filter()).map(formatMessage)) },
    cut: { allowed: ['id'], positional: true, run: (a) => this.cut(a) },
    heal: { allowed: [], run: () => this.heal() },
    crash: { allowed: ['id'], run: (a) => this.cluster.crash(a.str('id')).map((m) => `lost ${formatMessage(m)}`) },
    restart: { allowed: ['id'], run: (a) => this.restart(a) },
    status: { allowed: ['id'], run: (a) => (a.has('id') ? a.list('id') : this.cluster.ids).map((id) => this.cluster.status(id)) },
  };

  /** Runs one command line; an empty output prints as `ok`. Bad commands and arguments throw. */
  run(line: string): string[] {
    const [name = '', ...tokens] = line.trim().split(/\s+/);
    const command = Object.hasOwn(this.commands, name) ? this.commands[name] : undefined;
    if (command === undefined) throw new Error(`unknown command ${name} (known: ${Object.keys(this.commands).join(', ')})`);
    const args = new Args(tokens, name, command.allowed);
    if (args.positional.length > 0 && command.positional !== true) throw new Error(`${name}: unexpected ${args.positional.join(' ')}`);
    const out = command.run(args);
    return out.length === 0 ? ['ok'] : out;
  }

  private get cluster(): TranscriptCluster {
    if (this.current === null) throw new Error('no cluster yet: start with `cluster voters=1,2,3`');
    return this.current;
  }

  /** Fresh replicas with empty disks. Plain Raft unless asked: pre-vote and check-quorum off. */
  private newCluster(a: Args): string[] {
    const overrides: Partial<RaftConfig> = {
      preVote: a.bool('prevote', false),
      checkQuorum: a.bool('checkquorum', false),
    };
    if (a.has('maxappendbytes')) overrides.maxAppendBytes = a.int('maxappendbytes');
    if (a.has('inflight')) overrides.maxInflightAppends = a.int('inflight');
    if (a.has('election')) overrides.electionTimeoutTicks = a.int('election');
    if (a.has('heartbeat')) overrides.heartbeatIntervalTicks = a.int('heartbeat');
    this.current = new TranscriptCluster(a.list('voters'), overrides, a.int('seed', 1));
    return [];
  }

  /**
   * `log id=2 terms=1,1,4 [term=T] [vote=V] [commit=C]`: what replica 2 has on its disk (entries
   * 1@1 2@1 3@4, currentTerm T, by default the last entry's); it restarts from it (§5.1).
   */
  private log(a: Args): string[] {
    const entries = logOfTerms(a.list('terms').map(Number));
    const out: string[] = [];
    for (const id of a.list('id')) {
      const disk: Disk = {
        hardState: { currentTerm: a.int('term', entries.at(-1)?.term ?? 0), votedFor: a.has('vote') ? a.str('vote') : null, commitIndex: a.int('commit', 0) },
        entries: entries.slice(),
      };
      this.cluster.setDisk(id, disk);
      out.push(...this.cluster.flush(), this.cluster.status(id));
    }
    return out;
  }

  /**
   * §5.2: tick `id` until its election timeout (random, in [election, 2*election)) elapses and it
   * starts an election (or a pre-vote round, dissertation §9.6): until it has something to do.
   */
  private campaign(a: Args): string[] {
    const id = a.str('id');
    const node = this.cluster.node(id);
    if (node.role === 'leader') throw new Error(`campaign: ${id} is the leader`);
    let ticks = 0;
    while (!node.hasReady()) {
      if (++ticks > 3 * this.cluster.config(id).electionTimeoutTicks) throw new Error(`campaign: ${id} never timed out`);
      node.tick();
    }
    return [`${id} times out after ${ticks} ticks`, ...this.cluster.flush()];
  }

  /** `tick [id=1,2] [n=K]`: K ticks (default 1) of each replica named (default: every live one). */
  private tick(a: Args): string[] {
    const ids = a.has('id') ? a.list('id') : this.cluster.ids.filter((id) => this.cluster.replica(id).node !== null);
    const out: string[] = [];
    for (let k = 0; k < a.int('n', 1); k++) {
      for (const id of ids) this.cluster.node(id).tick();
      out.push(...this.cluster.flush());
    }
    return out;
  }

  /** Figure 2, Leaders: "If command received from client: append entry to local log". */
  private propose(a: Args): string[] {
    const id = a.str('id');
    const value = a.positional.join(' ');
    const result = this.cluster.node(id).propose(bytes(value));
    if (!result.ok) return [`${id} refuses ${value}: ${result.reason}${'leader' in result ? ` (leader ${result.leader ?? 'unknown'})` : ''}`];
    const entry = this.cluster.node(id).entryAt(result.index);
    return [`${id} proposes ${entry === undefined ? result.index : formatEntry(entry)}`, ...this.cluster.flush()];
  }

  /**
   * Delivers queued messages, oldest first, that match the filter (`from=`, `to=`, `type=`), up to
   * `n`, until none is left: the answers they cause are delivered too if they match. Each delivered
   * message is printed, then what its recipient did (indented).
   */
  private deliver(a: Args): string[] {
    const filter = a.filter();
    const limit = a.int('n', MAX_DELIVERIES + 1);
    const out: string[] = [];
    for (let k = 0; k < limit; k++) {
      if (k === MAX_DELIVERIES) throw new Error(`deliver: more than ${MAX_DELIVERIES} messages; is something looping?`);
      const m = this.cluster.take(filter);
      if (m === undefined) break;
      const lost = this.cluster.lost(m);
      if (lost !== null) {
        out.push(`${formatMessage(m)} (lost: ${lost})`);
        continue;
      }
      out.push(formatMessage(m));
      this.cluster.node(m.to).step(m);
      out.push(...this.cluster.flush().map((event) => `  ${event}`));
    }
    return orNone(out);
  }

  private heal(): string[] {
    this.cluster.heal();
    return [];
  }

  /** §5.1: the replica restarts from its disk (term, vote, log); it prints what it re-applies. */
  private restart(a: Args): string[] {
    this.cluster.restart(a.str('id'));
    return this.cluster.flush();
  }

  /** `cut 1-3 2-3`: those links lose every message, both ways; `cut id=3`: all of 3's links. */
  private cut(a: Args): string[] {
    const pairs = a.positional.map((p) => p.split('-') as [NodeId, NodeId]);
    if (a.has('id')) for (const id of a.list('id')) for (const other of this.cluster.ids) if (other !== id) pairs.push([id, other]);
    if (pairs.length === 0) throw new Error('cut: name links (1-3) or id=N');
    for (const [x, y] of pairs) this.cluster.cut(x, y);
    return [];
  }
}

/** `drop`: removes the queued messages matching the filter (at most `n`), as a lossy network would. */
function dropSome(c: TranscriptCluster, a: Args): string[] {
  const filter = a.filter();
  const out: string[] = [];
  for (let k = 0; k < a.int('n', Number.MAX_SAFE_INTEGER); k++) {
    const m = c.take(filter);
    if (m === undefined) break;
    out.push(`dropped ${formatMessage(m)}`);
  }
  return orNone(out);
}

function orNone(messages: string[]): string[] {
  return messages.length === 0 ? ['no messages'] : messages;
}
