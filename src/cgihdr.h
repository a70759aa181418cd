/* The header block of a CGI response. */
#ifndef CGIWRAP_CGIHDR_H
#define CGIWRAP_CGIHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAX	128		/* longest control value kept */

struct cgihdr {
	int	 status;			/* from Status:, 0 if none */
	int64_t	 length;			/* from Content-Length:, -1 if
						   none or not one number */
	bool	 local_redirect;		/* Location: /path, the
						   server's to follow */
	char	 time_limit[CTL_MAX];		/* CGIWrap-Time-Limit, or "" */
	char	 ignore_user_abort[CTL_MAX];	/* CGIWrap-Ignore-User-Abort */
};

/*
 * Length of the header block at the start of buf, blank line included
 * (LF or CRLF line ends, mixed allowed), or 0 while it is incomplete.
 */
size_t		 cgihdr_end(const char *buf, size_t len);

/*
 * Parse a complete header block of len bytes in place.  With control,
 * the CGIWrap-* control headers (with any continuation lines) are cut
 * out of buf and their values stored in h; every other byte is kept as
 * it was.  Returns the new length of the block, or -1 when the block
 * is malformed, with *why set to a static reason.  Without control, buf
 * is never changed.
 */
long		 cgihdr_parse(char *buf, size_t len, bool control,
		    struct cgihdr *h, const char **why);

/*
 * The head of an nph- program's response, at the start of buf (len
 * bytes of cap), made a CGI header block for a server that parses one:
 * interim 1xx responses are dropped (CGI has no way to send them) and
 * the final status line becomes a Status: header.  Returns 1 when done,
 * 0 while more bytes are needed, -1 when buf holds no HTTP status line
 * or no room is left (buf is then left for the server to judge).
 */
int		 nph_to_cgi(char *buf, size_t *len, size_t cap);

/*
 * The head of an nph- response, followed as its bytes pass: interim 1xx
 * responses, then the final status line and its header block.  Zero it
 * to start.
 */
struct nphhead {
	int	 status;	/* final status once its block is complete;
				   0 before, -1: not an HTTP response */
	size_t	 len;		/* bytes of the head so far */
	int	 code;		/* of the response being read */
	bool	 fields;	/* past the status line of that response */
	char	 line[32];	/* the start of the line being read */
	size_t	 llen;		/* its length so far */
};

/*
 * Follow the next len bytes of an nph- response; returns how many of
 * them are head.  Once status is not 0, nothing more is read.
 */
size_t		 nphhead_scan(struct nphhead *, const char *buf,
		    size_t len);

#endif
