/*
 * lazyfs: the FUSE operations and main(). See lazyfs.h for the model and README.md for its use:
 *
 *   lazyfs MOUNTPOINT --under=DIR --trash=DIR --control=SOCKET [--max-dirty=64M]
 *          [--parent-pid=PID] [-o fsname=NAME,subtype=lazyfs]
 *
 * Built on libfuse's high-level API (fuse.h), in the manner of its passthrough examples
 * (example/passthrough.c, passthrough_fh.c): every operation works on the directory below through
 * *at() calls relative to one directory descriptor, and open files keep a descriptor of the file
 * below. Three settings make the kernel's caches agree with ours (libfuse's fuse_config docs):
 * no writeback cache (every write reaches us, so the kernel never holds dirty data of its own),
 * zero entry/attribute timeouts (after a power loss the kernel asks again what exists and how
 * big it is), and no keep_cache (each open drops the kernel's cached pages of the file).
 */
#include "lazyfs.h"
#include "control.h"
#include "journal.h"
#include "page-cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct lazyfs lfs = {.root_fd = -1, .trash_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .max_dirty_bytes = 64ull << 20};

enum { FILE_HANDLE = 0x66696c65, DIR_HANDLE = 0x64697220 };

struct handle {
  int kind; /* FILE_HANDLE */
  int fd;
  struct inode *in;
  bool sync_writes; /* opened O_SYNC or O_DSYNC: every write is durable before it returns */
};

struct dir_handle {
  int kind; /* DIR_HANDLE */
  DIR *dp;
  dev_t dev;
  ino_t ino;
};

static void lock(void) { pthread_mutex_lock(&lfs.lock); }
static void unlock(void) { pthread_mutex_unlock(&lfs.lock); }

static struct handle *file_of(struct fuse_file_info *fi) {
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  return h != NULL && h->kind == FILE_HANDLE ? h : NULL;
}

static struct dir_handle *dir_of(struct fuse_file_info *fi) {
  struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
  return d != NULL && d->kind == DIR_HANDLE ? d : NULL;
}

const char *lazyfs_rel(const char *path) {
  while (*path == '/') path++;
  return *path == '\0' ? "." : path;
}

ssize_t lazyfs_pread_full(int fd, void *buf, size_t size, off_t off) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, (char *)buf + done, size - done, off + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

ssize_t lazyfs_pwrite_full(int fd, const void *buf, size_t size, off_t off) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, (const char *)buf + done, size - done, off + (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

/* ---------- attributes ---------- */

static int lfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  lock();
  struct handle *h = fi == NULL ? NULL : file_of(fi);
  int r = h != NULL ? fstat(h->fd, st) : fstatat(lfs.root_fd, lazyfs_rel(path), st, AT_SYMLINK_NOFOLLOW);
  r = r < 0 ? -errno : 0;
  if (r == 0 && S_ISREG(st->st_mode)) {
    off_t size = cache_size(st->st_dev, st->st_ino);
    if (size >= 0) {
      st->st_size = size;
      st->st_blocks = (size + 511) / 512;
    }
  }
  unlock();
  return r;
}

static int lfs_access(const char *path, int mask) {
  lock();
  int r = faccessat(lfs.root_fd, lazyfs_rel(path), mask, 0) < 0 ? -errno : 0;
  unlock();
  return r;
}

static int lfs_readlink(const char *path, char *buf, size_t size) {
  lock();
  ssize_t n = readlinkat(lfs.root_fd, lazyfs_rel(path), buf, size - 1);
  int r = n < 0 ? -errno : 0;
  if (n >= 0) buf[n] = '\0';
  unlock();
  return r;
}

/* Permissions, owners and times are not part of the model: they change the disk below at once. */
static int lfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  lock();
  struct handle *h = fi == NULL ? NULL : file_of(fi);
  int r = (h != NULL ? fchmod(h->fd, mode) : fchmodat(lfs.root_fd, lazyfs_rel(path), mode, 0)) < 0 ? -errno : 0;
  unlock();
  return r;
}

static int lfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  lock();
  struct handle *h = fi == NULL ? NULL : file_of(fi);
  int r = (h != NULL ? fchown(h->fd, uid, gid) : fchownat(lfs.root_fd, lazyfs_rel(path), uid, gid, AT_SYMLINK_NOFOLLOW)) < 0 ? -errno : 0;
  unlock();
  return r;
}

static int lfs_utimens(const char *path, const struct timespec ts[2], struct fuse_file_info *fi) {
  lock();
  struct handle *h = fi == NULL ? NULL : file_of(fi);
  int r = (h != NULL ? futimens(h->fd, ts) : utimensat(lfs.root_fd, lazyfs_rel(path), ts, AT_SYMLINK_NOFOLLOW)) < 0 ? -errno : 0;
  unlock();
  return r;
}

static int lfs_statfs(const char *path, struct statvfs *st) {
  (void)path;
  return fstatvfs(lfs.root_fd, st) < 0 ? -errno : 0;
}

/* ---------- the namespace: applied at once, journalled until its directory is fsync'ed ---------- */

static int lfs_mkdir(const char *path, mode_t mode) {
  lock();
  const char *rel = lazyfs_rel(path);
  int r = mkdirat(lfs.root_fd, rel, mode) < 0 ? -errno : 0;
  if (r == 0 && (r = journal_created(rel, J_MKDIR)) < 0) unlinkat(lfs.root_fd, rel, AT_REMOVEDIR);
  unlock();
  return r;
}

static int lfs_mknod(const char *path, mode_t mode, dev_t rdev) {
  lock();
  const char *rel = lazyfs_rel(path);
  int r;
  if (S_ISREG(mode)) {
    int fd = openat(lfs.root_fd, rel, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    r = fd < 0 ? -errno : 0;
    if (fd >= 0) close(fd);
  } else {
    r = mknodat(lfs.root_fd, rel, mode, rdev) < 0 ? -errno : 0;
  }
  if (r == 0 && (r = journal_created(rel, J_CREATE)) < 0) unlinkat(lfs.root_fd, rel, 0);
  unlock();
  return r;
}

static int lfs_symlink(const char *target, const char *path) {
  lock();
  const char *rel = lazyfs_rel(path);
  int r = symlinkat(target, lfs.root_fd, rel) < 0 ? -errno : 0;
  if (r == 0 && (r = journal_created(rel, J_CREATE)) < 0) unlinkat(lfs.root_fd, rel, 0);
  unlock();
  return r;
}

static int lfs_link(const char *from, const char *to) {
  lock();
  const char *rel = lazyfs_rel(to);
  int r = linkat(lfs.root_fd, lazyfs_rel(from), lfs.root_fd, rel, 0) < 0 ? -errno : 0;
  if (r == 0 && (r = journal_created(rel, J_CREATE)) < 0) unlinkat(lfs.root_fd, rel, 0);
  unlock();
  return r;
}

static int lfs_unlink(const char *path) {
  lock();
  int r = journal_remove(lazyfs_rel(path), false);
  unlock();
  return r;
}

static int lfs_rmdir(const char *path) {
  lock();
  int r = journal_remove(lazyfs_rel(path), true);
  unlock();
  return r;
}

static int lfs_rename(const char *from, const char *to, unsigned int flags) {
  lock();
  int r = journal_rename(lazyfs_rel(from), lazyfs_rel(to), flags);
  unlock();
  return r;
}

/* ---------- files ---------- */

/* Flags for the descriptor below. O_TRUNC becomes an unsynced size change, O_SYNC a flush per
   write, O_APPEND is dropped (the kernel gives every write its offset; Linux's pwrite would ignore
   it on an O_APPEND descriptor), and write-only becomes read-write (partial pages are read). */
static int below_flags(int flags, bool regular) {
  flags &= ~(O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECT | O_NOCTTY | O_SYNC | O_DSYNC);
  if (regular && (flags & O_ACCMODE) == O_WRONLY) flags = (flags & ~O_ACCMODE) | O_RDWR;
  return flags | O_CLOEXEC;
}

static int open_handle(int fd, int flags, struct fuse_file_info *fi) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  struct handle *h = calloc(1, sizeof *h);
  struct inode *in = h == NULL ? NULL : inode_get(st.st_dev, st.st_ino);
  if (in == NULL) {
    free(h);
    return -ENOMEM;
  }
  in->handles++;
  *h = (struct handle){.kind = FILE_HANDLE, .fd = fd, .in = in, .sync_writes = (flags & O_DSYNC) != 0};
  if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY && S_ISREG(st.st_mode) && (in->dirty ? in->size : st.st_size) > 0) {
    int r = cache_truncate(in, fd, 0);
    if (r < 0) {
      in->handles--;
      inode_release(in);
      free(h);
      return r;
    }
  }
  fi->fh = (uintptr_t)h;
  fi->keep_cache = 0;
  fi->direct_io = 0;
  return 0;
}

static int lfs_open(const char *path, struct fuse_file_info *fi) {
  lock();
  const char *rel = lazyfs_rel(path);
  struct stat st;
  int r = fstatat(lfs.root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
  if (r == 0) {
    int fd = openat(lfs.root_fd, rel, below_flags(fi->flags, S_ISREG(st.st_mode)));
    r = fd < 0 ? -errno : open_handle(fd, fi->flags, fi);
    if (r < 0 && fd >= 0) close(fd);
  }
  unlock();
  return r;
}

static int lfs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  lock();
  const char *rel = lazyfs_rel(path);
  int flags = below_flags(fi->flags, true);
  int fd = openat(lfs.root_fd, rel, flags | O_CREAT | O_EXCL, mode);
  bool created = fd >= 0;
  if (!created && errno == EEXIST && !(fi->flags & O_EXCL)) fd = openat(lfs.root_fd, rel, flags);
  int r = fd < 0 ? -errno : 0;
  if (r == 0 && created && (r = journal_created(rel, J_CREATE)) < 0) {
    close(fd);
    unlinkat(lfs.root_fd, rel, 0);
  } else if (r == 0 && (r = open_handle(fd, created ? fi->flags & ~O_TRUNC : fi->flags, fi)) < 0) {
    close(fd);
  }
  unlock();
  return r;
}

static int lfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  lock();
  struct handle *h = file_of(fi);
  int r = h == NULL ? -EBADF : cache_read(h->in, h->fd, buf, size, off);
  unlock();
  return r;
}

static int lfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  lock();
  struct handle *h = file_of(fi);
  int r = h == NULL ? -EBADF : cache_write(h->in, h->fd, buf, size, off);
  if (r >= 0 && h->sync_writes) {
    int f = cache_flush(h->in);
    if (f < 0) r = f;
  }
  if (r >= 0) cache_writeback_over_bound();
  unlock();
  return r;
}

static int lfs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  lock();
  struct handle *h = fi == NULL ? NULL : file_of(fi);
  int r;
  if (h != NULL) {
    r = cache_truncate(h->in, h->fd, size);
  } else {
    int fd = openat(lfs.root_fd, lazyfs_rel(path), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    r = fd < 0 || fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL : 0;
    struct inode *in = r == 0 ? inode_get(st.st_dev, st.st_ino) : NULL;
    if (r == 0 && in == NULL) r = -ENOMEM;
    if (r == 0) {
      r = cache_truncate(in, fd, size);
      inode_release(in);
    }
    if (fd >= 0) close(fd);
  }
  if (r == 0) cache_writeback_over_bound();
  unlock();
  return r;
}

static int lfs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync; /* fdatasync and fsync both make the data and the size durable */
  lock();
  struct handle *h = file_of(fi);
  int r = h == NULL ? -EBADF : cache_flush(h->in);
  lfs.stats.fsyncs++;
  unlock();
  return r;
}

static int lfs_flush(const char *path, struct fuse_file_info *fi) {
  (void)path;
  (void)fi;
  return 0; /* close(2) makes nothing durable */
}

static int lfs_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  lock();
  struct handle *h = file_of(fi);
  if (h != NULL) {
    struct inode *in = h->in;
    close(h->fd);
    free(h);
    if (--in->handles == 0) {
      struct stat st;
      /* Unsynced data of a file that no longer has a name anywhere can never be read again. */
      if (in->dirty && fstat(in->fd, &st) == 0 && st.st_nlink == 0) cache_drop(in);
      else inode_release(in);
    }
  }
  unlock();
  return 0;
}

/* ---------- directories ---------- */

static int lfs_opendir(const char *path, struct fuse_file_info *fi) {
  lock();
  int r = 0;
  struct dir_handle *d = calloc(1, sizeof *d);
  int fd = d == NULL ? -1 : openat(lfs.root_fd, lazyfs_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (d == NULL) r = -ENOMEM;
  else if (fd < 0 || fstat(fd, &st) < 0 || (d->dp = fdopendir(fd)) == NULL) r = -errno;
  if (r < 0) {
    if (fd >= 0) close(fd);
    free(d);
  } else {
    d->kind = DIR_HANDLE;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    fi->fh = (uintptr_t)d;
  }
  unlock();
  return r;
}

static int lfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)path;
  (void)off;
  (void)flags;
  lock();
  struct dir_handle *d = dir_of(fi);
  if (d == NULL) {
    unlock();
    return -EBADF;
  }
  /* The whole directory in one go (offset 0 for every entry: libfuse buffers it). */
  rewinddir(d->dp);
  for (struct dirent *de; (de = readdir(d->dp)) != NULL;) {
    struct stat st = {.st_ino = de->d_ino, .st_mode = DTTOIF(de->d_type)};
    if (fill(buf, de->d_name, &st, 0, 0) != 0) break;
  }
  unlock();
  return 0;
}

static int lfs_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path;
  lock();
  struct dir_handle *d = dir_of(fi);
  if (d != NULL) {
    closedir(d->dp);
    free(d);
  }
  unlock();
  return 0;
}

static int lfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  lock();
  struct dir_handle *d = dir_of(fi);
  if (d != NULL) journal_dir_synced(d->dev, d->ino);
  lfs.stats.dir_fsyncs++;
  unlock();
  return d == NULL ? -EBADF : 0;
}

/* ---------- lifecycle ---------- */

static void *lfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->hard_remove = 1; /* unlink is ours to model: no .fuse_hidden renames */
  cfg->nullpath_ok = 1;
  cfg->use_ino = 0;
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  cfg->direct_io = 0;
  printf("ready\n"); /* the harness waits for this line: the mount is in place */
  fflush(stdout);
  return NULL;
}

/* A clean unmount is a clean shutdown: everything written is kept, as unmounting a disk syncs it. */
static void lfs_destroy(void *data) {
  (void)data;
  lock();
  lfs.stopping = true;
  uint64_t files;
  cache_flush_all(&files);
  journal_commit_all();
  unlock();
  control_stop();
}

static const struct fuse_operations operations = {
    .init = lfs_init,
    .destroy = lfs_destroy,
    .getattr = lfs_getattr,
    .access = lfs_access,
    .readlink = lfs_readlink,
    .chmod = lfs_chmod,
    .chown = lfs_chown,
    .utimens = lfs_utimens,
    .statfs = lfs_statfs,
    .mkdir = lfs_mkdir,
    .mknod = lfs_mknod,
    .symlink = lfs_symlink,
    .link = lfs_link,
    .unlink = lfs_unlink,
    .rmdir = lfs_rmdir,
    .rename = lfs_rename,
    .open = lfs_open,
    .create = lfs_create,
    .read = lfs_read,
    .write = lfs_write,
    .truncate = lfs_truncate,
    .fsync = lfs_fsync,
    .flush = lfs_flush,
    .release = lfs_release,
    .opendir = lfs_opendir,
    .readdir = lfs_readdir,
    .releasedir = lfs_releasedir,
    .fsyncdir = lfs_fsyncdir,
};

/* ---------- control commands ---------- */

void lazyfs_power_loss(char *reply, size_t size) {
  lock();
  if (lfs.stopping) {
    unlock();
    snprintf(reply, size, "{\"ok\":false,\"error\":\"unmounting\"}\n");
    return;
  }
  uint64_t files, errors;
  uint64_t bytes = cache_drop_all(&files);
  uint64_t undone = journal_undo_all(&errors);
  lfs.stats.power_losses++;
  unlock();
  snprintf(reply, size, "{\"ok\":true,\"droppedBytes\":%llu,\"droppedFiles\":%llu,\"undoneOps\":%llu,\"undoErrors\":%llu}\n",
           (unsigned long long)bytes, (unsigned long long)files, (unsigned long long)undone, (unsigned long long)errors);
}

void lazyfs_sync_all(char *reply, size_t size) {
  lock();
  uint64_t files;
  uint64_t bytes = cache_flush_all(&files);
  uint64_t committed = journal_commit_all();
  unlock();
  snprintf(reply, size, "{\"ok\":true,\"flushedBytes\":%llu,\"flushedFiles\":%llu,\"committedOps\":%llu}\n",
           (unsigned long long)bytes, (unsigned long long)files, (unsigned long long)committed);
}

void lazyfs_report_stats(char *reply, size_t size) {
  lock();
  struct lazyfs_counters c = lfs.stats;
  uint64_t pending = journal_pending();
  unlock();
  snprintf(reply, size,
           "{\"ok\":true,\"dirtyBytes\":%llu,\"dirtyFiles\":%llu,\"pendingOps\":%llu,\"maxDirtyBytes\":%llu,"
           "\"fsyncs\":%llu,\"dirFsyncs\":%llu,\"writebacks\":%llu,\"writebackBytes\":%llu,\"powerLosses\":%llu,"
           "\"forcedCommits\":%llu}\n",
           (unsigned long long)c.dirty_bytes, (unsigned long long)c.dirty_files, (unsigned long long)pending,
           (unsigned long long)lfs.max_dirty_bytes, (unsigned long long)c.fsyncs, (unsigned long long)c.dir_fsyncs,
           (unsigned long long)c.writebacks, (unsigned long long)c.writeback_bytes, (unsigned long long)c.power_losses,
           (unsigned long long)c.forced_commits);
}

/* ---------- main ---------- */

struct options {
  const char *under;
  const char *trash;
  const char *control;
  const char *max_dirty;
  int parent_pid;
};

#define OPTION(template, field) {template, offsetof(struct options, field), 1}
static const struct fuse_opt option_spec[] = {
    OPTION("--under=%s", under),         OPTION("--trash=%s", trash),           OPTION("--control=%s", control),
    OPTION("--max-dirty=%s", max_dirty), OPTION("--parent-pid=%d", parent_pid), FUSE_OPT_END,
};

static const char usage[] =
    "usage: lazyfs MOUNTPOINT --under=DIR --trash=DIR --control=SOCKET [--max-dirty=BYTES[K|M|G]]\n"
    "              [--parent-pid=PID] [-o fsname=NAME,subtype=lazyfs] [-d]\n"
    "  --under       the directory below: what is durable (created files live here at once, journalled)\n"
    "  --trash       removed and replaced entries until their removal is durable (same filesystem as --under)\n"
    "  --control     UNIX socket for the commands power-loss, sync, stats, ping\n"
    "  --max-dirty   bound on unsynced file data; past it the oldest files are written back (default 64M)\n"
    "  --parent-pid  unmount when that process (the parent) dies\n";

static int parse_size(const char *text, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(text, &end, 10);
  if (errno != 0 || end == text) return -1;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10;
  else if (*end == 'M' || *end == 'm') shift = 20;
  else if (*end == 'G' || *end == 'g') shift = 30;
  if (shift != 0) end++;
  if (*end != '\0' || n > (UINT64_MAX >> shift)) return -1;
  *out = (uint64_t)n << shift;
  return *out >= LAZYFS_PAGE_SIZE ? 0 : -1;
}

static int open_dir(const char *path, const char *what) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fprintf(stderr, "lazyfs: cannot open %s %s: %s\n", what, path, strerror(errno));
  return fd;
}

int main(int argc, char *argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct options o = {0};
  if (fuse_opt_parse(&args, &o, option_spec, NULL) == -1) return 2;
  if (o.under == NULL || o.trash == NULL || o.control == NULL) {
    fputs(usage, stderr);
    return 2;
  }
  if (o.max_dirty != NULL && parse_size(o.max_dirty, &lfs.max_dirty_bytes) < 0) {
    fprintf(stderr, "lazyfs: --max-dirty must be a size of at least 4096 bytes (e.g. 65536, 256K, 64M): not %s\n", o.max_dirty);
    return 2;
  }
  if (o.parent_pid > 0) {
    /* SIGTERM when the parent dies: libfuse's handler ends the loop and unmounts (lazily, as root). */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != o.parent_pid) return 1; /* it died before we could ask */
  }
  if ((lfs.root_fd = open_dir(o.under, "the directory below")) < 0) return 1;
  if ((lfs.trash_fd = open_dir(o.trash, "the trash directory")) < 0) return 1;
  struct stat su, st;
  if (fstat(lfs.root_fd, &su) < 0 || fstat(lfs.trash_fd, &st) < 0 || su.st_dev != st.st_dev) {
    fprintf(stderr, "lazyfs: --under and --trash must be on the same filesystem (entries are renamed between them)\n");
    return 1;
  }
  journal_clear_trash();
  int r = control_listen(o.control);
  if (r < 0 || (r = control_start()) < 0) {
    fprintf(stderr, "lazyfs: cannot serve the control socket %s: %s\n", o.control, strerror(-r));
    return 1;
  }
  fuse_opt_add_arg(&args, "-f"); /* stay the harness's child */
  fuse_opt_add_arg(&args, "-s"); /* one FUSE thread; lfs.lock orders it against the control thread */
  int ret = fuse_main(args.argc, args.argv, &operations, NULL);
  control_stop();
  fuse_opt_free_args(&args);
  return ret;
}
