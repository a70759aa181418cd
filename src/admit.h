/* FastCGI: the records a connection sends before a request's parameters. */
#ifndef CGIWRAP_ADMIT_H
#define CGIWRAP_ADMIT_H

#include <signal.h>

enum admit {
	ADMIT_REQUEST,		/* a request for libfcgi to read, unread */
	ADMIT_REFUSED,		/* a request of another role, refused */
	ADMIT_GONE		/* end of the stream, an error, or *stop */
};

/*
 * Answer the management records that come first (FCGI_GET_VALUES for a
 * pool of workers), skip stray records, and stop at the next
 * FCGI_BEGIN_REQUEST: a responder's, or anything libfcgi must refuse, is
 * left unread; a request of another role gets FCGI_END_REQUEST with
 * FCGI_UNKNOWN_ROLE, its role in *role, and the connection is shut down
 * for the caller to close.  Reads block: a deadline must shut the
 * connection's read side.  A signal gives up only once *stop is set.
 */
enum admit	 admit(int fd, int workers, volatile sig_atomic_t *stop,
		    int *role);

#endif
