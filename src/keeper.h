/*
 * A FastCGI worker's keeper: its supervisor, kept from one request to
 * the next.
 */
#ifndef CGIWRAP_KEEPER_H
#define CGIWRAP_KEEPER_H

#include <stdbool.h>

struct request;
struct shared;
struct sup_job;

struct keeper {
	int		 fd;		/* the line to it, -1 = none */
	bool		 busy;		/* a job handed, its end not heard */
	struct shared	*sh;		/* the counters of its job */
};

/*
 * A keeper free for rq's job, forked if need be (so before the job's
 * descriptors exist: it must not hold them), its page reset for the
 * job; NULL on error.
 */
struct shared	*keeper_take(struct keeper *, const struct request *rq);

/* Hand over the job; the keeper has its own copies of its descriptors. */
int		 keeper_hand(struct keeper *, const struct sup_job *);

/* No more jobs for this keeper: it ends once its job has. */
void		 keeper_retire(struct keeper *);

#endif
