/*
 * What a FastCGI connection sends before libfcgi reads a request.
 * libfcgi answers FCGI_GET_VALUES with one connection and one request,
 * which a pool of workers is not; it takes an authorizer or a filter for
 * a responder, and drops an unknown role without a word.  So the records
 * before a request are looked at here first: those that are ours are
 * read, the FCGI_BEGIN_REQUEST of a responder only peeked at.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "admit.h"
#include "io.h"
#include "log.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The protocol's numbers: its <fastcgi.h> is hidden by src/fastcgi.h. */
enum {
	VERSION_1 = 1,
	BEGIN_REQUEST = 1, END_REQUEST = 3, GET_VALUES = 9,
	GET_VALUES_RESULT = 10, UNKNOWN_TYPE = 11,
	RESPONDER = 1, UNKNOWN_ROLE = 3,
	HEADER_LEN = 8, BEGIN_LEN = 16, MAX_LENGTH = 0xffff
};

/* The fields of a record header. */
#define VERSION(h)	((h)[0])
#define TYPE(h)		((h)[1])
#define ID(h)		((h)[2] << 8 | (h)[3])
#define LENGTH(h)	((size_t)((h)[4] << 8 | (h)[5]))
#define PADDING(h)	((size_t)(h)[6])

struct peer {
	int			 fd;
	int			 ep;	/* edge-triggered, -1 = not yet */
	bool			 ended;	/* seen by ep: no edge comes after */
	volatile sig_atomic_t	*stop;
};

/*
 * Peek at the next len bytes, once they have all come.  A peek on a unix
 * socket returns what is there without waiting for more, MSG_WAITALL or
 * not, so each arrival is waited for as an edge of p->ep, made on the
 * first wait (most requests come whole: none).  Once the stream has
 * ended (or its read side was shut down), a peek still sees the bytes
 * that came before: too few of them is the end.  The end is remembered
 * across peeks: its edge may have come with the bytes that an earlier
 * peek was waiting for, and no edge follows it.
 */
static int
peek(struct peer *p, void *buf, size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	ssize_t n;

	for (;;) {
		n = recv(p->fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
		if (n == (ssize_t)len)
			return 0;
		if (n == 0 || p->ended ||
		    (n == -1 && errno != EAGAIN && errno != EINTR))
			return -1;
		/* Added after the peek: an arrival since is its first edge. */
		if (p->ep == -1 &&
		    ((p->ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    epoll_ctl(p->ep, EPOLL_CTL_ADD, p->fd, &ev) == -1)) {
			log_warn("epoll");
			return -1;
		}
		ev.events = 0;
		if (*p->stop || (epoll_wait(p->ep, &ev, 1, -1) == -1 &&
		    errno != EINTR))
			return -1;
		if (ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			p->ended = true;
	}
}

static int
readn(struct peer *p, void *buf, size_t len)
{
	char *at = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(p->fd, at, len)) > 0) {
			at += n;
			len -= (size_t)n;
		} else if (n == 0 || errno != EINTR || *p->stop)
			return -1;
	}
	return 0;
}

static void
header(unsigned char *h, int type, int id, size_t len, size_t pad)
{
	h[0] = VERSION_1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = (unsigned char)pad;
	h[7] = 0;
}

/* A length of a name-value pair at *at, below end; -1 if cut short. */
static int64_t
pairlen(const unsigned char *c, size_t *at, size_t end)
{
	size_t i = *at;

	if (i >= end)
		return -1;
	if (c[i] < 0x80) {
		*at = i + 1;
		return c[i];
	}
	if (end - i < 4)
		return -1;
	*at = i + 4;
	return (int64_t)(c[i] & 0x7f) << 24 | c[i + 1] << 16 | c[i + 2] << 8 |
	    c[i + 3];
}

/*
 * FCGI_GET_VALUES: the three variables of the protocol, each asked once
 * at most in the answer; the names cgiwrap does not know are left out.
 */
static int
values(struct peer *p, const unsigned char *c, size_t len, int workers)
{
	static const char *const names[] = { "FCGI_MAX_CONNS",
	    "FCGI_MAX_REQS", "FCGI_MPXS_CONNS" };
	unsigned char out[HEADER_LEN + 128];
	char val[nitems(names)][16];
	size_t at = 0, o = HEADER_LEN, i, n, v, pad;
	int64_t nlen, vlen;
	unsigned done = 0;

	/* Each worker takes one connection, one request at a time. */
	snprintf(val[0], sizeof(val[0]), "%d", workers);
	snprintf(val[1], sizeof(val[1]), "%d", workers);
	snprintf(val[2], sizeof(val[2]), "0");
	while ((nlen = pairlen(c, &at, len)) != -1 &&
	    (vlen = pairlen(c, &at, len)) != -1 &&
	    (uint64_t)nlen + (uint64_t)vlen <= len - at) {
		for (i = 0; i < nitems(names); i++) {
			n = strlen(names[i]);
			if ((size_t)nlen != n || memcmp(c + at, names[i], n) ||
			    done & 1u << i)
				continue;
			done |= 1u << i;
			v = strlen(val[i]);
			out[o++] = (unsigned char)n;
			out[o++] = (unsigned char)v;
			memcpy(out + o, names[i], n);
			memcpy(out + o + n, val[i], v);
			o += n + v;
		}
		at += (size_t)(nlen + vlen);
	}
	n = o - HEADER_LEN;
	pad = (8 - n % 8) % 8;
	memset(out + o, 0, pad);
	header(out, GET_VALUES_RESULT, 0, n, pad);
	return write_all(p->fd, out, o + pad);
}

/* A management record: FCGI_GET_VALUES, or one the protocol lacks. */
static int
manage(struct peer *p, int type, const unsigned char *c, size_t len,
    int workers)
{
	unsigned char r[HEADER_LEN + 8] = { 0 };

	if (type == GET_VALUES)
		return values(p, c, len, workers);
	header(r, UNKNOWN_TYPE, 0, 8, 0);
	r[HEADER_LEN] = (unsigned char)type;
	return write_all(p->fd, r, sizeof(r));
}

/*
 * Read the request's FCGI_BEGIN_REQUEST, answer FCGI_UNKNOWN_ROLE and
 * close the connection as libfcgi does: the write side first, then what
 * the server still sends is read to its end, so that no reset can make
 * the server lose the answer.
 */
static void
refuse_role(struct peer *p, const unsigned char *h)
{
	unsigned char r[HEADER_LEN + 8] = { 0 };
	char junk[4096];
	ssize_t n;

	if (readn(p, junk, BEGIN_LEN + PADDING(h)) == -1)
		return;
	header(r, END_REQUEST, ID(h), 8, 0);
	r[HEADER_LEN + 4] = UNKNOWN_ROLE;	/* after appStatus */
	if (write_all(p->fd, r, sizeof(r)) == -1 ||
	    shutdown(p->fd, SHUT_WR) == -1)
		return;
	while ((n = read(p->fd, junk, sizeof(junk))) > 0 ||
	    (n == -1 && errno == EINTR && !*p->stop))
		;
}

static enum admit
records(struct peer *p, int workers, int *role)
{
	static unsigned char c[MAX_LENGTH + 255];
	unsigned char h[BEGIN_LEN];

	for (;;) {
		if (peek(p, h, HEADER_LEN) == -1)
			return ADMIT_GONE;
		if (VERSION(h) != VERSION_1 || (TYPE(h) == BEGIN_REQUEST &&
		    LENGTH(h) != BEGIN_LEN - HEADER_LEN))
			return ADMIT_REQUEST;
		if (TYPE(h) == BEGIN_REQUEST) {
			if (peek(p, h, BEGIN_LEN) == -1)
				return ADMIT_GONE;
			*role = h[HEADER_LEN] << 8 | h[HEADER_LEN + 1];
			if (*role == RESPONDER)
				return ADMIT_REQUEST;
			refuse_role(p, h);
			return ADMIT_REFUSED;
		}
		/* Another request's records are skipped, as libfcgi does. */
		if (readn(p, h, HEADER_LEN) == -1 ||
		    readn(p, c, LENGTH(h) + PADDING(h)) == -1)
			return ADMIT_GONE;
		if (ID(h) == 0 &&
		    manage(p, TYPE(h), c, LENGTH(h), workers) == -1)
			return ADMIT_GONE;
	}
}

enum admit
admit(int fd, int workers, volatile sig_atomic_t *stop, int *role)
{
	struct peer p = { .fd = fd, .ep = -1, .stop = stop };
	enum admit a;

	a = records(&p, workers, role);
	if (p.ep != -1)
		close(p.ep);
	return a;
}
