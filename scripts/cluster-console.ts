import { createInterface } from 'node:readline';
import type { Cluster } from '../harness/cluster/cluster.js';
import { call } from '../harness/client/kv-client.js';
import { describePowerLoss as describeLoss } from '../harness/lazyfs/lazyfs.js';

const help = `commands: status | kill <id> | restart <id> | wipe <id> | pause <id> | resume <id>
          power-off <id> | power-off all   (with --lazyfs: lose every write not yet durable)
          add [<id>] [learner] | remove <id> | members | help   (add/remove/members: Raft membership changes)`;

/**
 * Commands typed into the cluster script's terminal, to break and repair the cluster by hand:
 * `kill n2`, `restart n2` (from its own data directory), `wipe n2` (restart with an empty one).
 */
export function startConsole(cluster: Cluster, print: (line: string) => void): void {
  if (process.stdin.isTTY !== true && process.stdin.readable !== true) return;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => void run(cluster, line.trim(), print).catch((err: Error) => print(`error: ${err.message}`)));
}

async function run(cluster: Cluster, line: string, print: (line: string) => void): Promise<void> {
  const [cmd, id, extra] = line.split(/\s+/);
  if (cmd === undefined || cmd === '') return;
  const needId = (): string => {
    if (id === undefined) throw new Error(`${cmd} needs a replica id, e.g. ${cmd} n1`);
    cluster.replica(id);
    return id;
  };
  switch (cmd) {
    case 'status':
      for (const r of cluster.replicas) {
        const s = r.state === 'up' ? await cluster.status(r.id) : null;
        print(`  ${r.id} ${r.state.padEnd(7)} pid ${r.process?.pid ?? '-'}  ${s === null ? '' : `role ${s['role']} ${epochOf(s)} leader ${s['leader']} commit ${s['commitIndex']} applied ${s['appliedIndex']}`}`);
      }
      return;
    case 'kill':
      await cluster.kill(needId());
      return print(`killed ${id}`);
    case 'restart':
      await cluster.restart(needId());
      return print(`restarted ${id}`);
    case 'wipe':
      await cluster.restart(needId(), { wipe: true });
      return print(`restarted ${id} with an empty data directory`);
    case 'pause':
      cluster.pause(needId());
      return print(`paused ${id} (SIGSTOP)`);
    case 'resume':
      cluster.resume(needId());
      return print(`resumed ${id} (SIGCONT)`);
    case 'power-off': {
      if (id === 'all') {
        // A whole-cluster power failure: every replica at once, then all restart on what survived.
        const lost = await cluster.powerOffAll();
        for (const [rid, l] of Object.entries(lost)) print(`  ${rid} lost power: ${describeLoss(l)}`);
        print('restarting every replica on what survived...');
        await Promise.all(cluster.replicas.map((r) => cluster.restart(r.id)));
        return print('every replica restarted');
      }
      const lost = await cluster.powerOff(needId());
      return print(`${id} lost power: ${describeLoss(lost)}; type "restart ${id}" to start it on what survived`);
    }
    case 'add': {
      // `add`, `add n4`, `add learner`, `add n4 learner` (dissertation §4.2.1)
      const learner = id === 'learner' || extra === 'learner';
      const named = id !== undefined && id !== 'learner' ? id : undefined;
      print(`adding ${named ?? 'a replica'}${learner ? ' as a learner' : ''}: it starts, catches up, then joins...`);
      const r = await cluster.addReplica({ ...(named === undefined ? {} : { id: named }), learner });
      return print(`added ${r.id} (${learner ? 'learner' : 'voter'}) http ${r.httpUrl} peer ${r.host}:${r.peerPort}`);
    }
    case 'remove':
      await cluster.removeReplica(needId());
      return print(`removed ${id} from the configuration and stopped it`);
    case 'members': {
      const up = cluster.replicas.find((r) => r.state === 'up');
      if (up === undefined) return print('no replica is up');
      const m = (await call(up.httpUrl, 'GET', '/admin/members', undefined, { headers: cluster.adminHeaders })).body;
      const ids = (key: string) => ((m[key] as Array<{ id: string }> | undefined) ?? []).map((x) => x.id).join(', ') || '-';
      return print(`  voters ${ids('voters')}   learners ${ids('learners')}   (config entry ${m['index']}, ${m['committed'] === true ? 'committed' : 'not committed yet'})`);
    }
    default:
      return print(help);
  }
}

/** Raft's term, Multi-Paxos's ballot, PBFT's view: whichever the replica reports. */
function epochOf(status: Record<string, unknown>): string {
  if (status['term'] !== undefined) return `term ${status['term']}`;
  const ballot = status['ballot'] as { round?: number; leader?: string } | undefined;
  if (ballot !== undefined) return `ballot ${ballot.round}.${ballot.leader}`;
  return `view ${status['view']}`;
}
