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
#include <fcgiapp.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fastcgi.h"
#include "io.h"
#include "log.h"
#include "relay.h"
#include "request.h"
#include "target.h"

#define BACKLOG	128
#define PEER_TIMEOUT 60		/* s a web server may stay silent mid-request */

struct conn {
	FCGX_Request	*req;
	bool		 finished;
};

static volatile sig_atomic_t stopping, reloading, abandon;

/*
 * nginx stops sending the body once the response has begun, so the
 * body is read whole first, into an unlinked file (memory stays
 * bounded), and handed to the child from there.  Returns the file
 * (-1 for an empty body) or -2 when the connection failed.
 */
static int
read_body(FCGX_Request *req)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	int fd = -1, n;

	while ((n = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0) {
		if (fd == -1 && (fd = open(tmp ? tmp : "/tmp",
		    O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) == -1) {
			log_warn("body file");
			return -2;
		}
		if (write_all(fd, buf, (size_t)n) == -1) {
			log_warn("body file");
			close(fd);
			return -2;
		}
	}
	if (FCGX_GetError(req->in) != 0) {
		if (fd != -1)
			close(fd);
		return -2;
	}
	if (fd != -1 && lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return -2;
	}
	return fd;
}

static int
fc_write(void *ctx, int stream, const char *buf, size_t len)
{
	struct conn *c = ctx;
	FCGX_Stream *s;

	if (c->finished)
		return stream == 2 ? 0 : -1;
	s = stream == 2 ? c->req->err : c->req->out;
	if (FCGX_PutStr(buf, (int)len, s) != (int)len || FCGX_FFlush(s) == -1) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

static void
fc_finish(void *ctx)
{
	struct conn *c = ctx;

	if (!c->finished)
		FCGX_Finish_r(c->req);
	c->finished = true;
}

static void
refuse(struct server *sv, int code, const char *why)
{
	sv_warn(sv, 0, "refused: %s", why);
	respond(sv, code, false);
}

/* One request, through the engine every mode shares. */
static void
handle(FCGX_Request *req, const struct config *cfg, int lfd)
{
	struct conn c = { .req = req };
	struct server sv = { .fd = req->ipcFd, .listen = lfd,
	    .stop = &abandon, .write = fc_write, .finish = fc_finish,
	    .ctx = &c };
	struct request rq = { .sv = &sv };
	struct target t = { 0 };
	char *sf = FCGX_GetParam("SCRIPT_FILENAME", req->envp);
	char *argv[2] = { sf, NULL };

	clock_gettime(CLOCK_MONOTONIC, &rq.start);
	/* libfcgi accepts without SOCK_CLOEXEC. */
	(void)fcntl(req->ipcFd, F_SETFD, FD_CLOEXEC);
	if ((sv.body = read_body(req)) == -2)
		log_warnx("%s: the server went away while sending the body",
		    sf ? sf : "request");
	else if (sf == NULL)
		refuse(&sv, 404, "no SCRIPT_FILENAME in the request");
	else if (target_handler(&t, cfg, req->envp, sf) == -1)
		refuse(&sv, t.code, t.why);
	else
		request_start(&rq, cfg, &t, req->envp, argv);
	fc_finish(&c);
	if (sv.body >= 0)
		close(sv.body);
	target_free(&t);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reloading = 1;
	else if (sig == SIGALRM)
		abandon = 1;
	else {
		stopping = 1;
		FCGX_ShutdownPending();
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

static void
reload(struct config **cfg, const struct fastcgi *fc)
{
	struct config *new;

	reloading = 0;
	if ((new = config_load(fc->config, fc->missing_ok)) == NULL) {
		log_warnx("%s: not reloaded, the old configuration stays",
		    fc->config);
		return;
	}
	config_free(*cfg);
	*cfg = new;
	log_init((*cfg)->log);
}

static void __attribute__((noreturn))
worker(int lfd, struct config *cfg, const struct fastcgi *fc)
{
	FCGX_Request req;

	catch(SIGTERM);
	catch(SIGINT);
	catch(SIGHUP);
	catch(SIGALRM);
	/* Supervisors run on after the worker moved on: nobody waits. */
	if (signal(SIGCHLD, SIG_IGN) == SIG_ERR ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal(125, "signal");
	if (FCGX_InitRequest(&req, lfd, 0) != 0)
		fatalx(125, "FCGX_InitRequest failed");
	while (!stopping && FCGX_Accept_r(&req) == 0) {
		if (reloading)
			reload(&cfg, fc);
		handle(&req, cfg, lfd);
		if (stopping)
			break;
	}
	FCGX_Free(&req, 1);
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
	/* Inherited by every connection: libfcgi waits for nobody forever. */
	struct timeval quiet = { .tv_sec = PEER_TIMEOUT };
	int fd = 0;

	if (fc->socket != NULL) {
		if (strncmp(fc->socket, "unix:", 5) == 0)
			fd = open_unix(fc->socket + 5, fc->mode);
		else
			fd = open_inet(fc->socket);
		if (listen(fd, BACKLOG) == -1)
			fatal(125, "listen %s", fc->socket);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet)) == -1)
		fatal(125, "setsockopt");
	return fd;
}

bool
fastcgi_inherited(void)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

static pid_t
start_worker(int lfd, struct config *cfg, const struct fastcgi *fc)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		log_warn("fork");
	else if (pid == 0)
		worker(lfd, cfg, fc);
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
tell(const pid_t *pool, int n, int sig)
{
	int i;

	for (i = 0; i < n; i++)
		if (pool[i] > 0)
			kill(pool[i], sig);
}

/*
 * The master: replace workers that die, pass on a reload once the new
 * configuration is known to be good, and on SIGTERM let the workers
 * finish their requests within kill_grace.
 */
int
fastcgi_serve(const struct fastcgi *fc)
{
	struct config *cfg, *new;
	pid_t *pool, pid;
	int lfd, i, alive, ws, late;

	if ((cfg = config_load(fc->config, fc->missing_ok)) == NULL)
		return 125;
	log_init(cfg->log);
	lfd = open_socket(fc);
	if (FCGX_Init() != 0)
		fatalx(125, "FCGX_Init failed");
	if ((pool = calloc((size_t)fc->workers, sizeof(*pool))) == NULL)
		fatal(125, "workers");
	catch(SIGTERM);
	catch(SIGINT);
	catch(SIGHUP);
	catch(SIGALRM);
	for (i = 0; i < fc->workers; i++)
		pool[i] = start_worker(lfd, cfg, fc);

	while (!stopping) {
		if ((pid = waitpid(-1, &ws, 0)) == -1) {
			if (errno != EINTR)
				fatal(125, "waitpid");
			if (reloading) {
				reloading = 0;
				if ((new = config_load(fc->config,
				    fc->missing_ok)) == NULL) {
					log_warnx("%s: not reloaded, the old "
					    "configuration stays", fc->config);
					continue;
				}
				config_free(cfg);
				cfg = new;
				/* The old log path is freed memory now. */
				log_init(cfg->log);
				tell(pool, fc->workers, SIGHUP);
			}
			continue;
		}
		for (i = 0; i < fc->workers; i++)
			if (pool[i] == pid) {
				log_warnx("worker %d ended (status %d), "
				    "replaced", (int)pid, ws);
				pool[i] = start_worker(lfd, cfg, fc);
			}
	}

	/*
	 * Stop: no new requests; running ones get kill_grace, then are
	 * abandoned (their supervisors stop them); a worker still there a
	 * second later (stuck reading a silent peer) is killed.
	 */
	tell(pool, fc->workers, SIGTERM);
	after_ms(cfg->global.set.kill_grace);
	for (alive = fc->workers, late = 0; alive > 0; ) {
		if ((pid = waitpid(-1, &ws, 0)) == -1) {
			if (errno == ECHILD)
				break;
			tell(pool, fc->workers, late++ ? SIGKILL : SIGALRM);
			after_ms(1000);
			continue;
		}
		for (i = 0; i < fc->workers; i++)
			if (pool[i] == pid) {
				pool[i] = 0;
				alive--;
			}
	}
	if (fc->socket != NULL && strncmp(fc->socket, "unix:", 5) == 0)
		(void)unlink(fc->socket + 5);
	free(pool);
	config_free(cfg);
	return 0;
}
