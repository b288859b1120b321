/*
 * The control channel: a UNIX stream socket. A client connects, sends one command line
 * (`power-loss`, `sync`, `stats` or `ping`) and reads one JSON line back; then the connection closes.
 */
#ifndef LAZYFS_CONTROL_H
#define LAZYFS_CONTROL_H

/* Bind and listen at `path` (a stale socket file there is replaced). -errno on failure. */
int control_listen(const char *path);
/* Serve commands on a thread of its own. */
int control_start(void);
/* Close the socket and remove its file. */
void control_stop(void);

#endif
