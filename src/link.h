/*
 * The link between the front and the supervisor of one request: the
 * messages they exchange and the page of counters they share.
 */
#ifndef CGIWRAP_LINK_H
#define CGIWRAP_LINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * Counters the front keeps in a shared page, so the supervisor still
 * knows them when the server has SIGKILLed the front.
 */
struct shared {
	_Atomic uint64_t bytes_in;	/* request body given to the child */
	_Atomic uint64_t bytes_out;	/* response body given to the server */
	_Atomic int	 http;		/* response status, -1 before headers */
	_Atomic bool	 done;		/* the response is complete */
	_Atomic int	 child;		/* the child's pid and group, or 0 */
};

/* Messages between front and supervisor (one SOCK_SEQPACKET datagram). */
enum msgtype {
	M_HANGUP = 1,	/* front: the server side is gone */
	M_CONTROL,	/* front: a control header, as a control line */
	M_FAULT,	/* front: the response failed (text says why) */
	M_ENDED,	/* front: the response is over, the front stays */
	M_SPAWNFAIL,	/* supervisor: the child could not start (errno) */
	M_EXITED,	/* supervisor: val = wait status, val2 = ST_* bits */
	M_TIMEOUT,	/* supervisor: the time limit expired */
	M_FINISH,	/* supervisor: the child asked to end the response */
};

struct msg {
	int	 type;
	int	 val, val2;
	char	 text[244];
};

/*
 * A line a process must answer while it works (a FastCGI keeper's to its
 * worker, keeper.c): fd, -1 = none, and what to do when it is readable.
 */
struct call {
	int	  fd;
	void	(*heard)(struct call *);
	void	 *arg;
};

/* The shared page, mapped before the fork, http at -1; NULL on error. */
struct shared	*shared_map(void);
void		 shared_unmap(struct shared *);
/* As new, for the next request. */
void		 shared_reset(struct shared *);

/* The two ends of the link: [0] the front's, [1] the supervisor's. */
int	 link_open(int end[2]);

int	 msg_send(int fd, int type, int val, int val2, const char *text);

/* Milliseconds since start (CLOCK_MONOTONIC). */
int64_t	 elapsed_ms(const struct timespec *start);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t	 now_ns(void);

/* The ms left, as poll(2)'s timeout: 0 once past, at most INT_MAX. */
int	 poll_ms(int64_t left);

#endif
