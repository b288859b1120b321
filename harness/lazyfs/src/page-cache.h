/*
 * The page cache: unsynced file data, per file (per inode of the directory below, so that it follows
 * the file through renames and unlinks, as a kernel's page cache does).
 */
#ifndef LAZYFS_PAGE_CACHE_H
#define LAZYFS_PAGE_CACHE_H

#include "lazyfs.h"

#define LAZYFS_PAGE_SIZE 4096

struct inode {
  dev_t dev;
  ino_t ino;
  int handles;           /* open FUSE handles on this file */
  bool dirty;            /* dirty pages or an unsynced size change */
  int fd;                /* our own descriptor (read-write) while dirty, for writeback after close */
  off_t size;            /* the size the file has for its readers (while dirty) */
  off_t floor;           /* the smallest size since the last flush: bytes at or past it that are not
                            in a dirty page read as zeros (the file was truncated there) */
  void *pages;           /* tsearch(3) tree of struct page, by index */
  uint64_t npages;
  uint64_t dirty_since;  /* orders dirty files by age: writeback takes the oldest first */
  struct inode *next;    /* hash chain */
};

/* The inode's entry, or NULL when it has no open handle and no unsynced data. */
struct inode *inode_find(dev_t dev, ino_t ino);
/* The inode's entry, created when missing; NULL when out of memory. */
struct inode *inode_get(dev_t dev, ino_t ino);
/* Forget the entry if nothing holds it (no handle, nothing dirty). */
void inode_release(struct inode *in);

/* Reads through the cache; `fd` is a readable descriptor of the file (used when it is clean). */
int cache_read(struct inode *in, int fd, char *buf, size_t size, off_t off);
/* Writes into dirty pages; `fd` is a read-write descriptor of the file. Returns size or -errno. */
int cache_write(struct inode *in, int fd, const char *buf, size_t size, off_t off);
/* An unsynced size change (truncate, ftruncate, O_TRUNC). */
int cache_truncate(struct inode *in, int fd, off_t size);
/* Make the file's data durable: write the dirty pages and the size to the directory below. The
   entry may be freed (when no handle holds it): do not use `in` afterwards. */
int cache_flush(struct inode *in);
/* Forget the file's unsynced data. The entry may be freed, as for cache_flush. */
uint64_t cache_drop(struct inode *in);
/* The file's size for its readers, when it has an unsynced one; -1 otherwise. */
off_t cache_size(dev_t dev, ino_t ino);

/* Past the bound on dirty bytes, write back the oldest dirty files until under it again. */
void cache_writeback_over_bound(void);
/* Every file: flush (sync) or drop (power loss). Returns the bytes of dirty pages concerned. */
uint64_t cache_flush_all(uint64_t *files);
uint64_t cache_drop_all(uint64_t *files);

#endif
