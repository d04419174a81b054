/*
 * The ssh tunnel of an ssh:// endpoint (ssh.c): the user's ssh binary forwarding a private local
 * unix socket to the engine socket on the remote host, supervised and restarted by a thread
 * the tunnel owns. Internal to backends/docker/.
 */
#ifndef CUTIPFS_SSH_H
#define CUTIPFS_SSH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "endpoint.h"

struct ssh_tunnel;

/*
 * Makes the socket directory and starts the supervisor, which runs
 *   ssh -N -o BatchMode=yes -o ExitOnForwardFailure=yes -o StreamLocalBindUnlink=yes
 *       -o ServerAliveInterval=5 -o ServerAliveCountMax=2 -o ConnectTimeout=5
 *       -o ControlPath=none [-i KEY] -L LOCAL.sock:REMOTE [-p PORT] [-l USER] -- HOST
 * and restarts it when it dies (0.5 s doubling to 5 s). Returns at once; no ssh binary is not
 * an error here (the tunnel just stays down, saying so).
 */
int ssh_tunnel_start(const struct endpoint *ep, struct ssh_tunnel **out, char *err,
		     size_t errlen);
/* Waits until the first ssh either forwards or ends, at most @timeout_ms. */
void ssh_tunnel_wait_first(struct ssh_tunnel *t, int timeout_ms);
/* Stops the supervisor, kills ssh (TERM, then KILL), removes the socket and its directory. */
void ssh_tunnel_stop(struct ssh_tunnel *t);
/* The local forwarded socket; valid for the life of the tunnel. */
const char *ssh_tunnel_sock(const struct ssh_tunnel *t);
/*
 * True while ssh runs with its forward bound. @pid gets ssh's pid (0 when none); @why the
 * reason it is down ("ssh root@h: Host key verification failed."), or when up, ssh's last
 * stderr line since it came up ("" if none: a failed channel open says why requests fail).
 */
bool ssh_tunnel_state(struct ssh_tunnel *t, pid_t *pid, char *why, size_t whylen);

#endif /* CUTIPFS_SSH_H */
