/*
 * The FastCGI status page: the pool's shared state (pool.h), the
 * listening socket's queue and each request's CPU time, as text, JSON
 * or Prometheus's text exposition format.
 */
#ifndef CGIWRAP_STATUSPAGE_H
#define CGIWRAP_STATUSPAGE_H

#include <stdio.h>

#include "pool.h"

enum statuspage_format { SP_TEXT, SP_JSON, SP_PROMETHEUS };

/* The format a query string asks for: "json", "prometheus", else text. */
enum statuspage_format statuspage_format(const char *query);

/* Its Content-Type. */
const char	*statuspage_type(enum statuspage_format);

/* The page, for the pool listening on lfd; -1 when fp failed. */
int		 statuspage_write(FILE *, const struct pool *, int lfd,
		    enum statuspage_format);

#endif
