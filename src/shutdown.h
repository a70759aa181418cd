/* Shutdown commands: run once per request, after the child. */
#ifndef CGIWRAP_SHUTDOWN_H
#define CGIWRAP_SHUTDOWN_H

#include "link.h"
#include "request.h"
#include "status.h"

/*
 * Run every command that applies, global ones first, each in file order;
 * call (NULL: none) is answered meanwhile.
 */
void	 shutdown_run(const struct request *, const struct outcome *,
	    struct call *);

/* Has the request's policy a command for this status? */
bool	 shutdown_due(const struct request *, int status);

#endif
