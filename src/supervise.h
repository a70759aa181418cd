/* The supervisor of one child. */
#ifndef CGIWRAP_SUPERVISE_H
#define CGIWRAP_SUPERVISE_H

#include <sys/types.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "status.h"

struct call;
struct shared;

/* What the supervisor works with: the child to run, and its own ends. */
struct sup_job {
	const char	*target;	/* resolved: for the policy, the log */
	const char	*exec;		/* the path to execute */
	char *const	*argv;
	char *const	*envp;
	char *const	*cgi;		/* the server's variables (the log) */
	const char	*dir;		/* working directory, NULL = inherit */
	const struct settings *set;	/* the policy at the start */
	struct timespec	 start;		/* of the request */
	struct shared	*sh;
	pid_t		 front;		/* front's pid; 0: a keeper's job */
	int		 body_r, out_w, err_w;	/* the child's 0, 1, 2 */
	int		 ctl_r, ctl_w;	/* the control pipe (supervise()
				   makes it), -1 = none */
	int		 out_r, err_r;	/* drained once the front is gone */
	int		 link;		/* to the front */
	int		 hold;		/* kept open while the front lives */
	atomic_uint_least64_t *slow;	/* slow requests, counted; NULL: not */
	/*
	 * A FastCGI worker's keeper (keeper.c) runs one job after another:
	 * call is its line to the worker (NULL: none), reaped what it does
	 * once the child is reaped (NULL: nothing).
	 */
	struct call	*call;
	void		(*reaped)(struct sup_job *);
	bool		 exited;	/* out: the child was reaped */
	bool		 stopped;	/* out: SIGTERM or SIGINT came */
};

/* The supervisor's own descriptors, opened once for every job it runs. */
struct sup_base {
	int		 sfd;		/* signals */
	int		 errlog;	/* the server's error log, -1 = none */
};

/*
 * Leave the server's reach as far as a child's start needs: own
 * session, subreaper of what the children leave behind, signals
 * blocked.  On failure the front is told through link (when it is not
 * -1) and the process exits.
 */
void	 sup_open(struct sup_base *, int link);

/*
 * The rest, once: the server's standard descriptors let go, signals read
 * by descriptor.  supervise() does it after starting its child if it is
 * not done yet.  Fails as sup_open does; a child already started dies
 * with the supervisor (its parent-death signal).
 */
void	 sup_settle(struct sup_base *, int link);

/*
 * Runs in a process after sup_open: starts the child, supervises it and
 * what it leaves behind, writes the log line, and fills in how the
 * request ended.  Exits if the child cannot be started.
 */
void	 supervise(struct sup_base *, struct sup_job *, struct outcome *);

#endif
