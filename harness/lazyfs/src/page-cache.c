/*
 * The page cache (see page-cache.h). A clean file is read straight from the directory below. The
 * first unsynced change makes it dirty: from then on its size lives here, and every 4 KiB page it
 * writes is copied into memory (read-modify-write for partial pages, from what the reader would
 * have seen). fsync writes the pages back, which is the only way, besides writeback past the
 * bound, that file data reaches the directory below. The caller holds lfs.lock.
 */
#include "page-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUCKETS 4096
#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct page {
  uint64_t index; /* first member: the tree compares keys that are only an index */
  unsigned char data[LAZYFS_PAGE_SIZE];
};

static struct inode *table[BUCKETS];
static uint64_t dirty_clock;

static size_t bucket(dev_t dev, ino_t ino) {
  return (size_t)(((uint64_t)ino * 11400714819323198485ull) ^ (uint64_t)dev) % BUCKETS;
}

static int compare_index(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

struct inode *inode_find(dev_t dev, ino_t ino) {
  for (struct inode *in = table[bucket(dev, ino)]; in != NULL; in = in->next)
    if (in->dev == dev && in->ino == ino) return in;
  return NULL;
}

struct inode *inode_get(dev_t dev, ino_t ino) {
  struct inode *in = inode_find(dev, ino);
  if (in != NULL) return in;
  in = calloc(1, sizeof *in);
  if (in == NULL) return NULL;
  in->dev = dev;
  in->ino = ino;
  in->fd = -1;
  size_t b = bucket(dev, ino);
  in->next = table[b];
  table[b] = in;
  return in;
}

void inode_release(struct inode *in) {
  if (in->dirty || in->handles > 0) return;
  for (struct inode **p = &table[bucket(in->dev, in->ino)]; *p != NULL; p = &(*p)->next) {
    if (*p == in) {
      *p = in->next;
      break;
    }
  }
  if (in->fd >= 0) close(in->fd);
  free(in);
}

static struct page *find_page(struct inode *in, uint64_t index) {
  void *found = tfind(&index, &in->pages, compare_index);
  return found == NULL ? NULL : *(struct page **)found;
}

/* The first unsynced change: remember what the disk has, and keep a descriptor of our own. */
static int begin_dirty(struct inode *in, int fd) {
  if (in->dirty) return 0;
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return -errno;
  in->fd = own;
  in->size = st.st_size;
  in->floor = st.st_size;
  in->dirty = true;
  in->dirty_since = ++dirty_clock;
  lfs.stats.dirty_files++;
  return 0;
}

/* What a reader sees where no dirty page is: the disk below `floor`, zeros from it on. */
static int read_below(struct inode *in, unsigned char *dst, size_t n, off_t pos) {
  memset(dst, 0, n);
  if (pos >= in->floor) return 0;
  ssize_t got = lazyfs_pread_full(in->fd, dst, MIN((off_t)n, in->floor - pos), pos);
  return got < 0 ? (int)got : 0;
}

int cache_read(struct inode *in, int fd, char *buf, size_t size, off_t off) {
  if (!in->dirty) {
    ssize_t got = lazyfs_pread_full(fd, buf, size, off);
    return (int)got;
  }
  if (off >= in->size) return 0;
  size = (size_t)MIN((off_t)size, in->size - off);
  for (size_t done = 0; done < size;) {
    off_t pos = off + (off_t)done;
    uint64_t index = (uint64_t)pos / LAZYFS_PAGE_SIZE;
    size_t within = (size_t)(pos % LAZYFS_PAGE_SIZE);
    size_t n = MIN(LAZYFS_PAGE_SIZE - within, size - done);
    struct page *p = find_page(in, index);
    if (p != NULL) {
      memcpy(buf + done, p->data + within, n);
    } else {
      int r = read_below(in, (unsigned char *)buf + done, n, pos);
      if (r < 0) return r;
    }
    done += n;
  }
  return (int)size;
}

int cache_write(struct inode *in, int fd, const char *buf, size_t size, off_t off) {
  int r = begin_dirty(in, fd);
  if (r < 0) return r;
  for (size_t done = 0; done < size;) {
    off_t pos = off + (off_t)done;
    uint64_t index = (uint64_t)pos / LAZYFS_PAGE_SIZE;
    size_t within = (size_t)(pos % LAZYFS_PAGE_SIZE);
    size_t n = MIN(LAZYFS_PAGE_SIZE - within, size - done);
    struct page *p = find_page(in, index);
    if (p == NULL) {
      p = malloc(sizeof *p);
      if (p == NULL) return -ENOMEM;
      p->index = index;
      /* A partial page starts as what a reader saw (bytes past the end read as zeros). */
      if (n < LAZYFS_PAGE_SIZE && (r = read_below(in, p->data, LAZYFS_PAGE_SIZE, (off_t)index * LAZYFS_PAGE_SIZE)) < 0) {
        free(p);
        return r;
      }
      if (tsearch(p, &in->pages, compare_index) == NULL) {
        free(p);
        return -ENOMEM;
      }
      in->npages++;
      lfs.stats.dirty_bytes += LAZYFS_PAGE_SIZE;
    }
    memcpy(p->data + within, buf + done, n);
    done += n;
  }
  if (off + (off_t)size > in->size) in->size = off + (off_t)size;
  return (int)size;
}

/* twalk(3) has no context argument; we hold lfs.lock, so one collection at a time. */
static struct page **collected;
static uint64_t ncollected;
static uint64_t collect_from;

static void collect(const void *node, VISIT which, int depth) {
  (void)depth;
  if (which != postorder && which != leaf) return; /* in order: each node once */
  struct page *p = *(struct page *const *)node;
  if (p->index >= collect_from) collected[ncollected++] = p;
}

/* The pages from index `from` on, in index order; NULL (and *n = 0) when there are none. */
static struct page **pages_from(struct inode *in, uint64_t from, uint64_t *n) {
  *n = 0;
  if (in->npages == 0) return NULL;
  collected = malloc(in->npages * sizeof *collected);
  if (collected == NULL) return NULL;
  ncollected = 0;
  collect_from = from;
  twalk(in->pages, collect);
  *n = ncollected;
  return collected;
}

static void free_pages(struct inode *in) {
  tdestroy(in->pages, free);
  in->pages = NULL;
  lfs.stats.dirty_bytes -= in->npages * LAZYFS_PAGE_SIZE;
  in->npages = 0;
}

int cache_truncate(struct inode *in, int fd, off_t size) {
  int r = begin_dirty(in, fd);
  if (r < 0) return r;
  if (size < in->size) {
    /* Pages wholly past the new end go; the one the end falls in keeps zeros after it. */
    uint64_t n;
    struct page **gone = pages_from(in, ((uint64_t)size + LAZYFS_PAGE_SIZE - 1) / LAZYFS_PAGE_SIZE, &n);
    if (gone == NULL && in->npages > 0) return -ENOMEM;
    for (uint64_t i = 0; i < n; i++) {
      tdelete(gone[i], &in->pages, compare_index);
      free(gone[i]);
    }
    free(gone);
    in->npages -= n;
    lfs.stats.dirty_bytes -= n * LAZYFS_PAGE_SIZE;
    struct page *last = size % LAZYFS_PAGE_SIZE == 0 ? NULL : find_page(in, (uint64_t)size / LAZYFS_PAGE_SIZE);
    if (last != NULL) memset(last->data + size % LAZYFS_PAGE_SIZE, 0, LAZYFS_PAGE_SIZE - (size_t)(size % LAZYFS_PAGE_SIZE));
    if (size < in->floor) in->floor = size;
  }
  in->size = size;
  return 0;
}

/* Back to clean: the pages are written or forgotten. Frees the entry if nothing holds it. */
static void end_dirty(struct inode *in) {
  free_pages(in);
  close(in->fd);
  in->fd = -1;
  in->dirty = false;
  lfs.stats.dirty_files--;
  inode_release(in);
}

int cache_flush(struct inode *in) {
  if (!in->dirty) return 0;
  struct stat st;
  if (fstat(in->fd, &st) < 0) return -errno;
  /* Truncated below what the disk has: cut the disk there first, so that what is not rewritten
     reads as zeros, as it did through the cache. */
  if (st.st_size > in->floor && ftruncate(in->fd, in->floor) < 0) return -errno;
  uint64_t n;
  struct page **pages = pages_from(in, 0, &n);
  if (pages == NULL && in->npages > 0) return -ENOMEM;
  for (uint64_t i = 0; i < n; i++) {
    off_t start = (off_t)pages[i]->index * LAZYFS_PAGE_SIZE;
    if (start >= in->size) continue;
    ssize_t w = lazyfs_pwrite_full(in->fd, pages[i]->data, (size_t)MIN((off_t)LAZYFS_PAGE_SIZE, in->size - start), start);
    if (w < 0) {
      free(pages);
      return (int)w; /* still dirty: a later flush writes everything again */
    }
  }
  free(pages);
  if (ftruncate(in->fd, in->size) < 0) return -errno;
  end_dirty(in);
  return 0;
}

uint64_t cache_drop(struct inode *in) {
  if (!in->dirty) return 0;
  uint64_t bytes = in->npages * LAZYFS_PAGE_SIZE;
  end_dirty(in);
  return bytes;
}

off_t cache_size(dev_t dev, ino_t ino) {
  struct inode *in = inode_find(dev, ino);
  return in != NULL && in->dirty ? in->size : -1;
}

static struct inode *oldest_dirty(void) {
  struct inode *oldest = NULL;
  for (size_t b = 0; b < BUCKETS; b++)
    for (struct inode *in = table[b]; in != NULL; in = in->next)
      if (in->dirty && (oldest == NULL || in->dirty_since < oldest->dirty_since)) oldest = in;
  return oldest;
}

void cache_writeback_over_bound(void) {
  while (lfs.stats.dirty_bytes > lfs.max_dirty_bytes) {
    struct inode *in = oldest_dirty();
    if (in == NULL) return;
    uint64_t bytes = in->npages * LAZYFS_PAGE_SIZE;
    if (cache_flush(in) < 0) return; /* the disk below failed: keep the data, try again later */
    lfs.stats.writebacks++;
    lfs.stats.writeback_bytes += bytes;
  }
}

/* Every dirty file, flushed or dropped; the hash chains change under us, so restart each bucket. */
static uint64_t for_all_dirty(bool flush, uint64_t *files) {
  uint64_t bytes = 0;
  *files = 0;
  for (size_t b = 0; b < BUCKETS; b++) {
    for (struct inode *in = table[b]; in != NULL;) {
      if (!in->dirty) {
        in = in->next;
        continue;
      }
      uint64_t held = in->npages * LAZYFS_PAGE_SIZE;
      if (flush) {
        if (cache_flush(in) < 0) {
          in = in->next; /* it stays dirty; reported by `stats` */
          continue;
        }
      } else {
        cache_drop(in);
      }
      bytes += held;
      (*files)++;
      in = table[b];
    }
  }
  return bytes;
}

uint64_t cache_flush_all(uint64_t *files) { return for_all_dirty(true, files); }
uint64_t cache_drop_all(uint64_t *files) { return for_all_dirty(false, files); }
