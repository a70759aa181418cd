/* One request: what the front and the supervisor share. */
#ifndef CGIWRAP_REQUEST_H
#define CGIWRAP_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "env.h"
#include "policy.h"
#include "relay.h"

/*
 * Counters the front keeps in a shared page, so the supervisor still
 * knows them when the server has SIGKILLed the front.
 */
struct shared {
	_Atomic uint64_t bytes_in;	/* request body given to the child */
	_Atomic uint64_t bytes_out;	/* response body given to the server */
	_Atomic int	 http;		/* response status, -1 before headers */
	_Atomic bool	 done;		/* the response is complete */
	_Atomic int	 child;		/* the child's pid and group, 0 before */
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

struct request {
	const struct server *sv;
	const struct config *cfg;
	struct policy	 pol;
	const char	*target;	/* resolved program path */
	char *const	*argv;		/* the child's argv */
	char *const	*cgi;		/* the CGI environment as received */
	struct env	 env;		/* the child's environment */
	const char	*dir;		/* working directory, NULL = inherit */
	bool		 nph;		/* output is a whole HTTP response */
	struct timespec	 start;
	struct shared	*sh;

	/* Descriptors: the front's ends, the child's ends, the link. */
	int		 body_w, out_r, err_r;
	int		 body_r, out_w, err_w;
	int		 ctl_r, ctl_w;
	int		 link[2];	/* [0] front, [1] supervisor */
	pid_t		 front;		/* the front's pid */
};

struct target;

/*
 * A request for a resolved target, from the server's CGI variables: the
 * policy and the child's environment, then request_run.  Returns the
 * exit status.
 */
int	 request_start(struct request *, const struct config *,
	    const struct target *, char *const *cgi, char *const *argv);

/* Run the request: start the supervisor, then be its front. */
int	 request_run(struct request *);

/*
 * cgiwrap could not run the request (errno says why): one stderr line,
 * a 500 or, for exhausted resources, a 503 response; returns 125.
 */
int	 request_fail(struct request *, const char *what);

int	 msg_send(int fd, int type, int val, int val2, const char *text);

/* Milliseconds since the request started. */
int64_t	 request_elapsed(const struct request *);



/* How a request ended: what the log line and shutdown commands get. */
struct outcome {
	int		 status;	/* ST_* bits */
	int		 wstatus;	/* the child's wait status */
	pid_t		 pid;
	int64_t		 elapsed_ms;
	uint64_t	 bytes_in, bytes_out;
	int		 http;		/* -1: no header came */
};
#endif
