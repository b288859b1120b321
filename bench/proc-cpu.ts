/** CPU time of processes, from /proc/<pid>/stat (Linux): user and system seconds. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface CpuTimes {
  userS: number;
  systemS: number;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime and stime of one process (threads included); zeros when it is gone or not Linux. */
export function processCpu(pid: number): CpuTimes {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const hz = clockTicks();
    return { userS: Number(fields[11]) / hz, systemS: Number(fields[12]) / hz };
  } catch {
    return { userS: 0, systemS: 0 };
  }
}

export function totalCpu(pids: number[]): CpuTimes {
  const t = { userS: 0, systemS: 0 };
  for (const pid of pids) {
    const c = processCpu(pid);
    t.userS += c.userS;
    t.systemS += c.systemS;
  }
  return t;
}

export function cpuDelta(before: CpuTimes, after: CpuTimes): CpuTimes {
  return { userS: after.userS - before.userS, systemS: after.systemS - before.systemS };
}
