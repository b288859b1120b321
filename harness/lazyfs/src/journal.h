/*
 * The namespace journal: every create, mkdir, unlink, rmdir, rename, link, symlink and mknod is
 * applied to the directory below at once and recorded with what it takes to undo it. An entry is
 * durable once each directory it changed has been fsync'ed after it (POSIX: fsync of a directory
 * makes its entries durable), and no older entry it depends on is still pending. Durable entries are
 * dropped (a removed file's saved copy is deleted for real); a power loss undoes the rest, newest
 * first. The caller holds lfs.lock. Paths are relative to the directory below (lazyfs_rel).
 */
#ifndef LAZYFS_JOURNAL_H
#define LAZYFS_JOURNAL_H

#include "lazyfs.h"

enum journal_kind {
  J_CREATE, /* a new file, symlink, device node or hard link: undone by unlinking it */
  J_MKDIR   /* a new directory: undone by removing it with everything in it */
};

/* Record a name the caller has just created. On failure (-errno) the caller undoes it itself. */
int journal_created(const char *rel, enum journal_kind kind);
/* unlink (dir false) or rmdir (dir true): the entry is moved into the trash, to come back if the
   removal never becomes durable. */
int journal_remove(const char *rel, bool dir);
/* rename(2) with flags 0, RENAME_NOREPLACE or RENAME_EXCHANGE; a replaced target is kept in the trash. */
int journal_rename(const char *from, const char *to, unsigned int flags);
/* The directory (dev, ino) was fsync'ed: entries waiting for it may become durable. */
void journal_dir_synced(dev_t dev, ino_t ino);

uint64_t journal_pending(void);
/* Power loss: undo every pending entry, newest first. Returns how many; *errors counts failures. */
uint64_t journal_undo_all(uint64_t *errors);
/* sync or clean unmount: every pending entry becomes durable. Returns how many. */
uint64_t journal_commit_all(void);
/* Remove what an earlier, uncleanly stopped run left in the trash. */
void journal_clear_trash(void);

#endif
