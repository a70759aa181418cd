/*
 * One request: the pipes between front, supervisor and child, and the
 * fork that puts the supervisor out of the web server's reach (or, for
 * a FastCGI worker, the keeper that is there already: keeper.c).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "keeper.h"
#include "link.h"
#include "log.h"
#include "relay.h"
#include "request.h"
#include "shutdown.h"
#include "spawn.h"
#include "status.h"
#include "supervise.h"
#include "target.h"

/*
 * The front's ends in fj, the supervisor's (and the child's) in sj.  The
 * control pipe is the supervisor's alone: it makes it (supervise.c).
 */
static int
make_links(struct request *rq, struct front_job *fj, struct sup_job *sj)
{
	int end[2];

	fj->body_w = fj->out_r = fj->err_r = fj->link = -1;
	sj->body_r = sj->out_w = sj->err_w = sj->link = -1;
	if (pipe_ours(&fj->body_w, &sj->body_r, false) == -1 ||
	    pipe_ours(&fj->out_r, &sj->out_w, true) == -1 ||
	    pipe_ours(&fj->err_r, &sj->err_w, true) == -1 ||
	    link_open(end) == -1)
		return -1;
	fj->link = end[0];
	sj->link = end[1];
	/* The supervisor drains the child's output once the front is gone. */
	sj->out_r = fj->out_r;
	sj->err_r = fj->err_r;
	if (!rq->pol.set.script_control)
		return 0;
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
	rq->exec = t->exec != NULL ? t->exec : t->path;
	rq->argv = argv;
	rq->cgi = cgi;
	rq->dir = t->dir;
	policy_resolve(cfg, t->path, &rq->pol);
	if (env_build(&rq->env, &(struct env_parts){ cgi,
	    &rq->pol.set.env_unset, &rq->pol.set.env_set, &t->script }) == -1)
		code = request_fail(rq, "environment");
	else
		code = request_run(rq);
	env_free(&rq->env);
	return code;
}

/* The forked supervisor: the child, the log line, the shutdown commands. */
static _Noreturn void
supervisor(struct request *rq, struct sup_job *sj, int body_w)
{
	struct sup_base b;
	struct outcome o;

	close(body_w);
	sj->hold = rq->sv->ops->detach(rq->sv);
	sup_open(&b, sj->link);
	supervise(&b, sj, &o);
	shutdown_run(rq, &o, NULL);
	_exit(0);
}

/* The supervisor's ends, once it has its own (or could not start). */
static void
links_close(struct sup_job *sj)
{
	close(sj->body_r);
	close(sj->out_w);
	close(sj->err_w);
	close(sj->link);
}

/* Every end made so far, on a failure: a worker goes on without them. */
static void
links_drop(struct front_job *fj, struct sup_job *sj)
{
	int *fd[] = { &fj->body_w, &fj->out_r, &fj->err_r, &fj->link,
	    &sj->body_r, &sj->out_w, &sj->err_w, &sj->link };
	size_t i;

	for (i = 0; i < sizeof(fd) / sizeof(fd[0]); i++)
		if (*fd[i] != -1)
			close(*fd[i]);
}

/* The supervisor: forked for this request, or the worker's keeper. */
static int
supervisor_start(struct request *rq, struct front_job *fj, struct sup_job *sj)
{
	struct keeper *k = rq->sv->keeper;
	pid_t pid;

	if (k != NULL)
		return keeper_hand(k, sj);
	if ((pid = fork()) == 0) {
		close(fj->link);
		supervisor(rq, sj, fj->body_w);
	}
	return pid == -1 ? -1 : 0;
}

int
request_run(struct request *rq)
{
	struct front_job fj = { .sv = rq->sv, .target = rq->target,
	    .set = &rq->pol.set, .cgi = rq->cgi, .nph = rq->nph };
	struct sup_job sj = { .target = rq->target, .exec = rq->exec,
	    .dir = rq->dir,
	    .set = &rq->pol.set, .start = rq->start };
	struct keeper *k = rq->sv->keeper;
	int code;

	if ((fj.sh = sj.sh = k != NULL ? keeper_take(k, rq) :
	    shared_map()) == NULL)
		return request_fail(rq, k != NULL ? "keeper" : "mmap");
	if (make_links(rq, &fj, &sj) == -1) {
		code = request_fail(rq, "pipe");
		links_drop(&fj, &sj);
		return code;
	}
	sj.argv = rq->argv;
	sj.envp = rq->env.v;
	sj.cgi = rq->cgi;
	sj.slow = rq->sv->slow;
	/* A keeper's jobs hold nothing of the server's: no front to watch. */
	sj.front = k == NULL ? getpid() : 0;
	if (supervisor_start(rq, &fj, &sj) == -1) {
		code = request_fail(rq, k != NULL ? "keeper" : "fork");
		links_drop(&fj, &sj);
		return code;
	}
	/*
	 * The program's start is what the request waits for, and the
	 * supervisor's to make: on a busy CPU it goes first.  The front has
	 * nothing to do before the program writes.
	 */
	if (k == NULL)
		(void)sched_yield();
	links_close(&sj);
	if (k != NULL) {
		code = relay(&fj);
		close(fj.link);
		return code;
	}
	/* The program starts meanwhile: this need not hold it up. */
	log_check();
	/*
	 * A CGI front that is done ends here.  Its end of the link goes
	 * with its exit, which sends the supervisor its death signal too:
	 * it wakes once for both.  The rest goes too, without the page
	 * copies that freeing it piece by piece would make now that the
	 * supervisor shares the pages.
	 */
	_exit(relay(&fj));
}
