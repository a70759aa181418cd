/* Client watch: the client's TCP connection, seen by sock_diag. */
#ifndef CGIWRAP_WATCH_H
#define CGIWRAP_WATCH_H

#include <linux/inet_diag.h>
#include <stdbool.h>

struct watch {
	int			 nl;		/* NETLINK_SOCK_DIAG, -1 = off */
	int			 family;
	struct inet_diag_sockid	 id;		/* the server's socket */
};

/*
 * Find the server's socket of this connection: local address
 * server_addr (port server_port, when that is the local port), peer
 * remote_addr:remote_port, ESTABLISHED or CLOSE_WAIT.
 * Returns 0 when exactly one is found; otherwise -1 and the watch is off
 * (never a reason to think the client left).
 */
int	 watch_start(struct watch *, const char *server_addr,
	    const char *server_port, const char *remote_addr,
	    const char *remote_port);

/* 1 when the client has left (CLOSE_WAIT or the socket gone), else 0. */
int	 watch_check(struct watch *);

void	 watch_stop(struct watch *);

#endif
