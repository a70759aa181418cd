/*
 * The supervisor.  It lives in its own session as a child subreaper, so
 * the web server can kill the front at any moment without touching it,
 * and every process the child leaves behind becomes its own.  Here the
 * verdict's actions are carried out (verdict.c decides the connection
 * status and what each event calls for), every signal to the child's
 * processes is ordered (spawn.c sends it), and the child is reaped; then
 * the log line is written.
 *
 * Of the server's descriptors it keeps stderr when that is the log (for
 * the child's stderr once the front is gone), and
 * what the server side gives it to hold while the front lives (a CGI
 * front's standard output): the server sees the end of the response
 * once the process it started is gone, so Apache, which then signals
 * that process and waits while it lives, finds none.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"
#include "link.h"
#include "env.h"
#include "log.h"
#include "parse.h"
#include "proctree.h"
#include "spawn.h"
#include "status.h"
#include "supervise.h"
#include "verdict.h"

#define MAXSIGS	8
#define CTL_LINE 256
#define KILL_RETRY 100		/* ms between SIGKILL rounds */
#define MAX_CTL_NOTES 20	/* bad control lines logged per request */
#define CTL_BACKLOG 16		/* reads of queued control lines at a hangup */
#define TIMER_MAX (100LL * 365 * 24 * 3600 * 1000)
#define FRONT_GONE SIGUSR1	/* our parent-death signal: the front exited */

struct sup {
	struct sup_job	*job;
	struct settings	 set;		/* the script may change it */
	pid_t		 child;
	int		 wstatus;
	struct rusage	 ru;
	bool		 front;		/* the front is there */
	struct verdict	 v;		/* the phase and the status */
	int64_t		 asked;		/* the time limit a control line asks */
	struct timeval	 utime, stime;	/* of every process reaped */
	long		 max_rss;
	unsigned	 procs;
	bool		 slowlogged;	/* request_slowlog_timeout's record */
	int		 sigs[MAXSIGS];
	int		 nsigs;
	int64_t		 elapsed;
	int		 sfd;
	/*
	 * When the time limit and a signal's grace are over, in ms from the
	 * request's start (0 = not set): poll's timeout, no timer to set.
	 */
	int64_t		 deadline, grace;
	int64_t		 hard_at;	/* hard_time_limit's end (ms), or 0 */
	char		 fault[sizeof(((struct msg *)0)->text)];
	char		 ctl[CTL_LINE];
	size_t		 ctllen;
	bool		 ctlskip;
	int		 ctlnotes;	/* control problems logged */
	int		 errlog;	/* the server's error log, -1 = none */
};

static void	child_note(struct sup *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* A note about the child, in the log beside the request's record. */
static void
child_note(struct sup *s, const char *fmt, ...)
{
	char msg[512], pid[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(pid, sizeof(pid), "%d", (int)s->child);
	log_note(msg, "target", s->job->target, "pid", pid, NULL);
}

/* Set a time of s (deadline, grace, hard_at) to ms from now; 0 unsets it. */
static void
timer_arm(struct sup *s, int64_t *at, int64_t ms)
{
	/* Beyond a century is never, and must not overflow. */
	*at = ms == 0 ? 0 : elapsed_ms(&s->job->start) +
	    (ms < TIMER_MAX ? ms : TIMER_MAX);
}

/*
 * The one place where the supervisor signals the child's processes: the
 * whole tree, or the child alone (the notification is for the script,
 * not for the commands it runs).  Only a front whose supervisor died
 * signals them besides (relay.c, through spawn.c too).
 */
static void
signal_child(struct sup *s, int sig, bool tree)
{
	int i;

	if (tree ? kill_tree(s->child, sig) == 0 :
	    kill_one(s->child, sig) == -1)
		return;
	for (i = 0; i < s->nsigs; i++)
		if (s->sigs[i] == sig)
			return;
	if (s->nsigs < MAXSIGS)
		s->sigs[s->nsigs++] = sig;
}

/*
 * The time limit ms (0 = none) from now, but never past hard_time_limit:
 * one time to wait for.
 */
static void
deadline_arm(struct sup *s, int64_t ms)
{
	int64_t left;

	if (s->hard_at != 0) {
		left = s->hard_at - elapsed_ms(&s->job->start);
		/* 0 would unset it: it is due now. */
		if (left < 1)
			left = 1;
		if (ms == 0 || ms > left)
			ms = left;
	}
	timer_arm(s, &s->deadline, ms);
}

static void	let_go(struct sup *);
static bool	read_control(struct sup *);

/*
 * The one place where the verdict's actions are carried out, in its
 * order; true when the request is over.
 */
static bool
step(struct sup *s, enum vevent ev)
{
	int a, i;

	a = verdict_step(&s->v, ev);
	if (a & VA_DRAIN) {
		/*
		 * What the script asked for before the client left comes
		 * first (a bounded look: a script flooding the descriptor
		 * gains nothing).
		 */
		for (i = 0; i < CTL_BACKLOG && s->job->ctl_r != -1 &&
		    read_control(s); i++)
			;
		step(s, VE_ABORT);
	}
	if ((a & VA_TELL_TIMEOUT) && s->front)
		msg_send(s->job->link, M_TIMEOUT, 0, 0, NULL);
	if (a & VA_STOP) {
		signal_child(s, s->set.kill_signal, true);
		timer_arm(s, &s->grace, s->set.kill_grace > 0 ?
		    s->set.kill_grace : 1);
	}
	if (a & VA_KILL) {
		signal_child(s, SIGKILL, true);
		/* One forked while the tree was listed: the next round. */
		timer_arm(s, &s->grace, KILL_RETRY);
	}
	if (a & VA_NOTIFY)
		signal_child(s, s->set.notify_signal, false);
	if (a & VA_EXITED) {
		s->deadline = 0;
		if (s->front)
			msg_send(s->job->link, M_EXITED, s->wstatus,
			    s->v.status, NULL);
		s->job->exited = true;
		if (s->job->reaped != NULL)
			s->job->reaped(s->job);
	}
	if (a & VA_ARM) {
		s->set.max_execution_time = s->asked;
		deadline_arm(s, s->asked);
	}
	if ((a & VA_TELL_FINISH) && s->front)
		msg_send(s->job->link, M_FINISH, 0, 0, NULL);
	if (a & VA_LET_GO)
		let_go(s);
	return a & VA_DONE;
}

/* The server side is gone: before the response ended, the client left. */
static void
abort_request(struct sup *s)
{
	step(s, atomic_load(&s->job->sh->done) ? VE_HANGUP_DONE : VE_HANGUP);
}

/* The time limit, then a grace, if over by now. */
static void
timers_due(struct sup *s)
{
	int64_t now = elapsed_ms(&s->job->start);

	if (s->deadline != 0 && s->deadline <= now) {
		s->deadline = 0;
		step(s, VE_DEADLINE);
	}
	if (s->grace != 0 && s->grace <= now) {
		s->grace = 0;
		step(s, VE_GRACE);
	}
}

/* Did the child die of its CPU limit? */
static bool
cpu_limited(const struct sup *s)
{
	long cpu = s->set.limit[LIM_CPU];

	if (!WIFSIGNALED(s->wstatus))
		return false;
	if (WTERMSIG(s->wstatus) == SIGXCPU)
		return true;
	return cpu > 0 && WTERMSIG(s->wstatus) == SIGKILL &&
	    s->ru.ru_utime.tv_sec + s->ru.ru_stime.tv_sec >= cpu;
}

/* The front is gone, or ended the response itself: the server may see it. */
static void
let_go(struct sup *s)
{
	if (s->job->hold == -1)
		return;
	close(s->job->hold);
	s->job->hold = -1;
}

/*
 * A reaped process's usage includes that of the children it waited for
 * itself; the others were left to us.  So the sums over what we reap
 * cover the whole tree, without counting anything twice.
 */
static void
account(struct sup *s, const struct rusage *ru)
{
	timeradd(&s->utime, &ru->ru_utime, &s->utime);
	timeradd(&s->stime, &ru->ru_stime, &s->stime);
	if (ru->ru_maxrss > s->max_rss)
		s->max_rss = ru->ru_maxrss;
	s->procs++;
}

static void
reap(struct sup *s)
{
	struct signalfd_siginfo si[8];
	struct rusage ru;
	ssize_t n;
	size_t i;
	pid_t pid;
	int ws;

	/* Read in batches: a wake for one signal costs one read. */
	do {
		n = read(s->sfd, si, sizeof(si));
		for (i = 0; n > 0 && i < (size_t)n / sizeof(si[0]); i++)
			/* Stopping the supervisor stops the request. */
			if (si[i].ssi_signo == SIGTERM ||
			    si[i].ssi_signo == SIGINT) {
				s->job->stopped = true;
				step(s, VE_TERM);
			} else if (si[i].ssi_signo == FRONT_GONE)
				step(s, VE_ENDED);
	} while (n == (ssize_t)sizeof(si));
	while ((pid = wait4(-1, &ws, WNOHANG, &ru)) > 0) {
		account(s, &ru);
		if (pid != s->child)
			continue;
		s->wstatus = ws;
		s->ru = ru;
		s->elapsed = elapsed_ms(&s->job->start);
		step(s, cpu_limited(s) ? VE_REAPED_CPU : VE_REAPED);
	}
	if (pid == -1 && errno == ECHILD)
		step(s, VE_EMPTY);
}

static void
set_time_limit(struct sup *s, int64_t ms)
{
	int64_t max = s->set.max_time_limit;

	if (max > 0 && (ms == 0 || ms > max)) {
		child_note(s, "control: time_limit %lldms refused, capped at "
		    "%lldms", (long long)ms, (long long)max);
		ms = max;
	}
	s->asked = ms;
	step(s, VE_TIME_LIMIT);
}

/* A bad control line is logged, but a script must not flood the log. */
static void
bad_control(struct sup *s, const char *line)
{
	if (s->ctlnotes < MAX_CTL_NOTES)
		child_note(s, "control: bad line '%.64s' ignored", line);
	else if (s->ctlnotes == MAX_CTL_NOTES)
		child_note(s, "control: more bad lines, not logged");
	s->ctlnotes++;
}

/* A control line, from the control descriptor or a control header. */
static void
run_control(struct sup *s, const char *line)
{
	struct control c;

	if (!s->set.script_control)
		return;
	if (parse_control(line, &c) == -1) {
		bad_control(s, line);
		return;
	}
	switch (c.op) {
	case CTL_TIME_LIMIT:
		set_time_limit(s, c.ms);
		break;
	case CTL_IGNORE_USER_ABORT:
		step(s, c.on ? VE_IGNORE_ON : VE_IGNORE_OFF);
		break;
	case CTL_FINISH:
		step(s, VE_FINISH);
		break;
	}
}

/* Lines on the control descriptor; an over-long line is dropped whole. */
static bool
read_control(struct sup *s)
{
	char buf[4096], *p, *nl;
	ssize_t n;
	size_t len;

	/* No EOF: we hold a write end (supervise()). */
	if ((n = read(s->job->ctl_r, buf, sizeof(buf))) <= 0)
		return false;
	for (p = buf; p < buf + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + n - p));
		len = (size_t)((nl ? nl : buf + n) - p);
		if (!s->ctlskip && s->ctllen + len < sizeof(s->ctl)) {
			memcpy(s->ctl + s->ctllen, p, len);
			s->ctllen += len;
		} else {
			if (!s->ctlskip)
				bad_control(s, "(a line too long)");
			s->ctlskip = true;
			s->ctllen = 0;
		}
		if (nl == NULL)
			break;
		s->ctl[s->ctllen] = '\0';
		if (!s->ctlskip)
			run_control(s, s->ctl);
		s->ctllen = 0;
		s->ctlskip = false;
	}
	return true;
}

static void
front_gone(struct sup *s)
{
	s->front = false;
	close(s->job->link);
	abort_request(s);
}

static void
from_front(struct sup *s)
{
	struct msg m;
	ssize_t n;

	/*
	 * A front that closed with our messages unread makes the kernel
	 * report ECONNRESET first; what it sent before is still queued
	 * behind the error, and EOF comes after it.
	 */
	while ((n = recv(s->job->link, &m, sizeof(m), 0)) == -1 &&
	    (errno == EINTR || errno == ECONNRESET))
		;
	if (n == -1) {
		if (errno != EAGAIN)
			front_gone(s);
		return;
	}
	if (n == 0) {
		front_gone(s);
		return;
	}
	m.text[sizeof(m.text) - 1] = '\0';
	switch (m.type) {
	case M_HANGUP:
		abort_request(s);
		break;
	case M_CONTROL:
		run_control(s, m.text);
		break;
	case M_ENDED:
		step(s, VE_ENDED);
		break;
	case M_FAULT:
		/*
		 * Like a server, do not let a broken script run on; one that
		 * exited, or is exiting, is reaped rather than signalled.
		 */
		snprintf(s->fault, sizeof(s->fault), "%s", m.text);
		reap(s);
		step(s, exiting(s->child) ? VE_FAULT_EXITING : VE_FAULT);
		break;
	}
}

/*
 * With the front gone, the child's output is read and thrown away; its
 * stderr goes on to the server's error log when there is one (to).
 */
static void
discard(int *fd, int to)
{
	char buf[65536];
	ssize_t n;

	if ((n = read(*fd, buf, sizeof(buf))) > 0 && to != -1)
		(void)write_all(to, buf, (size_t)n);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

static bool
finished(struct sup *s)
{
	/* The front's counts are final only when it is gone. */
	if (s->v.phase < VP_EXITED || s->front || s->job->hold != -1)
		return false;
	return step(s, VE_IDLE);
}

/* The earlier of two times (ms from the start), 0 being none. */
static int64_t
earlier(int64_t a, int64_t b)
{
	return a == 0 || (b != 0 && b < a) ? b : a;
}

/*
 * How long poll(2) may wait: until the time limit, a grace or the
 * slow-request record is due, -1 = for ever.  The record is written
 * here when it is due.
 */
static int
wait_ms(struct sup *s)
{
	int64_t after = s->set.request_slowlog_timeout, due, now;

	now = elapsed_ms(&s->job->start);
	due = earlier(s->deadline, s->grace);
	if (after != 0 && !s->slowlogged && s->v.phase < VP_EXITED) {
		if (now < after)
			due = earlier(due, after);
		else {
			s->slowlogged = true;
			proctree_log(s->job->target, s->child, now);
			if (s->job->slow != NULL)
				atomic_fetch_add(s->job->slow, 1);
		}
	}
	return due == 0 ? -1 : poll_ms(due - now);
}

static void
supervise_loop(struct sup *s)
{
	struct sup_job *j = s->job;
	struct pollfd pfd[6];
	int n;

	while (!finished(s)) {
		n = 0;
		pfd[n++] = (struct pollfd){ s->sfd, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->front ? j->link : -1,
		    POLLIN, 0 };
		pfd[n++] = (struct pollfd){ j->ctl_r, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->front ? -1 : j->out_r,
		    POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->front ? -1 : j->err_r,
		    POLLIN, 0 };
		pfd[n++] = (struct pollfd){ j->call ? j->call->fd : -1,
		    POLLIN, 0 };
		if (poll(pfd, n, wait_ms(s)) == -1) {
			if (errno == EINTR)
				continue;
			child_note(s, "poll: %s", strerror(errno));
			_exit(125);
		}
		if (pfd[0].revents)
			reap(s);
		timers_due(s);
		/* Control lines first: they may have come before a hangup. */
		if (pfd[2].revents)
			read_control(s);
		if (pfd[1].revents)
			from_front(s);
		if (pfd[3].revents && j->out_r != -1)
			discard(&j->out_r, -1);
		if (pfd[4].revents && j->err_r != -1)
			discard(&j->err_r, s->errlog);
		if (pfd[5].revents && j->call->fd != -1)
			j->call->heard(j->call);
	}
}

static void
log_request(struct sup *s, const struct outcome *o)
{
	char *const *cgi = s->job->cgi;

	log_record(&(struct log_record){ env_lookup(cgi, "REQUEST_METHOD"),
	    env_lookup(cgi, "REQUEST_URI"), env_lookup(cgi, "REMOTE_ADDR"),
	    s->job->target, o->status, o->wstatus, o->elapsed_ms, o->bytes_in,
	    o->bytes_out, s->sigs, s->nsigs, o->http, o->pid, s->fault,
	    o->cpu_user_ms, o->cpu_sys_ms, o->max_rss_kb, o->procs });
}

/* Setting up failed: the front answers and names the cause (errno). */
static _Noreturn void
setup_failed(int link)
{
	msg_send(link, M_SPAWNFAIL, errno, 0, NULL);
	_exit(125);
}

/* The signals a supervisor reads from its signalfd. */
static void
sup_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGPIPE);
	sigaddset(set, FRONT_GONE);
}

/*
 * The server's stderr when it is its error log itself (mod_cgid,
 * lighttpd, a FastCGI server's log), which the child run directly
 * would still write to after the response; not a pipe the server reads
 * only while the response runs (mod_cgi).
 */
static int
error_log(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) == -1 || S_ISFIFO(st.st_mode))
		return -1;
	return fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
}

void
sup_open(struct sup_base *b, int link)
{
	sigset_t set;

	b->sfd = b->errlog = -1;
	if (setsid() == -1 || prctl(PR_SET_CHILD_SUBREAPER, 1) == -1 ||
	    signal(SIGCHLD, SIG_DFL) == SIG_ERR)
		setup_failed(link);
	/* Blocked before any child can send them: signalfd reads them. */
	sup_signals(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		setup_failed(link);
}

void
sup_settle(struct sup_base *b, int link)
{
	sigset_t set;
	int null;

	if (b->sfd != -1)
		return;
	b->errlog = error_log();
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1 ||
	    (!log_to_stderr() && dup2(null, 2) == -1))
		setup_failed(link);
	if (null > 2)
		close(null);
	sup_signals(&set);
	if ((b->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		setup_failed(link);
}

/* A front whose descriptor is held must be told of as soon as it dies. */
static void
job_open(struct sup *s)
{
	struct sup_job *j = s->job;

	if (j->hold != -1 && prctl(PR_SET_PDEATHSIG, FRONT_GONE) == -1)
		setup_failed(j->link);
	/* The front may have died before it could be told to signal. */
	if (j->hold != -1 && getppid() != j->front)
		let_go(s);
}

static void
start_child(struct sup *s)
{
	struct sup_job *j = s->job;
	struct spawn sp = {
		.path = j->exec,
		.argv = j->argv,
		.envp = j->envp,
		.fd = { j->body_r, j->out_w, j->err_w },
		.ctlfd = -1,
		.limit = s->set.limit,
		.dir = j->dir,
		.told = &j->sh->child,
	};

	j->ctl_r = j->ctl_w = -1;
	if (s->set.script_control &&
	    pipe_ours(&j->ctl_r, &j->ctl_w, true) == -1)
		setup_failed(j->link);
	sp.ctlfd = j->ctl_w;
	/*
	 * A failure is told before our copies of the child's ends are
	 * closed: the front must know it before it sees EOF there.
	 */
	if ((s->child = spawn(&sp)) == -1) {
		int e = errno;

		msg_send(j->link, M_SPAWNFAIL, e, 0, NULL);
		child_note(s, "cannot run: %s", strerror(e));
		_exit(125);
	}
	close(j->body_r);
	close(j->out_w);
	close(j->err_w);
	timer_arm(s, &s->hard_at, s->set.hard_time_limit);
	deadline_arm(s, s->set.max_execution_time);
}

void
supervise(struct sup_base *b, struct sup_job *j, struct outcome *o)
{
	struct sup s = { .job = j, .set = *j->set, .front = true };

	verdict_init(&s.v, s.set.ignore_user_abort, s.set.notify_signal != 0,
	    s.set.orphans == ORPHANS_KILL);
	start_child(&s);
	/*
	 * The rest of the setting up runs while the child starts: the
	 * program's exec takes far longer.
	 */
	sup_settle(b, j->link);
	s.sfd = b->sfd;
	s.errlog = b->errlog;
	job_open(&s);
	/*
	 * Our copy of the control pipe's write end stays open until the
	 * end: the child's exit then wakes us once (SIGCHLD), not a second
	 * time for the pipe's hangup, which would tell nothing more.
	 */
	supervise_loop(&s);
	if (j->ctl_r != -1) {
		close(j->ctl_r);
		close(j->ctl_w);
	}

	o->status = s.v.status;
	o->wstatus = s.wstatus;
	o->pid = s.child;
	o->elapsed_ms = s.elapsed;
	o->bytes_in = atomic_load(&j->sh->bytes_in);
	o->bytes_out = atomic_load(&j->sh->bytes_out);
	o->http = atomic_load(&j->sh->http);
	o->cpu_user_ms = (int64_t)s.utime.tv_sec * 1000 +
	    s.utime.tv_usec / 1000;
	o->cpu_sys_ms = (int64_t)s.stime.tv_sec * 1000 + s.stime.tv_usec / 1000;
	o->max_rss_kb = s.max_rss;
	o->procs = s.procs;
	log_request(&s, o);
}
