/**
 * Resident set size of a process, from the `VmRSS:` line of /proc/<pid>/status (Linux, proc(5):
 * "Resident set size ... the sum of RssAnon, RssFile, and RssShmem", in kB). The same number
 * `ps -o rss` and prom-client's `process_resident_memory_bytes` report, read from outside the
 * process so that it works for etcd and for replicas that export nothing.
 */
import { readFileSync } from 'node:fs';

/** Bytes, or null when the process is gone (or this is not Linux). */
export function rssBytes(pid: number): number | null {
  if (pid <= 0) return null;
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

export function parseVmRss(status: string): number | null {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m === null ? null : Number(m[1]) * 1024;
}
