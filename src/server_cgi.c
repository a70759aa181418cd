/*
 * The server side of a CGI.  The server gave descriptors 0, 1 and 2;
 * it gives up on the request with a signal or by closing descriptor 1.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "env.h"
#include "io.h"
#include "server_cgi.h"

static struct {
	int	 sfd;		/* the server's signals, -1 = not set up */
	bool	 same;		/* 0 and 1 are one socket (mod_cgid) */
	bool	 closed;	/* 1 was closed at the end of the response */
	bool	 errgone;	/* and 2 with it (mod_cgi) */
	int	 flags[2];	/* file status flags of 0 and 1, or -1 */
} cgi = { .sfd = -1, .flags = { -1, -1 } };

/*
 * Make a server descriptor non-blocking if it is a pipe or a socket;
 * its flags are kept to be restored, -1 for one left as it was.
 */
static int
nonblocking(int fd, const struct stat *st)
{
	if (!S_ISFIFO(st->st_mode) && !S_ISSOCK(st->st_mode))
		return 0;
	if ((cgi.flags[fd] = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return fcntl(fd, F_SETFL, cgi.flags[fd] | O_NONBLOCK);
}

/* The body's length is CONTENT_LENGTH when it is a number. */
static int64_t
content_length(char *const *vars)
{
	const char *cl = env_lookup(vars, "CONTENT_LENGTH");
	long long n;
	char *end;

	if (cl == NULL || *cl == '\0')
		return -1;
	errno = 0;
	n = strtoll(cl, &end, 10);
	return errno != 0 || *end != '\0' || n < 0 ? -1 : n;
}

/*
 * Signals from the server mean it gave up, and pipes and sockets are
 * made non-blocking to be watched while written.
 */
static int
cgi_setup(const struct server *sv, char *const *vars, struct body_info *b)
{
	struct stat in, out;
	sigset_t set;

	(void)sv;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (cgi.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	if (fstat(STDIN_FILENO, &in) == -1 || fstat(STDOUT_FILENO, &out) == -1)
		return -1;
	cgi.same = in.st_dev == out.st_dev && in.st_ino == out.st_ino &&
	    S_ISSOCK(in.st_mode);
	b->len = content_length(vars);
	/* Closing 1 ends the socket both ways. */
	b->ends = cgi.same;
	return nonblocking(STDIN_FILENO, &in) == -1 ||
	    nonblocking(STDOUT_FILENO, &out) == -1 ? -1 : 0;
}

static int
cgi_put(const struct server *sv, int stream, const char *buf, size_t len)
{
	(void)sv;
	if (stream == STDERR_FILENO && cgi.errgone) {
		errno = EPIPE;
		return -1;
	}
	return write_all(stream, buf, len);
}

static void
cgi_watch(const struct server *sv, struct pollfd gone[2])
{
	(void)sv;
	gone[0] = (struct pollfd){ cgi.sfd, POLLIN, 0 };
	gone[1] = (struct pollfd){ STDOUT_FILENO, 0, 0 };
}

/* The first signal from the server, as 128+N. */
static int
cgi_signalled(void)
{
	struct signalfd_siginfo si;
	int sig = 0;

	while (read(cgi.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		/* Our own write to the child's closed stdin: not the server. */
		if (si.ssi_signo == SIGPIPE && (pid_t)si.ssi_pid == getpid())
			continue;
		if (sig == 0)
			sig = (int)si.ssi_signo;
	}
	return sig;
}

static int
cgi_gone(const struct server *sv, const struct pollfd *p)
{
	(void)sv;
	if (p == NULL || p->revents == 0)
		return 0;
	if (p->fd == cgi.sfd)
		return cgi_signalled();
	return p->revents & (POLLERR | POLLHUP) ? SIGPIPE : 0;
}

/*
 * mod_cgi reads the error pipe it gave to its end before it ends the
 * response, so that pipe must close with the response.  mod_cgid (one
 * socket for 0 and 1) and lighttpd give the error log itself, which
 * stays for what the program writes later.
 */
static bool
error_pipe(void)
{
	struct stat st;

	return !cgi.same && fstat(STDERR_FILENO, &st) == 0 &&
	    S_ISFIFO(st.st_mode);
}

/*
 * A CGI's response ends when descriptor 1 is closed, and under mod_cgi
 * descriptor 2 too.  Only a front that stays on does it here; one about
 * to exit leaves it to exit(2), since the server signals the pid it
 * started at the end of the response (mod_cgi, mod_cgid) and waits for
 * it, 10 ms at a time, while it lives.
 */
static void
cgi_finish(const struct server *sv)
{
	int null;

	(void)sv;
	cgi.closed = true;
	if (cgi.same)
		(void)shutdown(STDOUT_FILENO, SHUT_RDWR);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(null, STDOUT_FILENO) == -1 ||
	    (cgi.same && dup2(null, STDIN_FILENO) == -1))
		close(STDOUT_FILENO);
	if ((cgi.errgone = error_pipe()) &&
	    (null == -1 || dup2(null, STDERR_FILENO) == -1))
		close(STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}

static void
cgi_restore(const struct server *sv)
{
	(void)sv;
	if (cgi.sfd == -1)
		return;
	close(cgi.sfd);
	cgi.sfd = -1;
	/* The descriptions may be shared with whoever started us. */
	if (!cgi.closed && cgi.flags[STDOUT_FILENO] != -1)
		(void)fcntl(STDOUT_FILENO, F_SETFL, cgi.flags[STDOUT_FILENO]);
	if ((!cgi.closed || !cgi.same) && cgi.flags[STDIN_FILENO] != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, cgi.flags[STDIN_FILENO]);
}

/*
 * The supervisor keeps a copy of the front's standard output while the
 * front lives; without one the response ends a moment early, no worse.
 */
static int
cgi_detach(const struct server *sv)
{
	(void)sv;
	return fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
}

static const struct server_ops cgi_ops = {
	.setup = cgi_setup,
	.put = cgi_put,
	.watch = cgi_watch,
	.gone = cgi_gone,
	.finish = cgi_finish,
	.restore = cgi_restore,
	.detach = cgi_detach,
	.stays = true,
};

const struct server server_cgi = {
	.ops = &cgi_ops,
	.body = STDIN_FILENO,
	.out = STDOUT_FILENO,
};
