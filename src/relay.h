/* The front: relays between the web server and the child. */
#ifndef CGIWRAP_RELAY_H
#define CGIWRAP_RELAY_H

#include <stdbool.h>

#include "server.h"

struct settings;
struct shared;

/* What the front works with: the server side, and its own ends. */
struct front_job {
	const struct server *sv;
	const char	*target;
	const struct settings *set;
	char *const	*cgi;		/* the CGI variables as received */
	bool		 nph;		/* output is a whole HTTP response */
	struct shared	*sh;
	int		 body_w;	/* the request body, to the child */
	int		 out_r, err_r;	/* the child's stdout and stderr */
	int		 link;		/* to the supervisor */
};

/*
 * Relay until the response is over, then close the job's descriptors;
 * returns cgiwrap's exit status (for a CGI, the child's when it ends on
 * its own).
 */
int	 relay(const struct front_job *);

#endif
