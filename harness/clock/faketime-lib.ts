/**
 * Where libfaketime is, and the environment that runs one process under it with its own clock
 * file. libfaketime (https://github.com/wolfcw/libfaketime, Debian package `libfaketime`, pulled in
 * by `faketime`) is an LD_PRELOAD library that replaces clock_gettime, gettimeofday, time and the
 * sleeping and waiting calls (nanosleep, poll, epoll_wait, ...) of the process it is loaded into.
 * Node reads both of its clocks through glibc's clock_gettime: Date.now() CLOCK_REALTIME, and
 * libuv (timers, performance.now(), process.hrtime) CLOCK_MONOTONIC, so both are faked; libuv's
 * epoll_wait timeouts are scaled by the rate, so `setTimeout(f, 1000)` under `x2` fires after
 * half a second of real time. Other processes are untouched: the library is in this process only.
 */
import { existsSync, rmSync } from 'node:fs';

/**
 * Candidate paths, Debian's multiarch directories first. The multi-threaded build
 * (libfaketimeMT) serialises its clock calls with a mutex; Node reads the clocks from several
 * threads (the main thread, libuv's pool, V8's), and the single-threaded build would let two of
 * them parse the clock file into the same static buffer at once (README, section 2).
 */
const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  '/usr/local/lib/faketime/libfaketimeMT.so.1',
  '/usr/lib/faketime/libfaketimeMT.so.1',
];

/** The libfaketime library to preload (FAKETIME_LIB overrides), or null when none is installed. */
export function findFaketime(): string | null {
  const override = process.env['FAKETIME_LIB'];
  if (override !== undefined && override !== '') return existsSync(override) ? override : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Why clock faults cannot run here, or null when they can. */
export function faketimeMissing(): string | null {
  if (process.platform !== 'linux') return `clock faults need Linux (LD_PRELOAD of libfaketime), not ${process.platform}`;
  const override = process.env['FAKETIME_LIB'];
  if (override !== undefined && override !== '' && findFaketime() === null) return `FAKETIME_LIB=${override} does not exist`;
  if (findFaketime() === null) {
    return `libfaketime is not installed (looked for ${CANDIDATES.join(', ')}; set FAKETIME_LIB to another path); on Debian: apt-get install faketime`;
  }
  return null;
}

/**
 * The environment for a process whose clocks follow `clockFile` (one libfaketime setting, see
 * clock-model.ts). The base environment's own libfaketime settings are dropped: FAKETIME would take
 * priority over the file (README, 4a), FAKETIME_XRESET and FAKETIME_DONT_RESET change how settings
 * are applied.
 */
export function faketimeEnv(base: NodeJS.ProcessEnv, library: string, clockFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith('FAKETIME') || k === 'DONT_FAKE_MONOTONIC' || k === 'LD_PRELOAD' || k === 'LC_ALL') continue;
    env[k] = v;
  }
  const preload = base['LD_PRELOAD'];
  return {
    ...env,
    LD_PRELOAD: preload === undefined || preload === '' ? library : `${library}:${preload}`,
    FAKETIME_TIMESTAMP_FILE: clockFile,
    // Read the file at every clock reading, so a change applies at once (README, 4e: the setting
    // is cached for 10 s by default). Measured: a reading then costs about 12 µs (0.26 µs without
    // libfaketime), and a 3-replica Raft cluster serving about 100 operations a second read its
    // clocks 850 to 1,300 times a second per replica (strace counting the clock file's opens): 1 to
    // 2% of a core each.
    FAKETIME_NO_CACHE: '1',
    // "@<seconds since the epoch>" in the file (clock-model.ts).
    FAKETIME_FMT: '%s',
    // File timestamps (stat) stay real: they are not a clock the replicas use, and tools that
    // compare them with the wall clock (tsx's cache) should not be confused.
    NO_FAKE_STAT: '1',
    // libfaketime parses "0.5" with atof, which follows LC_NUMERIC once a program calls setlocale.
    LC_NUMERIC: 'C',
  };
}

/**
 * libfaketime 0.9.10 creates a POSIX semaphore and a shared memory object for every process it
 * starts in (`/dev/shm/sem.faketime_sem_<pid>`, `/dev/shm/faketime_shm_<pid>`: ft_shm_create in
 * libfaketime.c, to share its start time with child processes) and removes them when the process
 * exits normally. A replica killed with SIGKILL leaves them behind (README, "Cleaning up shared
 * memory"), so the harness removes them once the process has exited.
 */
export function removeFaketimeShm(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) return;
  for (const name of [`/dev/shm/faketime_shm_${pid}`, `/dev/shm/sem.faketime_sem_${pid}`]) rmSync(name, { force: true });
}
