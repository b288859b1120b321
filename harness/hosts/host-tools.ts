/**
 * The Linux tools the hosts module drives, and the check that they are here. Everything is done
 * with iproute2 (`ip netns`, `ip link`, `ip addr`; ip-netns(8), ip-link(8)), iptables (nft backend
 * on Debian; iptables(8), iptables-restore(8)) and `tc` (tc-tbf(8)), run as child processes: no
 * native binding, so a student can type every command the harness runs.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Thrown when hosts with their own network cannot be made here: says what is missing. */
export class NetnsUnavailable extends Error {}

/** The commands needed, with the Debian package that has each. */
const TOOLS: Array<[string, string]> = [
  ['ip', 'iproute2'],
  ['tc', 'iproute2'],
  ['iptables', 'iptables'],
  ['iptables-restore', 'iptables'],
];

/** Where `command` is on PATH (plus the sbin directories, where Debian puts these), or null. */
export function which(command: string): string | null {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const path = join(dir, command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why hosts with their own network cannot be made here, or null when they can. */
export function netnsMissing(env: { platform: string; uid: number | null } = { platform: process.platform, uid: process.getuid?.() ?? null }): string | null {
  if (env.platform !== 'linux') return `--hosts netns needs Linux network namespaces, not ${env.platform}`;
  if (env.uid !== 0) return '--hosts netns needs root (it makes network namespaces, a bridge and iptables rules)';
  const missing = TOOLS.filter(([cmd]) => which(cmd) === null);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return `--hosts netns needs ${missing.map(([cmd]) => cmd).join(', ')}; on Debian: apt-get install ${pkgs}`;
  }
  return null;
}

/** Throws NetnsUnavailable with the reason, when netnsMissing() has one. */
export function requireNetnsTools(): void {
  const missing = netnsMissing();
  if (missing !== null) throw new NetnsUnavailable(missing);
}

/** Run a tool; rejects with its stderr in the message. `input` goes to its stdin. */
export async function sh(command: string, args: readonly string[], input?: string): Promise<string> {
  if (input === undefined) {
    try {
      return (await execFileAsync(command, [...args])).stdout;
    } catch (err) {
      throw toolError(command, args, err);
    }
  }
  return new Promise((resolve, reject) => {
    const child = execFile(command, [...args], (err, stdout) => (err === null ? resolve(stdout) : reject(toolError(command, args, err))));
    child.stdin?.end(input);
  });
}

/** The same, synchronously: only for cleanup in a process 'exit' handler, where nothing async runs. */
export function shSync(command: string, args: readonly string[]): void {
  execFileSync(command, [...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Run a tool and ignore its failure (removing what may be gone already). */
export async function shQuiet(command: string, args: readonly string[]): Promise<void> {
  await sh(command, args).catch(() => undefined);
}

function toolError(command: string, args: readonly string[], err: unknown): Error {
  const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
  return new Error(`${command} ${args.join(' ')}: ${stderr || (err as Error).message}`);
}
