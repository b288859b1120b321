/*
 * lazyfs: a FUSE passthrough filesystem that models a machine's volatile state, so that a power
 * failure can be simulated on command (README.md in this folder explains the model).
 *
 * - File data written but not yet fsync'ed (fsync or fdatasync of that file) lives in this
 *   process's memory, in 4 KiB pages per file (page-cache.c): reads see it, the disk below does not.
 * - Namespace changes (create, mkdir, unlink, rmdir, rename, link, symlink, mknod) are applied to
 *   the disk below at once, but journalled with what it takes to undo them (journal.c); each becomes
 *   durable once every directory it changed has been fsync'ed.
 * - On `power-loss` (control.c) both are thrown away: dirty pages are dropped and the journal is
 *   undone newest first, so the disk below holds exactly what was durable.
 *
 * One mutex serialises every operation, the control channel's commands included: a power loss
 * never races a write. The FUSE loop itself is single-threaded (-s).
 */
#ifndef LAZYFS_H
#define LAZYFS_H

#define FUSE_USE_VERSION 31
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Counters reported by the `stats` command. */
struct lazyfs_counters {
  uint64_t dirty_bytes;      /* bytes held in dirty pages (whole 4 KiB pages, as a kernel counts them) */
  uint64_t dirty_files;      /* files with dirty pages or an unsynced size change */
  uint64_t fsyncs;           /* fsync/fdatasync calls on files */
  uint64_t dir_fsyncs;       /* fsync calls on directories */
  uint64_t writebacks;       /* files written back because the dirty bytes passed the bound */
  uint64_t writeback_bytes;  /* bytes of dirty pages those writebacks made durable */
  uint64_t power_losses;
  uint64_t forced_commits;   /* journal entries made durable because the journal was full */
};

struct lazyfs {
  int root_fd;               /* the directory below: the durable state plus journalled changes */
  int trash_fd;              /* entries removed or replaced, kept until their removal is durable */
  uint64_t max_dirty_bytes;  /* past this, the oldest dirty files are written back (made durable) */
  pthread_mutex_t lock;
  bool stopping;             /* unmounting: the control channel refuses further commands */
  struct lazyfs_counters stats;
};

extern struct lazyfs lfs;

/* A FUSE path ("/a/b") relative to the directory below ("a/b"; "." for the root). */
const char *lazyfs_rel(const char *path);

/* pread/pwrite that retry short transfers; pread stops at end of file. -errno on failure. */
ssize_t lazyfs_pread_full(int fd, void *buf, size_t size, off_t off);
ssize_t lazyfs_pwrite_full(int fd, const void *buf, size_t size, off_t off);

/* Commands of the control channel; each writes a one-line JSON answer into `reply`. */
void lazyfs_power_loss(char *reply, size_t size);
void lazyfs_sync_all(char *reply, size_t size);
void lazyfs_report_stats(char *reply, size_t size);

#endif
