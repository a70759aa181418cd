/* The front: relays between the web server and the child. */
#ifndef CGIWRAP_RELAY_H
#define CGIWRAP_RELAY_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * The server side of a request.  A CGI server gives descriptors 0, 1
 * and 2 (write and finish are NULL); a protocol server (FastCGI) has
 * read the body into a file already, moves the response itself, and
 * gives its connection to watch.
 */
struct server {
	int	 body;			/* the request body, -1 = none */
	int	 fd;			/* FastCGI: the connection */
	int	 listen;		/* FastCGI: the listening socket */
	/* Set (by a signal handler) when the server abandons the request. */
	volatile sig_atomic_t *stop;
	/* All of buf to stream 1 (response) or 2 (error log), or -1. */
	int	(*write)(void *ctx, int stream, const char *buf, size_t len);
	/* The response is complete. */
	void	(*finish)(void *ctx);
	void	*ctx;
};

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

/*
 * Answer with an error response of cgiwrap's own (code 500, 502, 503,
 * 504, 403, 404), as a CGI or, for nph, an HTTP response.
 */
void	 respond(const struct server *, int code, bool nph);

/*
 * A message of cgiwrap about a request, to the server's error log: to
 * stderr of a CGI, as one FCGI_STDERR record in FastCGI mode.  As
 * log_warn(), with errnum for errno (0: none).
 */
void	 sv_warn(const struct server *, int errnum, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
