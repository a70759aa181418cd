/*
 * FastCGI mode.  A master opens (or inherits) the listening socket and
 * keeps a pool of workers.  Each worker takes one request at a time with
 * libfcgi and runs it through the same engine as a CGI request: the
 * worker is the front, libfcgi's streams are its server side.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "config.h"
#include "fastcgi.h"
#include "libs.h"
#include "io.h"
#include "keeper.h"
#include "log.h"
#include "pool.h"
#include "request.h"
#include "server.h"
#include "status.h"
#include "statuspage.h"
#include "target.h"

#define BACKLOG	128
#define TRIM_KEEP	(4 << 20)	/* heap kept between requests */

/* The server side of a request: libfcgi's streams. */
struct conn {
	FCGX_Request	*req;
	int		 listen;	/* the listening socket */
	bool		 finished;
};

static volatile sig_atomic_t stopping, reloading, abandon;

/* A worker's stop and reload: let in only while it waits (take). */
static sigset_t held;

/* The pool's shared state, and this worker's slot in it. */
static struct pool *pool;
static int slot;

/* This worker's supervisor, for one request after another. */
static struct keeper keeper = { .fd = -1 };

/* The connection whose request is being read, and whether it was cut. */
static volatile sig_atomic_t reading = -1, overdue;
static timer_t deadline;

/* Why the request's body could not be kept here (errno), or 0. */
static int body_lost;

/*
 * nginx stops sending the body once the response has begun, so the
 * body is read whole first, into an unlinked file (memory stays
 * bounded), and handed to the child from there.  Returns the file
 * (-1 for an empty body) or -2 when the connection failed.  A body
 * that cannot be kept (no TMPDIR, a full disk) is read to its end all
 * the same and dropped, with the reason in body_lost: the request is
 * answered, not its connection dropped.
 */
static int
read_body(FCGX_Request *req)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	int fd = -1, n, gone;

	body_lost = 0;
	while ((n = fcgx.GetStr(buf, sizeof(buf), req->in)) > 0) {
		if (body_lost != 0)
			continue;
		if ((fd == -1 && (fd = open(tmp ? tmp : "/tmp",
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) ||
		    write_all(fd, buf, (size_t)n) == -1)
			body_lost = errno;
	}
	gone = fcgx.GetError(req->in) != 0;
	if (fd != -1 && !gone && body_lost == 0 &&
	    lseek(fd, 0, SEEK_SET) == -1)
		body_lost = errno;
	if (fd != -1 && (gone || body_lost != 0)) {
		close(fd);
		fd = -1;
	}
	return gone ? -2 : fd;
}

/* The body was read whole already: its file goes to the child as is. */
static int
fc_setup(const struct server *sv, char *const *vars, struct body_info *b)
{
	(void)sv;
	(void)vars;
	b->len = -1;
	b->ends = true;
	return 0;
}

static int
fc_put(const struct server *sv, int stream, const char *buf, size_t len)
{
	struct conn *c = sv->ctx;
	FCGX_Stream *s;

	if (c->finished)
		return stream == 2 ? 0 : -1;
	s = stream == 2 ? c->req->err : c->req->out;
	if (fcgx.PutStr(buf, (int)len, s) != (int)len || fcgx.FFlush(s) == -1) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/* The body was read already: nothing may arrive but an abort. */
static void
fc_watch(const struct server *sv, struct pollfd gone[2])
{
	struct conn *c = sv->ctx;

	gone[0] = (struct pollfd){ -1, 0, 0 };
	gone[1] = (struct pollfd){ c->req->ipcFd, POLLRDHUP | POLLIN, 0 };
}

/* The server aborts by closing the connection, the master by SIGALRM. */
static int
fc_gone(const struct server *sv, const struct pollfd *p)
{
	(void)sv;
	if (p == NULL)
		return abandon ? SIGTERM : 0;
	return p->revents & (POLLERR | POLLHUP | POLLRDHUP | POLLIN) ?
	    SIGPIPE : 0;
}

/*
 * The response's end.  libfcgi's close of the connection waits for the
 * server to close first, reading what it sends, lest a reset lose the
 * response's tail; a worker waiting so serves nobody.  Only bytes left
 * unread draw a reset: with none, the connection is closed at once.
 */
static void
finish(FCGX_Request *req)
{
	char b;

	if (!req->keepConnection && recv(req->ipcFd, &b, 1,
	    MSG_PEEK | MSG_DONTWAIT) == -1 && errno == EAGAIN)
		(void)fcgx.Detach(req);
	fcgx.Finish_r(req);
}

static void
fc_finish(const struct server *sv)
{
	struct conn *c = sv->ctx;

	if (!c->finished)
		finish(c->req);
	c->finished = true;
}

static void
fc_restore(const struct server *sv)
{
	(void)sv;
}

/* A worker's connection and socket are not the supervisor's to hold. */
static int
fc_detach(const struct server *sv)
{
	struct conn *c = sv->ctx;

	close(c->req->ipcFd);
	close(c->listen);
	return -1;
}

static const struct server_ops fc_ops = {
	.setup = fc_setup,
	.put = fc_put,
	.watch = fc_watch,
	.gone = fc_gone,
	.finish = fc_finish,
	.restore = fc_restore,
	.detach = fc_detach,
	.stays = false,
};

static void
refuse_request(const struct server *sv, int code, const char *why)
{
	sv_warn(sv, 0, "refused: %s", why);
	respond(sv, http_for(END_REFUSED, code), false);
}

/* One request, read whole, through the engine every mode shares. */
static void
handle(FCGX_Request *req, const struct config *cfg, int lfd, int body)
{
	struct conn c = { .req = req, .listen = lfd };
	struct server sv = { .ops = &fc_ops, .body = body, .out = -1,
	    .ctx = &c, .slow = &pool->slow, .keeper = &keeper };
	struct request rq = { .sv = &sv };
	struct target t = { 0 };
	char *sf = fcgx.GetParam("SCRIPT_FILENAME", req->envp);
	char *argv[2] = { sf, NULL };

	clock_gettime(CLOCK_MONOTONIC, &rq.start);
	if (body_lost != 0) {
		sv_warn(&sv, body_lost, "%s: the request body could not be kept",
		    sf != NULL ? sf : "request");
		respond(&sv, http_for(END_FAILED, body_lost), false);
	} else if (sf == NULL)
		refuse_request(&sv, 404, "no SCRIPT_FILENAME in the request");
	else if (target_handler(&t, cfg, req->envp, sf) == -1)
		refuse_request(&sv, t.code, t.why);
	else
		request_start(&rq, cfg, &t, req->envp, argv);
	fc_finish(&sv);
	if (sv.body >= 0)
		close(sv.body);
	target_free(&t);
}

/* Is the request for the status page? Never in a CGI's place. */
static bool
for_status(FCGX_Request *req, const struct config *cfg)
{
	const char *sn = fcgx.GetParam("SCRIPT_NAME", req->envp);

	return cfg->status_path[0] != '\0' && sn != NULL &&
	    strcmp(sn, cfg->status_path) == 0;
}

/* The status page, from the pool's shared state: no program runs. */
static void
status_answer(FCGX_Request *req, int lfd)
{
	enum statuspage_format f = statuspage_format(
	    fcgx.GetParam("QUERY_STRING", req->envp));
	char *page = NULL;
	size_t len = 0;
	FILE *fp;
	int ok;

	if ((fp = open_memstream(&page, &len)) == NULL) {
		log_warn("status page");
		fcgx.FPrintF(req->out, "Status: 500\r\n\r\n");
		return;
	}
	ok = statuspage_write(fp, pool, lfd, f) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok) {
		log_warn("status page");
		fcgx.FPrintF(req->out, "Status: 500\r\n\r\n");
	} else if (fcgx.FPrintF(req->out, "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n\r\n", statuspage_type(f)) == -1 ||
	    fcgx.PutStr(page, (int)len, req->out) != (int)len)
		log_warnx("status page: the server went away");
	free(page);
}

/*
 * The deadline of a request's read.  Shutting the read side down ends
 * every read of it, the one under way or one about to begin, where a
 * flag could come just before a read and be missed.
 */
static void
cut(void)
{
	int saved = errno;

	if (reading != -1 && shutdown(reading, SHUT_RD) == 0)
		overdue = 1;
	errno = saved;
}

static void
on_signal(int sig)
{
	if (sig == SIGRTMIN)
		cut();
	else if (sig == SIGHUP)
		reloading = 1;
	else if (sig == SIGALRM)
		abandon = 1;
	else {
		stopping = 1;
		fcgx.ShutdownPending();
	}
}

/* Handlers without SA_RESTART, so a blocked accept or poll wakes up. */
static void
catch(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		fatal(125, "sigaction");
}

/* Returns whether the new configuration replaced the old one. */
static bool
reload(struct config **cfg, const struct fastcgi *fc)
{
	struct config *new;

	reloading = 0;
	if ((new = config_load(fc->config, fc->missing_ok)) == NULL) {
		log_warnx("%s: not reloaded, the old configuration stays",
		    fc->config);
		return false;
	}
	config_free(*cfg);
	*cfg = new;
	/* The old log path is freed memory now. */
	log_init((*cfg)->log, (*cfg)->log_format);
	log_check();
	return true;
}

/* Until cleared, the connection fd is cut in ms milliseconds. */
static void
deadline_set(int fd, int64_t ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
	    .tv_nsec = ms % 1000 * 1000000 } };

	overdue = 0;
	reading = fd;
	if (timer_settime(deadline, 0, &its, NULL) == -1)
		fatal(125, "timer_settime");
}

static void
deadline_clear(void)
{
	static const struct itimerspec off;

	if (timer_settime(deadline, 0, &off, NULL) == -1)
		fatal(125, "timer_settime");
	reading = -1;
}

/*
 * The next connection; -1 when a signal came first.  The listening
 * socket may come non-blocking or with a receive timeout from whoever
 * passed it: then accept says EAGAIN, and poll waits.
 */
static int
accept_next(int lfd)
{
	struct pollfd pfd = { lfd, POLLIN, 0 };
	int fd;

	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1)
			return fd;
		switch (errno) {
		case EINTR:
			return -1;
		case EAGAIN:
			if (poll(&pfd, 1, -1) == -1 && errno == EINTR)
				return -1;
			break;
		/* A connection that failed before it was taken (accept(2)). */
		case ECONNABORTED:
		case EPROTO:
		case ENETDOWN:
		case ENOPROTOOPT:
		case EHOSTDOWN:
		case ENONET:
		case EHOSTUNREACH:
		case EOPNOTSUPP:
		case ENETUNREACH:
			break;
		default:
			fatal(1, "accept");
		}
	}
}

/*
 * A worker's stop and reload wake it only here, waiting for a
 * connection.  While it serves one they wait: a signal would break off
 * the read of its body or the write of its response, which libfcgi
 * takes for a broken connection.  One that came meanwhile arrives as
 * soon as it is let in, before the accept.
 */
static int
take(int lfd)
{
	int fd = -1;

	if (sigprocmask(SIG_UNBLOCK, &held, NULL) == -1)
		fatal(125, "sigprocmask");
	if (!stopping && !reloading)
		fd = accept_next(lfd);
	if (sigprocmask(SIG_BLOCK, &held, NULL) == -1)
		fatal(125, "sigprocmask");
	return fd;
}

static const char *
role_name(int role, char *buf, size_t len)
{
	if (role == 2)
		return "AUTHORIZER";
	if (role == 3)
		return "FILTER";
	snprintf(buf, len, "%d", role);
	return buf;
}

/*
 * Read the request on the connection whole, within fastcgi_timeout from
 * its start: the records before it, its parameters and its body.
 * Returns the body as read_body does, or -2 when there is nothing to run
 * (the connection is closed then).
 */
static int
take_request(FCGX_Request *req, const struct config *cfg, int workers)
{
	const char *sf;
	char buf[16];
	int body = -2, role;

	deadline_set(req->ipcFd, cfg->fastcgi_timeout);
	switch (admit(req->ipcFd, workers, &stopping, &role)) {
	case ADMIT_REQUEST:
		/* It ends the last request first: not by closing this one. */
		req->keepConnection = 1;
		if (fcgx.Accept_r(req) != 0)
			break;
		sf = fcgx.GetParam("SCRIPT_FILENAME", req->envp);
		if ((body = read_body(req)) == -2 && !overdue)
			log_warnx("%s: the server went away while sending the "
			    "body", sf ? sf : "request");
		break;
	case ADMIT_REFUSED:
		log_note("refused: FastCGI role other than RESPONDER", "role",
		    role_name(role, buf, sizeof(buf)), NULL);
		/* FALLTHROUGH */
	case ADMIT_GONE:
		close(req->ipcFd);
		req->ipcFd = -1;
		break;
	}
	deadline_clear();
	if (overdue)
		log_warnx("a request not read within fastcgi_timeout: "
		    "connection closed");
	if (overdue && body >= 0)
		close(body);
	/* No answer to a request not read: its connection is closed. */
	if ((overdue || body == -2) && req->ipcFd != -1)
		fcgx.Free(req, 1);
	return overdue ? -2 : body;
}

static void __attribute__((noreturn))
worker(int lfd, struct config *cfg, const struct fastcgi *fc)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL };
	FCGX_Request req;
	int body;

	catch(SIGTERM);
	catch(SIGINT);
	catch(SIGHUP);
	catch(SIGALRM);
	catch(SIGRTMIN);
	sigemptyset(&held);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &held, NULL) == -1)
		fatal(125, "sigprocmask");
	/* Supervisors run on after the worker moved on: nobody waits. */
	if (signal(SIGCHLD, SIG_IGN) == SIG_ERR ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal(125, "signal");
	/*
	 * Each request's buffers would be given back to the kernel at its
	 * end and faulted in afresh by the next one: the worker keeps them.
	 * Only a hint: an allocator that takes none (ASan's) gives back.
	 */
	(void)mallopt(M_TRIM_THRESHOLD, TRIM_KEEP);
	sev.sigev_signo = SIGRTMIN;
	if (timer_create(CLOCK_MONOTONIC, &sev, &deadline) == -1)
		fatal(125, "timer_create");
	/*
	 * Connections are accepted here, with no time limit, and libfcgi
	 * gets none to accept on: when it fails to read a request, it
	 * returns instead of taking the next connection without a deadline.
	 */
	if (fcgx.InitRequest(&req, -1, 0) != 0)
		fatalx(125, "FCGX_InitRequest failed");
	while (!stopping) {
		if (req.ipcFd == -1)
			req.ipcFd = take(lfd);
		/*
		 * Also a reload that came during the accept, before the
		 * connection's request is read.  A keeper knows the
		 * configuration it was forked with.
		 */
		if (reloading && reload(&cfg, fc))
			keeper_retire(&keeper);
		if (req.ipcFd == -1)
			continue;
		pool_enter(pool, slot, POOL_READING, NULL);
		if ((body = take_request(&req, cfg, fc->workers)) != -2) {
			pool_enter(pool, slot, POOL_RUNNING, req.envp);
			if (!for_status(&req, cfg))
				handle(&req, cfg, lfd, body);
			else {
				if (body >= 0)
					close(body);
				status_answer(&req, lfd);
				finish(&req);
			}
		}
		pool_enter(pool, slot, POOL_IDLE, NULL);
	}
	fcgx.Free(&req, 1);
	config_free(cfg);
	_exit(0);
}

static int
open_unix(const char *path, mode_t mode)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		fatalx(125, "%s: socket path too long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal(125, "socket");
	/* Replace a stale socket, never a live one or anything else. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx(125, "%s: exists and is not a socket", path);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			fatalx(125, "%s: in use by a running server", path);
		if (unlink(path) == -1)
			fatal(125, "unlink %s", path);
	}
	/* Born with its mode: no moment where others could connect. */
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal(125, "bind %s", path);
	umask(old);
	if (chmod(path, mode) == -1)
		fatal(125, "chmod %s", path);
	return fd;
}

static int
open_inet(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd, one = 1, rc;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		fatalx(125, "%s: want unix:PATH or HOST:PORT", spec);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	/* [::1]:9000 */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if ((rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai)))
		fatalx(125, "%s: %s", spec, gai_strerror(rc));
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal(125, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		fatal(125, "bind %s", spec);
	freeaddrinfo(ai);
	return fd;
}

static int
open_socket(const struct fastcgi *fc)
{
	int fd = 0;

	if (fc->socket != NULL) {
		if (strncmp(fc->socket, "unix:", 5) == 0)
			fd = open_unix(fc->socket + 5, fc->mode);
		else
			fd = open_inet(fc->socket);
		if (listen(fd, BACKLOG) == -1)
			fatal(125, "listen %s", fc->socket);
	}
	return fd;
}

bool
fastcgi_inherited(void)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/* The worker of slot i. */
static pid_t
start_worker(int i, int lfd, struct config *cfg, const struct fastcgi *fc)
{
	pid_t pid;

	/* Nobody's until the new worker takes it, its only writer. */
	pool_vacate(pool, i);
	if ((pid = fork()) == -1)
		log_warn("fork");
	else if (pid == 0) {
		slot = i;
		pool_join(pool, i);
		worker(lfd, cfg, fc);
	}
	return pid;
}

/* SIGALRM in ms milliseconds (at least one). */
static void
after_ms(int64_t ms)
{
	struct itimerval it = { 0 };

	ms = ms > 0 ? ms : 1;
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	if (setitimer(ITIMER_REAL, &it, NULL) == -1)
		fatal(125, "setitimer");
}

/* Tell every worker; a slot of 0 is empty. */
static void
tell(const pid_t *pids, int n, int sig)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], sig);
}

/*
 * The master: replace workers that die, pass on a reload once the new
 * configuration is known to be good, and on SIGTERM let the workers
 * finish their requests within kill_grace.
 */
int
fastcgi_serve(const struct fastcgi *fc)
{
	struct config *cfg;
	pid_t *pids, pid;
	int lfd, i, alive, ws, late;

	fcgilib_load();
	if ((cfg = config_load(fc->config, fc->missing_ok)) == NULL)
		return 125;
	log_init(cfg->log, cfg->log_format);
	log_check();
	lfd = open_socket(fc);
	if (fcgx.Init() != 0)
		fatalx(125, "FCGX_Init failed");
	if ((pids = calloc((size_t)fc->workers, sizeof(*pids))) == NULL ||
	    (pool = pool_map(fc->workers)) == NULL)
		fatal(125, "workers");
	catch(SIGTERM);
	catch(SIGINT);
	catch(SIGHUP);
	catch(SIGALRM);
	for (i = 0; i < fc->workers; i++)
		pids[i] = start_worker(i, lfd, cfg, fc);

	while (!stopping) {
		if ((pid = waitpid(-1, &ws, 0)) == -1) {
			if (errno != EINTR)
				fatal(125, "waitpid");
			/* Workers reload only a configuration known good. */
			if (reloading && reload(&cfg, fc))
				tell(pids, fc->workers, SIGHUP);
			continue;
		}
		for (i = 0; i < fc->workers; i++)
			if (pids[i] == pid) {
				log_warnx("worker %d ended (status %d), "
				    "replaced", (int)pid, ws);
				pids[i] = start_worker(i, lfd, cfg, fc);
			}
	}

	/*
	 * Stop: no new requests; running ones get kill_grace, then are
	 * abandoned (their supervisors stop them); a worker still there a
	 * second later (stuck reading a silent peer) is killed.
	 */
	tell(pids, fc->workers, SIGTERM);
	after_ms(cfg->global.set.kill_grace);
	for (alive = fc->workers, late = 0; alive > 0; ) {
		if ((pid = waitpid(-1, &ws, 0)) == -1) {
			if (errno == ECHILD)
				break;
			tell(pids, fc->workers, late++ ? SIGKILL : SIGALRM);
			after_ms(1000);
			continue;
		}
		for (i = 0; i < fc->workers; i++)
			if (pids[i] == pid) {
				pids[i] = 0;
				alive--;
			}
	}
	if (fc->socket != NULL && strncmp(fc->socket, "unix:", 5) == 0)
		(void)unlink(fc->socket + 5);
	free(pids);
	pool_unmap(pool);
	config_free(cfg);
	return 0;
}
