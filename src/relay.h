/* The front: relays between the web server and the child. */
#ifndef CGIWRAP_RELAY_H
#define CGIWRAP_RELAY_H

#include "request.h"

/*
 * Relay until the response is over; returns cgiwrap's exit status.
 * The server side is descriptors 0 (request body), 1 (response) and 2
 * (error log).
 */
int	 relay(struct request *);

/*
 * Answer with an error response of cgiwrap's own (code 500, 502, 503,
 * 504, 403, 404) on descriptor fd, as a CGI or, for nph, an HTTP response.
 */
void	 respond(int fd, int code, bool nph);

#endif
