/*
 * A FastCGI worker's keeper: a supervisor that lives on from one request
 * to the next, so that a request costs a vfork of its program rather
 * than a fork of the worker.  The worker forks it, once, and hands it
 * jobs over a socket: the program to run, its environment and the
 * descriptors of its pipes.  It runs them one at a time, each exactly as
 * a supervisor forked for the request would (supervise.c), in its own
 * session, as the subreaper of what they leave behind.
 *
 * A job that outlives its response (a program ignoring the client's
 * abort, shutdown commands to run, processes left behind) keeps its
 * keeper to itself: when the worker has its next job ready and asks,
 * the keeper answers that it lingers, and ends with its job; the worker
 * forks a new one.  So no job ever shares a session, a subreaper or a
 * signal with another.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "keeper.h"
#include "link.h"
#include "request.h"
#include "shutdown.h"
#include "spawn.h"
#include "status.h"
#include "supervise.h"
#include "watch.h"

/* The worker says K_JOB or K_WANT, the keeper answers K_IDLE or K_LINGER. */
enum { K_JOB = 1, K_WANT, K_IDLE, K_LINGER };

/* The child's 0, 1, 2, the front's out and err, the link. */
#define JOB_FDS	6

/*
 * A job on the wire: this head, then its strings (target, exec, dir,
 * argv, envp, the server's variables, each NUL-terminated), with the
 * descriptors on the first byte.
 */
struct job_head {
	int		 type;
	struct timespec	 start;
	uint32_t	 nargv, nenv, ncgi;
	uint32_t	 len;		/* of the strings */
};

/* A job as the keeper received it. */
struct job {
	struct job_head	 h;
	char		*str;		/* the strings */
	char		**vec;		/* argv, envp and cgi, one array */
	int		 fd[JOB_FDS];
	size_t		 nfd;
};

static void
put_vec(FILE *fp, char *const *v, uint32_t *n)
{
	for (*n = 0; v[*n] != NULL; (*n)++)
		fwrite(v[*n], 1, strlen(v[*n]) + 1, fp);
}

/* The head and the strings, in one buffer. */
static char *
job_pack(const struct sup_job *j, size_t *len)
{
	struct job_head h = { .type = K_JOB, .start = j->start };
	char *buf = NULL;
	FILE *fp;

	if ((fp = open_memstream(&buf, len)) == NULL)
		return NULL;
	fwrite(&h, sizeof(h), 1, fp);
	fwrite(j->target, 1, strlen(j->target) + 1, fp);
	fwrite(j->exec, 1, strlen(j->exec) + 1, fp);
	fwrite(j->dir ? j->dir : "", 1, j->dir ? strlen(j->dir) + 1 : 1, fp);
	put_vec(fp, j->argv, &h.nargv);
	put_vec(fp, j->envp, &h.nenv);
	put_vec(fp, j->cgi, &h.ncgi);
	if ((ferror(fp) | fclose(fp)) != 0 || *len - sizeof(h) > UINT32_MAX) {
		free(buf);
		return NULL;
	}
	h.len = (uint32_t)(*len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	return buf;
}

int
keeper_hand(struct keeper *k, const struct sup_job *j)
{
	int fds[JOB_FDS] = { j->body_r, j->out_w, j->err_w, j->out_r,
	    j->err_r, j->link };
	size_t len;
	union {
		struct cmsghdr	 c;
		char		 buf[CMSG_SPACE(sizeof(fds))];
	} u = { 0 };
	struct iovec iov;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	char *buf;
	ssize_t n;
	int rc = -1;

	if ((buf = job_pack(j, &len)) == NULL)
		return -1;
	iov = (struct iovec){ buf, len };
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	while ((n = sendmsg(k->fd, &m, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		;
	/* The descriptors went with the first bytes; the rest may follow. */
	if (n != -1 && write_all(k->fd, buf + n, len - (size_t)n) == 0) {
		k->busy = true;
		rc = 0;
	} else
		keeper_retire(k);
	free(buf);
	return rc;
}

/*
 * Is the keeper's job over, and the keeper still there?  A busy one is
 * asked, unless it told already; an idle one says nothing more, but
 * EOF if it died since.
 */
static bool
keeper_free(struct keeper *k)
{
	struct job_head want = { .type = K_WANT };
	char r = 0;
	ssize_t n;

	if (k->busy) {
		/* It answers at once, or once its job's program is reaped. */
		if ((n = recv(k->fd, &r, 1, MSG_DONTWAIT)) == -1 &&
		    errno == EAGAIN &&
		    write_all(k->fd, &want, sizeof(want)) == 0)
			n = recv(k->fd, &r, 1, 0);
		if (n != 1 || r != K_IDLE)
			return false;
		k->busy = false;
	}
	return recv(k->fd, &r, 1, MSG_DONTWAIT | MSG_PEEK) == -1 &&
	    errno == EAGAIN;
}

void
keeper_retire(struct keeper *k)
{
	if (k->fd == -1)
		return;
	close(k->fd);
	shared_unmap(k->sh);
	k->fd = -1;
	k->sh = NULL;
	k->busy = false;
}

static _Noreturn void	keeper(int, const struct request *, struct shared *);

struct shared *
keeper_take(struct keeper *k, const struct request *rq)
{
	int end[2];
	pid_t pid;

	if (k->fd != -1 && !keeper_free(k))
		keeper_retire(k);
	if (k->fd == -1) {
		if ((k->sh = shared_map()) == NULL)
			return NULL;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    end) == -1) {
			shared_unmap(k->sh);
			return NULL;
		}
		if ((pid = fork()) == 0) {
			close(end[0]);
			keeper(end[1], rq, k->sh);
		}
		close(end[1]);
		k->fd = end[0];
		if (pid == -1) {
			keeper_retire(k);
			return NULL;
		}
	}
	shared_reset(k->sh);
	return k->sh;
}

/* The keeper's side from here on. */

static void
answer(int fd, char r)
{
	while (send(fd, &r, 1, MSG_NOSIGNAL) == -1 && errno == EINTR)
		;
}

/* Anything of the job left, still running or not yet reaped? */
static bool
children_left(void)
{
	siginfo_t si;

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* What the keeper knows of the worker while a job runs. */
struct line {
	int		 fd;
	struct call	 call;		/* fd while it is to be watched */
	struct sup_job	*job;
	bool		 asked;		/* the worker waits for an answer */
	bool		 gone;		/* the worker hung up */
	bool		 lingers;	/* no more jobs: the keeper ends */
};

/* Said at once, asked or not: the worker must never wait for the job. */
static void
linger(struct line *l)
{
	if (!l->lingers && !l->gone)
		answer(l->fd, K_LINGER);
	l->lingers = true;
}

/* The worker's word: true when it asks for a keeper, false if gone. */
static bool
asks(struct line *l)
{
	struct job_head h;

	/* Asked once; a worker that hung up asks nothing. */
	l->asked = recv(l->fd, &h, sizeof(h), MSG_WAITALL) ==
	    (ssize_t)sizeof(h) && h.type == K_WANT;
	l->gone = !l->asked;
	l->call.fd = -1;
	return l->asked;
}

/*
 * Its job over but for its own ending (a program exiting or reaped, no
 * process left behind: the front is gone, since the worker has its next
 * job), a keeper is worth the worker's wait: it answers when the job is
 * over.  Else it lingers at once.
 */
static void
heard(struct call *c)
{
	struct line *l = c->arg;
	struct sup_job *j = l->job;
	pid_t child = atomic_load(&j->sh->child);

	if (!asks(l) || (j->exited ? children_left() :
	    child <= 0 || !exiting(child)))
		linger(l);
}

/* The program is reaped: what it left behind may run on. */
static void
reaped(struct sup_job *j)
{
	struct line *l = j->call->arg;

	if (l->asked && children_left())
		linger(l);
}

/* Shutdown commands take their time: the worker does not wait for them. */
static void
heard_late(struct call *c)
{
	(void)asks(c->arg);
	linger(c->arg);
}

/* Wait for the worker's word; stopped while idle, the keeper just ends. */
static void
await(int fd, const struct sup_base *b)
{
	struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { b->sfd, POLLIN, 0 } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			_exit(125);
		while (pfd[1].revents &&
		    read(b->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				_exit(0);
		if (pfd[0].revents)
			return;
	}
}

/* Split n strings from *p (within end) into v, NULL-terminated. */
static int
unpack(char **p, const char *end, char **v, uint32_t n)
{
	uint32_t i;
	char *nul;

	for (i = 0; i < n; i++) {
		if ((nul = memchr(*p, '\0', (size_t)(end - *p))) == NULL)
			return -1;
		v[i] = *p;
		*p = nul + 1;
	}
	v[n] = NULL;
	return 0;
}

static void
job_free(struct job *jb)
{
	size_t i;

	for (i = 0; i < jb->nfd; i++)
		if (jb->fd[i] != -1)
			close(jb->fd[i]);
	free(jb->str);
	free(jb->vec);
}

/* The next message; 0 with a job in jb, 1 for a stale K_WANT, -1. */
static int
job_recv(int fd, struct job *jb)
{
	union {
		struct cmsghdr	 c;
		char		 buf[CMSG_SPACE(sizeof(jb->fd))];
	} u;
	struct iovec iov = { &jb->h, sizeof(jb->h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t n;

	memset(jb, 0, sizeof(*jb));
	while ((n = recvmsg(fd, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	for (c = CMSG_FIRSTHDR(&m); n > 0 && c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			jb->nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(jb->fd, CMSG_DATA(c), jb->nfd * sizeof(int));
		}
	if (n != (ssize_t)sizeof(jb->h) || (m.msg_flags & MSG_CTRUNC))
		return -1;
	if (jb->h.type == K_WANT && jb->nfd == 0)
		return 1;
	return jb->h.type == K_JOB && jb->nfd == JOB_FDS ? 0 : -1;
}

/* The strings of the job: target, exec and dir in s[0..2], s[3] NULL. */
static int
job_read(int fd, struct job *jb, char *s[4])
{
	const struct job_head *h = &jb->h;
	size_t nvec = (size_t)h->nargv + h->nenv + h->ncgi + 3;
	char *p, *end;

	if ((jb->str = malloc((size_t)h->len + 1)) == NULL ||
	    (jb->vec = calloc(nvec, sizeof(char *))) == NULL ||
	    read_all(fd, jb->str, h->len) == -1)
		return -1;
	jb->str[h->len] = '\0';
	p = jb->str;
	end = p + h->len;
	if (unpack(&p, end, s, 3) == -1 ||
	    unpack(&p, end, jb->vec, h->nargv) == -1 ||
	    unpack(&p, end, jb->vec + h->nargv + 1, h->nenv) == -1 ||
	    unpack(&p, end, jb->vec + h->nargv + h->nenv + 2, h->ncgi) == -1 ||
	    h->nargv == 0)
		return -1;
	return 0;
}

/*
 * One job, as a supervisor of its own would run it; a keeper that
 * lingers ends with it.
 */
static void
job_run(int fd, struct sup_base *b, struct job *jb,
    const struct request *w, struct shared *sh)
{
	struct request rq = { .cfg = w->cfg };
	struct line l = { .fd = fd, .call = { .fd = fd, .heard = heard } };
	struct sup_job sj = { .sh = sh, .hold = -1, .slow = w->sv->slow,
	    .call = &l.call, .reaped = reaped };
	struct outcome o;
	char *s[4];

	if (job_read(fd, jb, s) == -1)
		_exit(125);
	rq.target = sj.target = s[0];
	rq.exec = sj.exec = s[1];
	rq.dir = sj.dir = *s[2] != '\0' ? s[2] : NULL;
	rq.argv = sj.argv = jb->vec;
	rq.env.v = jb->vec + jb->h.nargv + 1;
	sj.envp = rq.env.v;
	rq.cgi = sj.cgi = rq.env.v + jb->h.nenv + 1;
	rq.start = sj.start = jb->h.start;
	/* The worker's configuration, as it was when it forked us. */
	policy_resolve(rq.cfg, rq.target, &rq.pol);
	sj.set = &rq.pol.set;
	l.job = &sj;
	l.call.arg = &l;
	sj.body_r = jb->fd[0];
	sj.out_w = jb->fd[1];
	sj.err_w = jb->fd[2];
	sj.out_r = jb->fd[3];
	sj.err_r = jb->fd[4];
	sj.link = jb->fd[5];
	/* supervise() closes what it is done with; the rest is ours. */
	memset(jb->fd, -1, sizeof(jb->fd));
	supervise(b, &sj, &o);
	if (sj.out_r != -1)
		close(sj.out_r);
	if (sj.err_r != -1)
		close(sj.err_r);
	if (sj.stopped || children_left() ||
	    (l.asked && shutdown_due(&rq, o.status)))
		linger(&l);
	/*
	 * Shutdown commands run here; if the worker asks meanwhile, the
	 * keeper lingers, and ends once they are done.
	 */
	l.call.heard = heard_late;
	shutdown_run(&rq, &o, l.lingers ? NULL : &l.call);
	/* Nothing but a shutdown command can have started a process since. */
	if (!l.lingers && shutdown_due(&rq, o.status) && children_left())
		linger(&l);
	if (l.lingers)
		_exit(0);
	answer(fd, K_IDLE);
}

static _Noreturn void
keeper(int fd, const struct request *w, struct shared *sh)
{
	struct sup_base b;
	struct job jb;
	int rc;

	/*
	 * The worker's connection, socket, request body and client watch
	 * are not ours.
	 */
	(void)w->sv->ops->detach(w->sv);
	if (w->sv->body >= 0)
		close(w->sv->body);
	watch_close();
	sup_open(&b, -1);
	sup_settle(&b, -1);
	for (;;) {
		await(fd, &b);
		if ((rc = job_recv(fd, &jb)) == 0)
			job_run(fd, &b, &jb, w, sh);
		job_free(&jb);
		if (rc == -1)
			_exit(0);
	}
}
