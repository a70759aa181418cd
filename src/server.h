/*
 * The server side of a request, behind one set of operations: a CGI
 * server (server_cgi.c) gives descriptors 0, 1 and 2 and signals; a
 * protocol server (FastCGI, fastcgi.c) has read the body into a file
 * already, moves the response itself and gives its connection to watch.
 */
#ifndef CGIWRAP_SERVER_H
#define CGIWRAP_SERVER_H

#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct keeper;
struct server;

/* What the server side says of the request body. */
struct body_info {
	int64_t	 len;		/* bytes to copy, -1 = until EOF */
	bool	 ends;		/* it ends with the response */
};

struct server_ops {
	/*
	 * Before relaying: the server side made ready, given the CGI
	 * variables; what it says of the body in *b.  -1 on error (errno).
	 */
	int	(*setup)(const struct server *, char *const *cgi,
		    struct body_info *b);
	/* All of buf to stream 1 (response) or 2 (error log), or -1. */
	int	(*put)(const struct server *, int stream, const char *buf,
		    size_t len);
	/*
	 * What tells that the server went away: gone[0] is polled all the
	 * time, gone[1] while the response is not complete (-1: nothing).
	 */
	void	(*watch)(const struct server *, struct pollfd gone[2]);
	/*
	 * Did the server go away?  Given one of those pollfds after
	 * poll(2), or NULL when a signal interrupted it: 0, or the signal
	 * a plain CGI would have died of (SIGPIPE for a hangup seen).
	 */
	int	(*gone)(const struct server *, const struct pollfd *);
	/* The response is complete: the server sees its end now. */
	void	(*finish)(const struct server *);
	/* Relaying is over: leave the server side as it came. */
	void	(*restore)(const struct server *);
	/*
	 * In the supervisor: let go of the server side.  Returns a
	 * descriptor to keep open while the front lives, -1 = none.
	 */
	int	(*detach)(const struct server *);
	/*
	 * The front stays for the child's exit status after the response
	 * (a CGI), rather than being free for the next request (FastCGI).
	 */
	bool	 stays;
};

struct server {
	const struct server_ops *ops;
	int	 body;		/* the request body, -1 = none */
	int	 out;		/* the response as a descriptor to splice
				   to, -1 = only through put */
	void	*ctx;
	/*
	 * Counted up once for each request that passes
	 * request_slowlog_timeout (FastCGI's status page); NULL: not kept.
	 */
	atomic_uint_least64_t *slow;
	/* A FastCGI worker's supervisor for every request; NULL: fork one. */
	struct keeper *keeper;
};

/*
 * Answer with an error response of cgiwrap's own (code 500, 503, 504,
 * 403, 404), as a CGI or, for nph, an HTTP response.
 */
void	 respond(const struct server *, int code, bool nph);

/*
 * A message of cgiwrap about a request, to the server's error log: to
 * stderr of a CGI, as one FCGI_STDERR record in FastCGI mode; to the
 * log of cgiwrap when that stream has ended.  As
 * log_warn(), with errnum for errno (0: none).
 */
void	 sv_warn(const struct server *, int errnum, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
