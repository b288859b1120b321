import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onCleanup } from '../cleanup.js';
import type { RunningSystem, SystemDefinition } from './types.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export const helloBaseline: SystemDefinition = {
  name: 'hello',
  kind: 'baseline',
  failover: false,
  description: 'fastify hello-world in its own process: the HTTP ceiling, no storage, no consensus',
  unavailable: () => Promise.resolve(null),
  start: startHello,
};

async function startHello(): Promise<RunningSystem> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, 'hello-server.ts')], {
    cwd: join(benchDir, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  const unregister = onCleanup(async () => kill(), kill);
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit');
  const port = await firstPort(lines, child).catch((err: unknown) => {
    unregister();
    kill();
    throw err;
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    name: 'hello',
    nodes: 1,
    dialect: 'kv',
    targetUrl: url,
    urls: [url],
    metricsUrls: [],
    pids: () => (child.pid === undefined ? [] : [child.pid]),
    replicas: () => [{ id: 'hello', url, pid: child.pid ?? -1 }],
    leaderCounter: null,
    readCounters: () => Promise.resolve(null),
    stop: async () => {
      unregister();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(kill, 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function firstPort(lines: ReturnType<typeof createInterface>, child: ReturnType<typeof spawn>): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('hello server did not start in 20 s')), 20_000);
    const onExit = (): void => done(new Error('hello server exited during start'));
    const onLine = (line: string): void => {
      try {
        done(null, (JSON.parse(line) as { port: number }).port);
      } catch (err) {
        done(err as Error);
      }
    };
    function done(err: Error | null, port = 0): void {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.off('line', onLine);
      if (err === null) resolve(port);
      else reject(err);
    }
    child.once('exit', onExit);
    lines.once('line', onLine);
  });
}
