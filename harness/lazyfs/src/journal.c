/*
 * The namespace journal (see journal.h).
 *
 * Each entry names the directories it changed by an O_PATH descriptor (struct dirref), not by a
 * path: a later, durable rename of a parent directory must not send an undo to the wrong place.
 * The same descriptors tell an fsync'ed directory (by device and inode number) from the others.
 *
 * Durability rule. An entry needs an fsync of each directory it changed, made after it. It must
 * also wait for every older pending entry that touched one of its directories: undoing those
 * later would otherwise act on names it already changed. An entry that removes a directory
 * (rmdir, or rename over an empty directory) also waits for older pending entries inside that
 * directory: its removal cannot be durable while their undo still needs the directory. Removed
 * and replaced entries are moved into the trash (the same filesystem), so that their inode, and
 * with it their content and the descriptors that name it, comes back on undo.
 */
#include "journal.h"
#include "page-cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Past this many pending entries the oldest becomes durable, as a full journal is committed. */
#define MAX_PENDING 65536

enum op_kind { OP_CREATE, OP_MKDIR, OP_REMOVE, OP_RENAME, OP_EXCHANGE };

struct dirref {
  dev_t dev;
  ino_t ino;
  int fd; /* O_PATH: keeps the directory's inode, so its number is not reused while we need it */
  int refs;
  bool blocked; /* scratch for sweep() */
  struct dirref *next;
};

struct op {
  enum op_kind kind;
  struct dirref *dir[2]; /* [0]: the entry's directory (rename: the source's); [1]: rename's target's */
  char *name[2];
  bool waiting[2];       /* still needs an fsync of dir[i] */
  char *trash;           /* OP_REMOVE: the removed entry; OP_RENAME: the replaced target (or NULL) */
  bool trash_is_dir;
  struct dirref *inner;  /* a directory this entry removed (see the durability rule) */
  struct op *prev, *next;
};

static struct dirref *dirs;
static struct op *oldest, *newest;
static uint64_t pending;
static uint64_t trash_counter;

static void log_error(const char *what, const char *name, int err) {
  fprintf(stderr, "lazyfs: %s %s: %s\n", what, name == NULL ? "" : name, strerror(err));
}

/* The directory at `rel`, shared by every entry that names it; NULL with errno set on failure. */
static struct dirref *dirref_at(const char *rel) {
  int fd = openat(lfs.root_fd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return NULL;
  }
  for (struct dirref *d = dirs; d != NULL; d = d->next) {
    if (d->dev == st.st_dev && d->ino == st.st_ino) {
      close(fd);
      d->refs++;
      return d;
    }
  }
  struct dirref *d = calloc(1, sizeof *d);
  if (d == NULL) {
    close(fd);
    errno = ENOMEM;
    return NULL;
  }
  d->dev = st.st_dev;
  d->ino = st.st_ino;
  d->fd = fd;
  d->refs = 1;
  d->next = dirs;
  dirs = d;
  return d;
}

static void dirref_put(struct dirref *d) {
  if (d == NULL || --d->refs > 0) return;
  for (struct dirref **p = &dirs; *p != NULL; p = &(*p)->next) {
    if (*p == d) {
      *p = d->next;
      break;
    }
  }
  close(d->fd);
  free(d);
}

/* The directory holding `rel`, and its last component in *base (allocated). */
static struct dirref *parent_ref(const char *rel, char **base) {
  const char *slash = strrchr(rel, '/');
  char parent[PATH_MAX];
  if (slash == NULL) {
    strcpy(parent, ".");
  } else {
    size_t n = (size_t)(slash - rel);
    if (n >= sizeof parent) {
      errno = ENAMETOOLONG;
      return NULL;
    }
    memcpy(parent, rel, n);
    parent[n] = '\0';
  }
  *base = strdup(slash == NULL ? rel : slash + 1);
  if (*base == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  struct dirref *d = dirref_at(parent);
  if (d == NULL) {
    int e = errno;
    free(*base);
    *base = NULL;
    errno = e;
  }
  return d;
}

static void op_free(struct op *op) {
  for (int i = 0; i < 2; i++) {
    dirref_put(op->dir[i]);
    free(op->name[i]);
  }
  dirref_put(op->inner);
  free(op->trash);
  free(op);
}

static void unlink_op(struct op *op) {
  if (op->prev != NULL) op->prev->next = op->next;
  else oldest = op->next;
  if (op->next != NULL) op->next->prev = op->prev;
  else newest = op->prev;
  pending--;
}

/* rm -r of `name` in the directory `at`. */
static int remove_tree(int at, const char *name) {
  struct stat st;
  if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  if (!S_ISDIR(st.st_mode)) return unlinkat(at, name, 0) < 0 ? -errno : 0;
  int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR *dp = fdopendir(fd);
  if (dp == NULL) {
    int e = errno;
    close(fd);
    return -e;
  }
  for (bool any = true; any;) {
    any = false;
    rewinddir(dp);
    for (struct dirent *de; (de = readdir(dp)) != NULL;) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      any = true;
      int r = remove_tree(dirfd(dp), de->d_name);
      if (r < 0) {
        closedir(dp);
        return r;
      }
    }
  }
  closedir(dp);
  return unlinkat(at, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* A removal became durable: the saved entry goes for good, and with it unsynced data nobody can
   reach any more (a file still open keeps its inode, and its pages, until it is closed). */
static void delete_trash_entry(const char *name, bool dir) {
  if (!dir) {
    struct stat st;
    if (fstatat(lfs.trash_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1) {
      struct inode *in = inode_find(st.st_dev, st.st_ino);
      if (in != NULL && in->handles == 0) cache_drop(in);
    }
  }
  int r = remove_tree(lfs.trash_fd, name);
  if (r < 0) log_error("cannot delete trash entry", name, -r);
}

static void commit(struct op *op) {
  unlink_op(op);
  if (op->trash != NULL) delete_trash_entry(op->trash, op->trash_is_dir);
  op_free(op);
}

static void record(struct op *op) {
  op->waiting[0] = op->dir[0] != NULL;
  op->waiting[1] = op->dir[1] != NULL && op->dir[1] != op->dir[0];
  op->prev = newest;
  op->next = NULL;
  if (newest != NULL) newest->next = op;
  else oldest = op;
  newest = op;
  if (++pending > MAX_PENDING) {
    commit(oldest);
    lfs.stats.forced_commits++;
  }
}

static char *trash_name(void) {
  char name[32];
  snprintf(name, sizeof name, "t%llu", (unsigned long long)++trash_counter);
  return strdup(name);
}

static int fail(struct op *op, int err) {
  op_free(op);
  return -err;
}

int journal_created(const char *rel, enum journal_kind kind) {
  struct op *op = calloc(1, sizeof *op);
  if (op == NULL) return -ENOMEM;
  op->kind = kind == J_MKDIR ? OP_MKDIR : OP_CREATE;
  op->dir[0] = parent_ref(rel, &op->name[0]);
  if (op->dir[0] == NULL) return fail(op, errno);
  record(op);
  return 0;
}

static int dir_is_empty(const char *rel) {
  int fd = openat(lfs.root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR *dp = fdopendir(fd);
  if (dp == NULL) {
    int e = errno;
    close(fd);
    return -e;
  }
  int r = 0;
  for (struct dirent *de; (de = readdir(dp)) != NULL;) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
      r = -ENOTEMPTY;
      break;
    }
  }
  closedir(dp);
  return r;
}

int journal_remove(const char *rel, bool dir) {
  struct stat st;
  if (fstatat(lfs.root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  if (dir && !S_ISDIR(st.st_mode)) return -ENOTDIR;
  if (!dir && S_ISDIR(st.st_mode)) return -EISDIR;
  if (dir && strcmp(rel, ".") == 0) return -EBUSY;
  if (dir) {
    int r = dir_is_empty(rel);
    if (r < 0) return r;
  }
  struct op *op = calloc(1, sizeof *op);
  if (op == NULL) return -ENOMEM;
  op->kind = OP_REMOVE;
  op->trash_is_dir = dir;
  op->dir[0] = parent_ref(rel, &op->name[0]);
  if (op->dir[0] == NULL) return fail(op, errno);
  if (dir && (op->inner = dirref_at(rel)) == NULL) return fail(op, errno);
  if ((op->trash = trash_name()) == NULL) return fail(op, ENOMEM);
  if (renameat(lfs.root_fd, rel, lfs.trash_fd, op->trash) < 0) return fail(op, errno);
  record(op);
  return 0;
}

int journal_rename(const char *from, const char *to, unsigned int flags) {
  if ((flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return -EINVAL;
  if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE)) return -EINVAL;
  struct stat sf, st;
  if (fstatat(lfs.root_fd, from, &sf, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  bool target = fstatat(lfs.root_fd, to, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!target && errno != ENOENT) return -errno;
  bool exchange = (flags & RENAME_EXCHANGE) != 0;
  if (exchange && !target) return -ENOENT;
  if (!exchange && target) {
    /* rename(2)'s checks, made before the target is moved aside */
    if (flags & RENAME_NOREPLACE) return -EEXIST;
    if (sf.st_dev == st.st_dev && sf.st_ino == st.st_ino) return 0; /* two links to one file: nothing happens */
    if (S_ISDIR(st.st_mode)) {
      if (!S_ISDIR(sf.st_mode)) return -EISDIR;
      int r = dir_is_empty(to);
      if (r < 0) return r;
    } else if (S_ISDIR(sf.st_mode)) {
      return -ENOTDIR;
    }
  }
  struct op *op = calloc(1, sizeof *op);
  if (op == NULL) return -ENOMEM;
  op->kind = exchange ? OP_EXCHANGE : OP_RENAME;
  if ((op->dir[0] = parent_ref(from, &op->name[0])) == NULL) return fail(op, errno);
  if ((op->dir[1] = parent_ref(to, &op->name[1])) == NULL) return fail(op, errno);
  if (exchange) {
    if (renameat2(lfs.root_fd, from, lfs.root_fd, to, RENAME_EXCHANGE) < 0) return fail(op, errno);
  } else if (target) {
    op->trash_is_dir = S_ISDIR(st.st_mode);
    if (op->trash_is_dir && (op->inner = dirref_at(to)) == NULL) return fail(op, errno);
    if ((op->trash = trash_name()) == NULL) return fail(op, ENOMEM);
    if (renameat(lfs.root_fd, to, lfs.trash_fd, op->trash) < 0) return fail(op, errno);
    if (renameat(lfs.root_fd, from, lfs.root_fd, to) < 0) {
      int e = errno;
      if (renameat(lfs.trash_fd, op->trash, lfs.root_fd, to) < 0) log_error("cannot put back", to, errno);
      return fail(op, e);
    }
  } else if (renameat(lfs.root_fd, from, lfs.root_fd, to) < 0) {
    return fail(op, errno);
  }
  record(op);
  return 0;
}

/* Commit, oldest first, every entry that is durable under the rule at the top of this file. */
static void sweep(void) {
  for (struct dirref *d = dirs; d != NULL; d = d->next) d->blocked = false;
  for (struct op *op = oldest; op != NULL;) {
    struct op *next = op->next;
    struct dirref *deps[3] = {op->dir[0], op->dir[1], op->inner};
    bool ready = !op->waiting[0] && !op->waiting[1];
    for (int i = 0; i < 3; i++)
      if (deps[i] != NULL && deps[i]->blocked) ready = false;
    if (ready) {
      commit(op);
    } else {
      for (int i = 0; i < 3; i++)
        if (deps[i] != NULL) deps[i]->blocked = true;
    }
    op = next;
  }
}

void journal_dir_synced(dev_t dev, ino_t ino) {
  struct dirref *d = dirs;
  while (d != NULL && !(d->dev == dev && d->ino == ino)) d = d->next;
  if (d == NULL) return; /* no pending entry changed this directory */
  for (struct op *op = oldest; op != NULL; op = op->next)
    for (int i = 0; i < 2; i++)
      if (op->dir[i] == d) op->waiting[i] = false;
  sweep();
}

uint64_t journal_pending(void) { return pending; }

static int undo(struct op *op) {
  int d0 = op->dir[0]->fd;
  switch (op->kind) {
  case OP_CREATE:
    return unlinkat(d0, op->name[0], 0) < 0 ? -errno : 0;
  case OP_MKDIR:
    return remove_tree(d0, op->name[0]);
  case OP_REMOVE:
    return renameat(lfs.trash_fd, op->trash, d0, op->name[0]) < 0 ? -errno : 0;
  case OP_RENAME:
    if (renameat(op->dir[1]->fd, op->name[1], d0, op->name[0]) < 0) return -errno;
    if (op->trash != NULL && renameat(lfs.trash_fd, op->trash, op->dir[1]->fd, op->name[1]) < 0) return -errno;
    return 0;
  case OP_EXCHANGE:
    return renameat2(d0, op->name[0], op->dir[1]->fd, op->name[1], RENAME_EXCHANGE) < 0 ? -errno : 0;
  }
  return -EINVAL;
}

uint64_t journal_undo_all(uint64_t *errors) {
  uint64_t n = 0;
  *errors = 0;
  while (newest != NULL) {
    struct op *op = newest;
    int r = undo(op);
    if (r < 0) {
      (*errors)++;
      log_error("cannot undo a change of", op->name[0], -r);
    }
    unlink_op(op);
    op_free(op); /* the trash entry, if any, is back in place (or reported above) */
    n++;
  }
  return n;
}

uint64_t journal_commit_all(void) {
  uint64_t n = 0;
  while (oldest != NULL) {
    commit(oldest);
    n++;
  }
  return n;
}

void journal_clear_trash(void) {
  int fd = fcntl(lfs.trash_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return;
  DIR *dp = fdopendir(fd);
  if (dp == NULL) {
    close(fd);
    return;
  }
  for (bool any = true; any;) {
    any = false;
    rewinddir(dp);
    for (struct dirent *de; (de = readdir(dp)) != NULL;) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      int r = remove_tree(lfs.trash_fd, de->d_name);
      if (r < 0) {
        log_error("cannot clear the trash of", de->d_name, -r);
        closedir(dp);
        return;
      }
      any = true;
    }
  }
  closedir(dp);
}
