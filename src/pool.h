/*
 * The FastCGI pool's shared state: one mapping, made by the master before
 * it forks the workers, with the pool's counters and one slot per worker
 * that its worker updates and any worker reads for the status page.
 */
#ifndef CGIWRAP_POOL_H
#define CGIWRAP_POOL_H

#include <sys/types.h>

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

/* Longer values are cut: the status page shows their start. */
#define POOL_METHOD	16
#define POOL_URI	256
#define POOL_CLIENT	64

enum pool_state { POOL_IDLE, POOL_READING, POOL_RUNNING };

/* What a worker does; read whole with pool_slot. */
struct pool_slot {
	pid_t		 pid;		/* 0: no worker (being replaced) */
	enum pool_state	 state;
	uint64_t	 requests;	/* taken by this process */
	struct timespec	 since;		/* CLOCK_BOOTTIME, of the state */
	char		 method[POOL_METHOD];
	char		 uri[POOL_URI];
	char		 client[POOL_CLIENT];
};

struct pool {
	struct timespec		 started;	/* CLOCK_REALTIME */
	struct timespec		 started_boot;	/* CLOCK_BOOTTIME */
	atomic_uint_least64_t	 accepted;
	atomic_int		 active;	/* slots not idle */
	atomic_int		 max_active;
	atomic_uint_least64_t	 slow;		/* past the slow-log timeout */
	int			 nslots;
	struct {
		/* Odd while its worker writes the slot (a seqlock). */
		atomic_uint	 seq;
		struct pool_slot s;
	}			 slot[];
};

/* The mapping for n workers, shared with every child; NULL on error. */
struct pool	*pool_map(int n);
void		 pool_unmap(struct pool *);

/* The master: slot i's worker is gone (or was never there). */
void		 pool_vacate(struct pool *, int i);

/* A new worker takes slot i, vacated before it was forked. */
void		 pool_join(struct pool *, int i);

/*
 * The worker of slot i enters a state; for POOL_RUNNING, envp holds the
 * request's CGI variables (what the slot shows), and the request counts.
 */
void		 pool_enter(struct pool *, int i, enum pool_state,
		    char *const *envp);

/* A consistent copy of slot i. */
void		 pool_slot(const struct pool *, int i, struct pool_slot *);

#endif
