/*
 * One request: what cgiwrap's modes hand the engine, and the fork that
 * makes a front and a supervisor of it.
 */
#ifndef CGIWRAP_REQUEST_H
#define CGIWRAP_REQUEST_H

#include <stdbool.h>
#include <time.h>

#include "env.h"
#include "policy.h"
#include "server.h"

struct request {
	const struct server *sv;
	const struct config *cfg;
	struct policy	 pol;
	const char	*target;	/* resolved program path */
	const char	*exec;		/* what to execute (target.h) */
	char *const	*argv;		/* the child's argv */
	char *const	*cgi;		/* the CGI environment as received */
	struct env	 env;		/* the child's environment */
	const char	*dir;		/* working directory, NULL = inherit */
	bool		 nph;		/* output is a whole HTTP response */
	struct timespec	 start;
};

struct target;

/*
 * A request for a resolved target, from the server's CGI variables: the
 * policy and the child's environment, then request_run.  Returns the
 * exit status; a CGI front that ran its request exits with it instead.
 */
int	 request_start(struct request *, const struct config *,
	    const struct target *, char *const *cgi, char *const *argv);

/*
 * Run the request: start the supervisor, then be its front.  A worker's
 * front returns the exit status; a CGI front exits with it.
 */
int	 request_run(struct request *);

/*
 * cgiwrap could not run the request (errno says why): one stderr line,
 * a 500 or, for exhausted resources, a 503 response; returns 125.
 */
int	 request_fail(struct request *, const char *what);

#endif
