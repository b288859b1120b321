/** The runner's side of the soak's sampler process (see soak-sampler.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import type { SamplerReply, SamplerResult, SamplerSpec } from './soak-protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

export class SamplerProcess {
  private readonly replies: SamplerReply[] = [];
  private waiter: ((r: SamplerReply) => void) | null = null;
  private exited: SamplerReply | null = null;
  private readonly unregister: () => void;

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let reply: SamplerReply;
      try {
        reply = JSON.parse(line) as SamplerReply;
      } catch {
        process.stderr.write(`[soak-sampler] ${line}\n`);
        return;
      }
      if (this.waiter !== null) this.waiter(reply);
      else this.replies.push(reply);
    });
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[soak-sampler] ${chunk.toString()}`));
    child.once('exit', (code, signal) => {
      this.exited = { error: `sampler exited (code ${code}, signal ${signal})` };
      this.waiter?.(this.exited);
    });
    this.unregister = onCleanup(() => this.close(), () => this.killNow());
  }

  /** Starts the process and resolves once it has looked at every replica once. */
  static async start(spec: SamplerSpec): Promise<SamplerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'soak-sampler.ts')], {
      cwd: join(here, '..'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const sampler = new SamplerProcess(child);
    child.stdin!.write(JSON.stringify(spec) + '\n');
    const first = await sampler.next();
    if (!('ready' in first)) {
      await sampler.close();
      throw new Error(`soak sampler: ${'error' in first ? first.error : 'unexpected reply'}`);
    }
    return sampler;
  }

  /** Stops sampling and returns everything it recorded; the process then exits. */
  async stop(): Promise<SamplerResult> {
    this.child.stdin!.write('stop\n');
    const reply = await this.next();
    await this.close();
    if ('result' in reply) return reply.result;
    throw new Error(`soak sampler: ${'error' in reply ? reply.error : 'unexpected reply'}`);
  }

  async close(): Promise<void> {
    this.unregister();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private next(): Promise<SamplerReply> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.exited !== null) return Promise.resolve(this.exited);
    return new Promise((resolve) => {
      this.waiter = (r) => {
        this.waiter = null;
        resolve(r);
      };
    });
  }
}
