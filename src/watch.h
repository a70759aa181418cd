/* Client watch: the client's TCP connection, seen by sock_diag. */
#ifndef CGIWRAP_WATCH_H
#define CGIWRAP_WATCH_H

#include <linux/inet_diag.h>
#include <stdbool.h>

struct watch {
	int			 nl;		/* sock_diag socket, -1 = off */
	bool			 fin_hangs_up;	/* CLOSE_WAIT is a hangup */
	int			 family;
	struct inet_diag_sockid	 id;		/* the server's socket */
};

/*
 * Find the server's socket of this connection: local address
 * server_addr (any local port), peer remote_addr:remote_port,
 * ESTABLISHED or CLOSE_WAIT.
 * Returns 0 when exactly one is found; otherwise -1 and the watch is off
 * (never a reason to think the client left).  fin_hangs_up: the client's
 * FIN (CLOSE_WAIT) is a hangup, not only a reset or the socket gone.
 */
int	 watch_start(struct watch *, bool fin_hangs_up,
	    const char *server_addr, const char *remote_addr,
	    const char *remote_port);

/* 1 when the client has left (see fin_hangs_up), else 0. */
int	 watch_check(struct watch *);

/* The watch is over; its socket is kept for the next one. */
void	 watch_stop(struct watch *);

/* Close the kept socket (in a process that watches no more). */
void	 watch_close(void);

#endif
