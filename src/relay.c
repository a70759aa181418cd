/*
 * The front.  The web server started this process; it copies the
 * request body to the child and the child's output to the server (the
 * one place where response bytes are copied) and watches the server
 * side for a hangup all the time, not only when it has something to
 * write.  What it learns it tells the supervisor, which decides.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgihdr.h"
#include "config.h"
#include "env.h"
#include "log.h"
#include "link.h"
#include "relay.h"
#include "server.h"
#include "spawn.h"
#include "status.h"
#include "target.h"
#include "watch.h"

#define CHUNK	65536		/* copied through a buffer at a time */
#define SPLICE	(1 << 20)	/* moved by splice(2) at a time */
#define PUMPS	16	/* chunks moved before looking around */
#define BULK	65536		/* output past a default pipe's size */
#define PIPE_SIZE	(1 << 20)	/* the pipes' size for bulk output */
#define GATHER_MAX	4096	/* a read this small pauses the output... */
#define GATHER_NS	250000	/* ...this long (well within 1 ms) */

/*
 * One direction of bulk copying, by splice(2) when the kernel can; wr is
 * set when the destination is a server moving bytes itself (its put).
 */
struct chan {
	int	 src, dst;
	const struct server *wr;
	int64_t	 left;		/* bytes still to move, -1 = until EOF */
	bool	 splice;
	bool	 full;		/* dst would block: wait for POLLOUT */
	bool	 eof;
	char	*pend;		/* read but not yet written */
	size_t	 plen;
	char	*buf;
	uint64_t moved;		/* written to dst */
	/* While set, shown every read's bytes; no splice(2) meanwhile. */
	void	(*peek)(void *, const char *, size_t);
	void	*arg;
};

struct front {
	const struct front_job *job;
	int		 err_r;		/* the child's stderr, -1 once closed */
	const struct server *sv;
	struct chan	 body, out;
	bool		 body_ends;	/* with the response (server says) */
	struct watch	 watch;
	int64_t		 every;		/* ms between looks, 0 = no watch */
	struct timespec	 since;		/* the watch's start */
	int64_t		 next;		/* ms after since: the next look */
	bool		 body_open;
	bool		 body_drop;	/* the child stopped reading */
	char		*hdr;
	size_t		 hlen, hdrbytes;
	struct nphhead	 head;		/* of an nph- response */
	bool		 started;	/* the header block was passed on */
	bool		 translate;	/* an nph- program's head, to be made
					   a CGI header block */
	int64_t		 promise;	/* body bytes the header promises,
					   -1 = until the output ends */
	bool		 done;		/* the response is over */
	bool		 closed;	/* and the server told */
	bool		 out_open;	/* the child's stdout is still read */
	bool		 kick;		/* read stdout without waiting */
	int64_t		 gather;	/* read stdout not before (now_ns) */
	char		 eline[4096];
	size_t		 elen;
	bool		 grown;		/* the pipes are PIPE_SIZE */
	bool		 exited;	/* read stdout until it is empty */
	int		 wstatus;
	int		 code;		/* exit status, -1 while running */
};

/* A message about the target. */
static void	warn_target(const struct front *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
warn_target(const struct front *f, const char *fmt, ...)
{
	char text[LOG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sv_warn(f->sv, 0, "%s: %s", f->job->target, text);
}

static bool
writable(int fd)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT);
}

/* Returns 0 when blocked, 1 on progress, -1 on error (errno). */
static int
chan_flush(struct chan *c)
{
	ssize_t n;

	while (c->plen > 0) {
		if (c->wr != NULL)
			n = c->wr->ops->put(c->wr, 1, c->pend, c->plen) == 0 ?
			    (ssize_t)c->plen : -1;
		else
			n = write(c->dst, c->pend, c->plen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			c->full = true;
			return 0;
		}
		c->pend += n;
		c->plen -= (size_t)n;
		c->moved += (uint64_t)n;
	}
	return 1;
}

static int
chan_pump(struct chan *c)
{
	size_t want = c->left < 0 || c->left > CHUNK ? CHUNK : (size_t)c->left;
	ssize_t n;

	c->full = false;
	if (c->plen > 0)
		return chan_flush(c);
	if (want == 0) {
		c->eof = true;
		return 1;
	}
	if (c->splice && c->wr == NULL && c->peek == NULL) {
		n = splice(c->src, NULL, c->dst, NULL, c->left < 0 ||
		    c->left > SPLICE ? SPLICE : (size_t)c->left,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n >= 0) {
			c->eof = n == 0;
			c->moved += (uint64_t)n;
			if (c->left > 0)
				c->left -= n;
			return 1;
		}
		if (errno == EAGAIN) {
			/* Either side may be the one that would block. */
			c->full = !writable(c->dst);
			return 0;
		}
		if (errno == EINTR)
			return 0;
		if (errno != EINVAL)
			return -1;
		/* A terminal or an O_APPEND file: copy by hand from now on. */
		c->splice = false;
	}
	if (c->buf == NULL && (c->buf = malloc(CHUNK)) == NULL)
		return -1;
	if ((n = read(c->src, c->buf, want)) == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0) {
		c->eof = true;
		return 1;
	}
	if (c->peek != NULL)
		c->peek(c->arg, c->buf, (size_t)n);
	if (c->left > 0)
		c->left -= n;
	c->pend = c->buf;
	c->plen = (size_t)n;
	return chan_flush(c);
}

static void
quit(struct front *f, int code)
{
	if (f->code < 0)
		f->code = code;
}

/* The server side is gone (sig: what a plain CGI would have died of). */
static void
server_gone(struct front *f, int sig)
{
	if (!f->done)
		msg_send(f->job->link, M_HANGUP, 0, 0, NULL);
	quit(f, exit_for(END_HANGUP, sig));
}

/* The response is complete: the server gets EOF now. */
static void
stop_watch(struct front *f)
{
	watch_stop(&f->watch);
	f->every = 0;
}

static bool	relay_err(struct front *);

/*
 * The server sees the end of the response.  A front that stays tells
 * the supervisor, which holds a copy of the server's descriptor while
 * the front lives: it lets go now.
 */
static void
tell_server(struct front *f)
{
	int i;

	/*
	 * The error stream may end with the response (a FastCGI request's,
	 * a pipe under mod_cgi): pass on what the child wrote to stderr so
	 * far first.  A bounded look, but past a whole pipe's worth.
	 */
	for (i = 0; i < 2 * PUMPS && f->err_r != -1 && relay_err(f); i++)
		;
	f->closed = true;
	if (f->sv->ops->stays)
		msg_send(f->job->link, M_ENDED, 0, 0, NULL);
	f->sv->ops->finish(f->sv);
}

static void
end_response(struct front *f)
{
	if (f->done)
		return;
	f->done = true;
	stop_watch(f);
	/* Before the server can see EOF, and maybe kill us for it. */
	atomic_store(&f->job->sh->done, true);
	/* A front that stays ends the response in its loop. */
	if (!f->sv->ops->stays)
		tell_server(f);
	if (f->body_ends && f->body_open) {
		f->body_open = false;
		close(f->body.dst);
	}
	free(f->hdr);
	f->hdr = NULL;
	f->out.plen = 0;
}

/*
 * A header block cgiwrap cannot take is the server's to judge, as it
 * judges a program it runs itself: what was read passes on untouched
 * and the output ends as the program ends it, so the client gets the
 * server's own answer and its script log its own entry.  Only cgiwrap's
 * log line says why.
 */
static void
fault(struct front *f, const char *why)
{
	msg_send(f->job->link, M_FAULT, 0, 0, why);
	f->out.pend = f->hdr;
	f->out.plen = f->hlen;
	f->started = true;
	f->kick = true;
}

static void
control_header(struct front *f, const char *name, const char *value)
{
	char line[sizeof(((struct msg *)0)->text)];

	if (*value == '\0')
		return;
	snprintf(line, sizeof(line), "%s %s", name, value);
	msg_send(f->job->link, M_CONTROL, 0, 0, line);
}

/*
 * The body the response promises: none for HEAD or a local redirect
 * (the server follows it and sends another page), Content-Length bytes
 * when given, -1 = until the output ends.  Once the server has it all,
 * the response is complete, and the server closing the connection on it
 * is no hangup: the program finishes, its further output dropped, as
 * PHP does for HEAD.  What it writes meanwhile still passes, for a
 * server that reads on (Apache ignores a CGI's Content-Length).
 */
static int64_t
promised(const struct front *f, const struct cgihdr *h)
{
	const char *method = env_lookup(f->job->cgi, "REQUEST_METHOD");

	if ((method != NULL && strcmp(method, "HEAD") == 0) ||
	    (h->local_redirect && h->status == 0))
		return 0;
	return h->length;
}

static void
got_header(struct front *f, size_t end)
{
	struct cgihdr h;
	const char *why;
	long len;

	/* Judged before any cut: a broken block passes as it came. */
	if (cgihdr_parse(f->hdr, end, false, &h, &why) < 0) {
		fault(f, why);
		return;
	}
	len = cgihdr_parse(f->hdr, end, f->job->set->script_control, &h,
	    &why);
	control_header(f, "time_limit", h.time_limit);
	control_header(f, "ignore_user_abort", h.ignore_user_abort);
	atomic_store(&f->job->sh->http, h.status ? h.status : 200);
	memmove(f->hdr + len, f->hdr + end, f->hlen - end);
	f->out.pend = f->hdr;
	f->out.plen = (size_t)len + (f->hlen - end);
	f->hdrbytes = (size_t)len;
	f->started = true;
	f->promise = promised(f, &h);
}

/*
 * An nph- response passes untouched; its head is read on the way, for
 * the status and the body's length in the record.  A head that is not
 * HTTP, or not complete within max_header_size, is all body, as it was.
 */
static void
nph_peek(void *arg, const char *buf, size_t len)
{
	struct front *f = arg;
	size_t cap = (size_t)f->job->set->max_header_size;

	if (len > cap - f->head.len)
		len = cap - f->head.len;
	nphhead_scan(&f->head, buf, len);
	if (f->head.status > 0) {
		f->hdrbytes = f->head.len;
		atomic_store(&f->job->sh->http, f->head.status);
	}
	if (f->head.status != 0 || f->head.len == cap)
		f->out.peek = NULL;
}

/* Has the child exited, or is it on its way out? */
static bool
child_gone(struct front *f)
{
	return f->exited || exiting(atomic_load(&f->job->sh->child));
}

/* Output ended: is the response complete now, or when the child exits? */
static bool
ends_now(struct front *f)
{
	if (f->exited)
		return true;
	if (!f->job->set->finish_on_close)
		return false;
	/* An exiting child's status is on its way: a front that stays ends
	 * with it. */
	return !f->sv->ops->stays || !child_gone(f);
}

static void
out_closed(struct front *f)
{
	if (!f->started) {
		fault(f, child_gone(f) ? "exited before a complete header" :
		    "closed its output before a complete header");
		/*
		 * What was read goes on, and the end right after it, as
		 * from the program itself: a server may judge a header cut
		 * short by whether its end came with it.  When the server
		 * is not ready for it all, the end is seen again later.
		 */
		if (chan_flush(&f->out) != 1)
			return;
	}
	f->out_open = false;
	close(f->out.src);
	if (ends_now(f))
		end_response(f);
}

/* Returns whether bytes were read. */
static bool
read_header(struct front *f)
{
	size_t cap = (size_t)f->job->set->max_header_size, end;
	char why[64];
	bool whole = false;
	ssize_t n;

	if (f->hdr == NULL && (f->hdr = malloc(cap)) == NULL) {
		fault(f, "out of memory");
		return false;
	}
	if ((n = read(f->out.src, f->hdr + f->hlen, cap - f->hlen)) == -1) {
		/* The child exited: what it wrote is all there. */
		if (errno == EAGAIN && f->exited)
			out_closed(f);
		return false;
	}
	if (n == 0) {
		out_closed(f);
		return false;
	}
	f->hlen += (size_t)n;
	if (f->translate) {
		if (nph_to_cgi(f->hdr, &f->hlen, cap) == 0)
			return true;
		f->translate = false;
		whole = true;
	}
	/* A block can only end with a newline just read. */
	if ((whole || memchr(f->hdr + f->hlen - n, '\n', (size_t)n) != NULL) &&
	    (end = cgihdr_end(f->hdr, f->hlen)) > 0)
		got_header(f, end);
	else if (f->hlen == cap) {
		snprintf(why, sizeof(why), "header block over %zu bytes", cap);
		fault(f, why);
	}
	return true;
}

/* After the response is over, what the child still writes is dropped. */
static void
drop_output(struct front *f)
{
	char buf[4096];
	ssize_t n;

	if ((n = read(f->out.src, buf, sizeof(buf))) == 0 ||
	    (n == -1 && errno == EAGAIN && f->exited)) {
		f->out_open = false;
		close(f->out.src);
	}
}

/*
 * Bulk output (past BULK, or filling the server's side) gets larger
 * pipes, the child's and the server's (if it is one): fewer wake-ups,
 * and a child may write that much more and exit while the server reads
 * nothing yet, as it could straight into the server's pipe.  Only bulk
 * output: the kernel counts pipe pages per user, and once past
 * pipe-user-pages-soft (64 pipes of 1 MiB) it gives that user's new
 * pipes, the programs' own too, two pages each.  A hint: refused past
 * that limit (EPERM), or for a socket or a file.
 */
static void
grow(struct front *f)
{
	f->grown = true;
	(void)fcntl(f->out.src, F_SETPIPE_SZ, PIPE_SIZE);
	if (f->out.dst != -1)
		(void)fcntl(f->out.dst, F_SETPIPE_SZ, PIPE_SIZE);
}

static void
relay_out(struct front *f)
{
	uint64_t body;
	int i, r;

	if (f->done) {
		drop_output(f);
		return;
	}
	if (!f->started) {
		read_header(f);
		if (!f->started || f->done || !f->out_open)
			return;
	}
	for (i = 0; !f->out.full && !f->out.eof; i++) {
		if (i == PUMPS) {
			/* Let other events in; come back without waiting. */
			f->kick = true;
			return;
		}
		r = chan_pump(&f->out);
		if (!f->grown && (f->out.full || f->out.moved >= BULK))
			grow(f);
		/* Counted at once: a hangup or a pause returns early. */
		body = f->out.moved > f->hdrbytes ?
		    f->out.moved - f->hdrbytes : 0;
		atomic_store(&f->job->sh->bytes_out, body);
		if (f->promise >= 0 && f->out.moved >= f->hdrbytes +
		    (uint64_t)f->promise)
			atomic_store(&f->job->sh->done, true);
		if (r == -1) {
			server_gone(f, SIGPIPE);
			return;
		}
		if (r == 0)
			break;
	}
	if (f->out.eof && f->out.left == 0)
		/* "finish": what the child writes from now on is dropped. */
		end_response(f);
	else if (f->out.eof || (f->exited && !f->out.full && f->out.plen == 0))
		out_closed(f);
}

static void
relay_body(struct front *f)
{
	char buf[CHUNK];
	ssize_t n;
	int r;

	if (f->body_drop) {
		size_t want = f->body.left < 0 ||
		    f->body.left > (int64_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)f->body.left;

		n = want ? read(f->body.src, buf, want) : 0;
		if (n > 0 && f->body.left > 0)
			f->body.left -= n;
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			f->body_open = false;
		return;
	}
	r = chan_pump(&f->body);
	atomic_store(&f->job->sh->bytes_in, f->body.moved);
	if (r == -1 && errno == ECONNRESET) {
		server_gone(f, SIGPIPE);
		return;
	}
	if (r == -1 && errno == EPIPE) {
		/* Keep reading: a server writing the body must not block. */
		f->body_drop = true;
		close(f->body.dst);
	} else if (r == -1 || f->body.eof) {
		f->body_open = false;
		close(f->body.dst);
	}
}

/*
 * Child stderr to the server's error log, whole lines at a time.
 * Returns whether there was something to read.
 */
static bool
relay_err(struct front *f)
{
	ssize_t n;
	size_t len;
	char *nl;
	bool end;

	/* One byte is kept free to end a line that has no newline. */
	n = read(f->err_r, f->eline + f->elen,
	    sizeof(f->eline) - 1 - f->elen);
	if (n > 0)
		f->elen += (size_t)n;
	end = n == 0 || (n == -1 && errno == EAGAIN && f->exited);
	if ((nl = memrchr(f->eline, '\n', f->elen)) != NULL) {
		len = (size_t)(nl - f->eline) + 1;
		(void)f->sv->ops->put(f->sv, 2, f->eline, len);
		memmove(f->eline, f->eline + len, f->elen - len);
		f->elen -= len;
	}
	/* A last line without newline, or one too long to keep whole. */
	if (f->elen > 0 && (end || f->elen == sizeof(f->eline) - 1)) {
		f->eline[f->elen++] = '\n';
		(void)f->sv->ops->put(f->sv, 2, f->eline, f->elen);
		f->elen = 0;
	}
	if (end) {
		close(f->err_r);
		f->err_r = -1;
	}
	return n > 0;
}

static void
spawn_failed(struct front *f, int e)
{
	warn_target(f, "cannot run: %s", strerror(e));
	if (!f->started)
		respond(f->sv, http_for(END_SPAWN, e), f->job->nph);
	end_response(f);
	quit(f, exit_for(END_SPAWN, e));
}

/*
 * The script asked to end the response.  Its output and its control
 * line come through different pipes, so what it wrote before is told
 * by what is queued in its output when the line arrives: that much
 * more, then the end.
 */
static void
finish(struct front *f)
{
	int queued;

	if (f->done || !f->out_open)
		return;
	/* The header block must be there by now. */
	while (!f->started && !f->done && read_header(f))
		;
	if (f->done || !f->out_open)
		return;
	if (!f->started)
		fault(f, "finished before a complete header");
	if (ioctl(f->out.src, FIONREAD, &queued) == -1)
		queued = 0;
	f->out.left = queued;
	f->kick = true;
}

static void
timed_out(struct front *f)
{
	if (!f->started && !f->done)
		respond(f->sv, http_for(END_TIMEOUT, 0), f->job->nph);
	end_response(f);
	quit(f, exit_for(END_TIMEOUT, 0));
}

static void
from_supervisor(struct front *f)
{
	struct msg m;
	ssize_t n;
	int pg;

	if ((n = recv(f->job->link, &m, sizeof(m), 0)) == -1 &&
	    (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		warn_target(f, "supervisor ended unexpectedly");
		/* The child died with it; the rest of its group did not. */
		if ((pg = atomic_load(&f->job->sh->child)) > 0)
			(void)kill_group(pg, SIGKILL);
		if (!f->started)
			respond(f->sv, http_for(END_FAILED, 0), f->job->nph);
		end_response(f);
		quit(f, exit_for(END_FAILED, 0));
		return;
	}
	switch (m.type) {
	case M_SPAWNFAIL:
		spawn_failed(f, m.val);
		break;
	case M_EXITED:
		f->exited = true;
		f->wstatus = m.val;
		/* A CPU limit shows only now; it ends like a timeout. */
		if (m.val2 & ST_TIMEOUT)
			timed_out(f);
		/* Output closed early, but finish_on_close is off: done now. */
		if (!f->out_open)
			end_response(f);
		f->kick = true;
		break;
	case M_FINISH:
		finish(f);
		break;
	case M_TIMEOUT:
		timed_out(f);
		break;
	}
}

static void
start_watch(struct front *f)
{
	int64_t ms = f->job->set->client_watch;
	char *const *cgi = f->job->cgi;

	if (ms <= 0 || watch_start(&f->watch,
	    f->job->set->client_fin == CLIENT_FIN_ABORT,
	    env_lookup(cgi, "SERVER_ADDR"), env_lookup(cgi, "REMOTE_ADDR"),
	    env_lookup(cgi, "REMOTE_PORT")) == -1)
		return;
	f->every = f->next = ms;
	clock_gettime(CLOCK_MONOTONIC, &f->since);
}

/* Nanoseconds left of a pause for output to gather (0: over); -1: none. */
static int64_t
gather_left(const struct front *f)
{
	int64_t left;

	/* Output closed meanwhile (finish, a header cut short): no pause. */
	if (f->gather == 0 || !f->out_open)
		return -1;
	left = f->gather - now_ns();
	return left > 0 ? left : 0;
}

/*
 * How long poll may wait: until the next look at the client or the end
 * of a pause for output to gather, whichever comes first; NULL: no end.
 */
static struct timespec *
wait_time(const struct front *f, struct timespec *ts)
{
	int64_t ns = INT64_MAX, g;

	if (f->kick)
		ns = 0;
	else if (f->every != 0)
		ns = (f->next - elapsed_ms(&f->since)) * 1000000;
	if ((g = gather_left(f)) >= 0 && g < ns)
		ns = g;
	if (ns == INT64_MAX)
		return NULL;
	if (ns < 0)
		ns = 0;
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return ts;
}

/*
 * A program that writes its page a few bytes at a time (cgit: a hundred
 * writes) would wake the front, and through it the server, for every
 * one.  After a small read the front lets the output gather a moment
 * before it reads again; the end of the output (POLLHUP, reported with
 * no event asked for), the child's exit and everything else still wake
 * it at once.  Bulk output is read in large pieces and never waits.
 */
static void
relay_gathered(struct front *f)
{
	uint64_t before = f->out.moved + f->hlen;
	uint64_t n;

	f->kick = false;
	f->gather = 0;
	relay_out(f);
	n = f->out.moved + f->hlen - before;
	if (n > 0 && n < GATHER_MAX && f->out_open && !f->exited &&
	    !f->done)
		f->gather = now_ns() + GATHER_NS;
}

static void
check_client(struct front *f)
{
	int64_t now;

	if (f->every == 0 || (now = elapsed_ms(&f->since)) < f->next)
		return;
	f->next = now + f->every;
	if (watch_check(&f->watch) == 1)
		server_gone(f, SIGPIPE);
}

static int
front_setup(struct front *f)
{
	struct body_info b = { .len = -1 };

	if (f->sv->ops->setup(f->sv, f->job->cgi, &b) == -1)
		return -1;
	start_watch(f);
	f->body.left = b.len;
	f->body_ends = b.ends;
	return 0;
}

/*
 * A front that stays (a CGI's) waits for the child's exit status; one
 * that does not (a FastCGI worker) is free for the next request as soon
 * as the response is complete.
 */
static bool
over(struct front *f)
{
	if (f->code >= 0)
		return true;
	if (f->done && !f->sv->ops->stays)
		f->code = 0;
	else if (f->done && f->exited && f->err_r == -1)
		f->code = exit_for(END_EXITED, f->wstatus);
	return f->code >= 0;
}

static void
front_loop(struct front *f)
{
	const struct front_job *j = f->job;
	const struct server *sv = f->sv;
	struct pollfd pfd[8], gone[2];
	struct timespec ts;
	bool body, out;
	int sig;

	while (!over(f)) {
		/*
		 * Its last look at stderr may have been the one over()
		 * waits for.
		 */
		if (f->done && !f->closed) {
			tell_server(f);
			continue;
		}
		body = f->body_open && (!f->body.full || f->body_drop);
		out = f->out_open && !f->out.full;
		sv->ops->watch(sv, gone);
		pfd[0] = gone[0];
		pfd[1] = (struct pollfd){ j->link, POLLIN, 0 };
		pfd[2] = (struct pollfd){ body ? f->body.src : -1, POLLIN, 0 };
		pfd[3] = (struct pollfd){ f->body_open && f->body.full &&
		    !f->body_drop ? f->body.dst : -1, POLLOUT, 0 };
		pfd[4] = (struct pollfd){ out ? j->out_r : -1,
		    f->gather != 0 ? 0 : POLLIN, 0 };
		pfd[5] = f->done ? (struct pollfd){ -1, 0, 0 } : gone[1];
		pfd[6] = (struct pollfd){ f->err_r, POLLIN, 0 };
		pfd[7] = (struct pollfd){ !f->done && f->out.full &&
		    f->out.dst != -1 ? f->out.dst : -1, POLLOUT, 0 };
		if (ppoll(pfd, 8, wait_time(f, &ts), NULL) == -1) {
			if (errno == EINTR &&
			    (sig = sv->ops->gone(sv, NULL)) != 0) {
				server_gone(f, sig);
				break;
			}
			if (errno == EINTR)
				continue;
			warn_target(f, "poll: %s", strerror(errno));
			quit(f, exit_for(END_FAILED, 0));
			break;
		}
		if ((sig = sv->ops->gone(sv, &pfd[0])) != 0)
			server_gone(f, sig);
		if (pfd[1].revents)
			from_supervisor(f);
		check_client(f);
		if (f->code >= 0)
			break;
		if ((sig = sv->ops->gone(sv, &pfd[5])) != 0) {
			server_gone(f, sig);
			break;
		}
		if (pfd[7].revents & POLLOUT) {
			f->out.full = false;
			f->kick = true;
		}
		if (pfd[3].revents)
			f->body.full = false;
		if (pfd[2].revents && f->body_open)
			relay_body(f);
		if (f->out_open && (pfd[4].revents || f->kick ||
		    gather_left(f) == 0))
			relay_gathered(f);
		if (f->err_r != -1 && (pfd[6].revents || f->exited))
			relay_err(f);
	}
}

int
relay(const struct front_job *j)
{
	struct front f = { .job = j, .sv = j->sv, .err_r = j->err_r,
	    .code = -1, .body_open = true, .out_open = true,
	    .promise = -1,
	    .watch.nl = -1 };

	f.body.src = f.sv->body;
	f.body.dst = j->body_w;
	f.body.splice = f.out.splice = true;
	f.out.src = j->out_r;
	f.out.dst = f.sv->out;
	f.out.wr = f.sv->out == -1 ? f.sv : NULL;
	f.out.left = -1;
	f.started = j->nph;
	/*
	 * The server ran cgiwrap, not an nph- name, and parses a CGI
	 * header block: an nph- program's head is made one.
	 */
	f.translate = !j->nph && target_nph(j->target);
	if (j->nph) {
		f.out.peek = nph_peek;
		f.out.arg = &f;
	}
	if (f.body.src == -1) {
		f.body_open = false;
		close(f.body.dst);
	}
	if (front_setup(&f) == -1) {
		sv_warn(f.sv, errno, "%s: setup", j->target);
		respond(f.sv, http_for(END_FAILED, 0), j->nph);
		return exit_for(END_FAILED, 0);
	}
	front_loop(&f);
	stop_watch(&f);
	f.sv->ops->restore(f.sv);
	/* A FastCGI worker goes on; the supervisor keeps its own copies. */
	if (f.body_open)
		close(f.body.dst);
	if (f.out_open)
		close(f.out.src);
	if (f.err_r != -1)
		close(f.err_r);
	free(f.hdr);
	free(f.body.buf);
	free(f.out.buf);
	return f.code;
}
