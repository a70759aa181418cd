/*
 * One request: the pipes between front, supervisor and child, and the
 * fork that puts the supervisor out of the web server's reach.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "request.h"
#include "spawn.h"
#include "status.h"
#include "supervise.h"
#include "target.h"

#define PIPE_SIZE	(1 << 20)

int
msg_send(int fd, int type, int val, int val2, const char *text)
{
	struct msg m = { .type = type, .val = val, .val2 = val2 };

	if (text != NULL)
		snprintf(m.text, sizeof(m.text), "%s", text);
	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int64_t
request_elapsed(const struct request *rq)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - rq->start.tv_sec) * 1000 +
	    (now.tv_nsec - rq->start.tv_nsec) / 1000000;
}

/* A pipe whose first end (ours, read or write) does not block. */
static int
our_pipe(int *ours, int *theirs, bool ours_reads)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	*ours = p[ours_reads ? 0 : 1];
	*theirs = p[ours_reads ? 1 : 0];
	return fcntl(*ours, F_SETFL, O_NONBLOCK);
}

static int
make_links(struct request *rq)
{
	rq->ctl_r = rq->ctl_w = -1;
	if (our_pipe(&rq->body_w, &rq->body_r, false) == -1 ||
	    our_pipe(&rq->out_r, &rq->out_w, true) == -1 ||
	    /* Fewer wake-ups for bulk output; the default size will do. */
	    (fcntl(rq->out_r, F_SETPIPE_SZ, PIPE_SIZE) == -1 && errno != EPERM) ||
	    our_pipe(&rq->err_r, &rq->err_w, true) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    rq->link) == -1)
		return -1;
	if (!rq->pol.set.script_control)
		return 0;
	if (our_pipe(&rq->ctl_r, &rq->ctl_w, true) == -1)
		return -1;
	return env_set(&rq->env, "CGIWRAP_CONTROL_FD", CTL_FD_NAME);
}

int
request_fail(struct request *rq, const char *what)
{
	int e = errno;

	sv_warn(rq->sv, e, "%s: %s", rq->target ? rq->target : "request", what);
	respond(rq->sv, http_for(END_FAILED, e), rq->nph);
	return exit_for(END_FAILED, e);
}

int
request_start(struct request *rq, const struct config *cfg,
    const struct target *t, char *const *cgi, char *const *argv)
{
	int code;

	rq->cfg = cfg;
	rq->target = t->path;
	rq->argv = argv;
	rq->cgi = cgi;
	rq->dir = t->dir;
	policy_resolve(cfg, t->path, &rq->pol);
	if (env_child(&rq->env, cgi, &rq->pol.set) == -1 ||
	    target_env(t, &rq->env) == -1)
		code = request_fail(rq, "environment");
	else
		code = request_run(rq);
	env_free(&rq->env);
	return code;
}

int
request_run(struct request *rq)
{
	pid_t pid;
	int code;

	rq->sh = mmap(NULL, sizeof(*rq->sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rq->sh == MAP_FAILED)
		return request_fail(rq, "mmap");
	if (make_links(rq) == -1)
		return request_fail(rq, "pipe");
	atomic_store(&rq->sh->http, -1);
	rq->front = getpid();
	if ((pid = fork()) == -1)
		return request_fail(rq, "fork");
	if (pid == 0) {
		close(rq->link[0]);
		supervise(rq);
	}
	close(rq->body_r);
	close(rq->out_w);
	close(rq->err_w);
	close(rq->link[1]);
	if (rq->ctl_r != -1) {
		close(rq->ctl_r);
		close(rq->ctl_w);
	}
	code = relay(rq);
	/* A FastCGI worker runs many requests. */
	munmap(rq->sh, sizeof(*rq->sh));
	return code;
}
