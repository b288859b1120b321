/** The runner's side of the load-generator child process (see load-worker.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type {
  FailoverLoadResult,
  FailoverLoadSpec,
  PreloadResult,
  PreloadSpec,
  RunResult,
  RunSpec,
  WorkerProgress,
  WorkerReply,
  WorkerRequest,
} from './load-protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; progress: OnProgress };
/** Progress lines of a running command (soak windows as they close, the preload's count). */
export type OnProgress = (p: WorkerProgress) => void;
const ignore: OnProgress = () => undefined;
type Command = { cmd: 'run'; spec: RunSpec } | { cmd: 'preload'; spec: PreloadSpec } | { cmd: 'failover'; spec: FailoverLoadSpec };

export class LoadGenerator {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[load-worker] ${chunk.toString()}`));
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`load worker exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  static start(): LoadGenerator {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'load-worker.ts')], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new LoadGenerator(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  run(spec: RunSpec, progress: OnProgress = ignore): Promise<RunResult> {
    return this.send({ cmd: 'run', spec }, progress) as Promise<RunResult>;
  }

  preload(spec: PreloadSpec, progress: OnProgress = ignore): Promise<PreloadResult> {
    return this.send({ cmd: 'preload', spec }, progress) as Promise<PreloadResult>;
  }

  failover(spec: FailoverLoadSpec): Promise<FailoverLoadResult> {
    return this.send({ cmd: 'failover', spec }) as Promise<FailoverLoadResult>;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** For exit handlers: synchronous and final. */
  killNow(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private send(command: Command, progress: OnProgress = ignore): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('load worker is not running'));
    const id = this.nextId++;
    const request = { id, ...command } as WorkerRequest;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.child.stdin!.write(JSON.stringify(request) + '\n');
    });
  }

  private onLine(line: string): void {
    let reply: WorkerReply;
    try {
      reply = JSON.parse(line) as WorkerReply;
    } catch {
      process.stderr.write(`[load-worker] ${line}\n`);
      return;
    }
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    if ('progress' in reply) return p.progress(reply.progress);
    this.pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(`load worker: ${reply.error}`));
  }
}
