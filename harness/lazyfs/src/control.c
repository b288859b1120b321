/*
 * The control channel (see control.h). Input from the socket is never trusted: a line longer than
 * the buffer, an unknown command or a client that never sends anything gets an error answer (or a
 * timeout) and the filesystem carries on.
 */
#include "control.h"
#include "lazyfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_fd = -1;
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static pthread_t thread;

int control_listen(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  strcpy(socket_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  unlink(path);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  listen_fd = fd;
  return 0;
}

/* One line, without its newline and surrounding blanks; -1 when none came in time. */
static int read_line(int fd, char *line, size_t size) {
  size_t n = 0;
  for (;;) {
    ssize_t got = read(fd, line + n, size - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n += (size_t)got;
    if (memchr(line, '\n', n) != NULL || n == size - 1) break;
  }
  if (n == 0) return -1;
  line[n] = '\0';
  char *end = strchr(line, '\n');
  if (end != NULL) *end = '\0';
  else if (n == size - 1) return -2; /* too long to be a command */
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) line[--len] = '\0';
  size_t start = strspn(line, " \t");
  memmove(line, line + start, len - start + 1);
  return 0;
}

static void answer(const char *command, char *reply, size_t size) {
  if (strcmp(command, "power-loss") == 0) lazyfs_power_loss(reply, size);
  else if (strcmp(command, "sync") == 0) lazyfs_sync_all(reply, size);
  else if (strcmp(command, "stats") == 0) lazyfs_report_stats(reply, size);
  else if (strcmp(command, "ping") == 0) snprintf(reply, size, "{\"ok\":true}\n");
  else snprintf(reply, size, "{\"ok\":false,\"error\":\"unknown command; known: power-loss, sync, stats, ping\"}\n");
}

static void serve(int client) {
  struct timeval timeout = {.tv_sec = 5};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  char line[256];
  char reply[1024];
  int r = read_line(client, line, sizeof line);
  if (r == -1) return;
  if (r == -2) snprintf(reply, sizeof reply, "{\"ok\":false,\"error\":\"command line too long\"}\n");
  else answer(line, reply, sizeof reply);
  size_t len = strlen(reply);
  for (size_t sent = 0; sent < len;) {
    ssize_t w = send(client, reply + sent, len - sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    sent += (size_t)w;
  }
  /* Read what the client still sends (up to 1 MiB, or the timeout) before closing: closing a socket
     with unread input resets the connection, and the client could lose the answer. */
  shutdown(client, SHUT_WR);
  char sink[4096];
  for (size_t drained = 0; drained < (1u << 20);) {
    ssize_t n = read(client, sink, sizeof sink);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    drained += (size_t)n;
  }
}

static void *control_main(void *arg) {
  (void)arg;
  for (;;) {
    int client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        usleep(10000); /* out of descriptors for now: try again shortly */
        continue;
      }
      return NULL; /* the socket was closed: unmounting */
    }
    serve(client);
    close(client);
  }
}

int control_start(void) {
  int r = pthread_create(&thread, NULL, control_main, NULL);
  if (r != 0) return -r;
  pthread_detach(thread);
  return 0;
}

void control_stop(void) {
  if (listen_fd < 0) return;
  shutdown(listen_fd, SHUT_RDWR);
  close(listen_fd);
  listen_fd = -1;
  unlink(socket_path);
}
