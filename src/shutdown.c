/*
 * Shutdown commands.  They run one after the other with the program's
 * environment and the request's final status; what they print goes to
 * the log, line by line, never to the client.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shutdown.h"
#include "spawn.h"
#include "status.h"

#define MAX_LINES	100	/* lines of output logged per command */

struct run {
	const struct request	*rq;
	struct call		*call;
	const struct shutdown_cmd *cmd;
	char			 line[1024];
	size_t			 len;
	int			 lines;
};

static void
say(const struct run *r, const char *what)
{
	log_note(what, "target", r->rq->target, "shutdown", r->cmd->name, NULL);
}

static void
flush_line(struct run *r)
{
	if (r->len == 0)
		return;
	r->line[r->len] = '\0';
	if (r->lines < MAX_LINES)
		say(r, r->line);
	else if (r->lines == MAX_LINES)
		say(r, "more output not logged");
	r->lines++;
	r->len = 0;
}

static void
take_output(struct run *r, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n' || r->len == sizeof(r->line) - 1)
			flush_line(r);
		if (buf[i] != '\n')
			r->line[r->len++] = buf[i];
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Log the command's output until it has exited and what it wrote is
 * read (a background process of its own may hold the pipe: not waited
 * for), or until its time is up.
 */
static bool
watch(struct run *r, int out, int pidfd)
{
	struct pollfd pfd[3] = { { out, POLLIN, 0 }, { pidfd, POLLIN, 0 },
	    { -1, POLLIN, 0 } };
	int64_t now = now_ms(), end;
	char buf[4096];
	ssize_t n;
	int left;

	end = r->cmd->timeout > INT64_MAX - now ? INT64_MAX :
	    now + r->cmd->timeout;
	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		now = now_ms();
		if (now >= end)
			return false;
		left = poll_ms(end - now);
		pfd[2].fd = r->call != NULL ? r->call->fd : -1;
		if (poll(pfd, 3, left) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (pfd[0].revents) {
			if ((n = read(out, buf, sizeof(buf))) > 0)
				take_output(r, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				pfd[0].fd = -1;
		}
		if (pfd[1].revents)
			pfd[1].fd = -1;
		if (pfd[2].revents && r->call->fd != -1)
			r->call->heard(r->call);
		if (pfd[1].fd == -1 && pfd[0].fd != -1 &&
		    poll(pfd, 1, 0) == 0)
			pfd[0].fd = -1;
	}
	return true;
}

static void
run_one(struct run *r, char *const *envp)
{
	struct spawn sp = { .path = r->cmd->argv.v[0], .argv = r->cmd->argv.v,
	    .envp = envp, .ctlfd = -1 };
	char what[256], st[32];
	int p[2], pidfd, ws;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		say(r, strerror(errno));
		return;
	}
	sp.fd[0] = -1;
	sp.fd[1] = sp.fd[2] = p[1];
	pid = spawn(&sp);
	close(p[1]);
	if (pid == -1) {
		snprintf(what, sizeof(what), "cannot run %s: %s",
		    r->cmd->argv.v[0], strerror(errno));
		say(r, what);
		close(p[0]);
		return;
	}
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 ||
	    !watch(r, p[0], pidfd)) {
		kill(-pid, SIGKILL);
		snprintf(what, sizeof(what), "killed after its %lldms timeout",
		    (long long)r->cmd->timeout);
		say(r, what);
	}
	flush_line(r);
	while (waitpid(pid, &ws, 0) == -1 && errno == EINTR)
		;
	if (pidfd != -1)
		close(pidfd);
	close(p[0]);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		exit_status(ws, st, sizeof(st));
		snprintf(what, sizeof(what), "%s %s", exit_code(ws), st);
		say(r, what);
	}
}

static int
status_env(struct env *e, const struct request *rq, const struct outcome *o)
{
	char num[32];
	int rc = 0;

#define SETNUM(name, fmt, v) (snprintf(num, sizeof(num), fmt, v), \
	    env_set(e, name, num))
	rc |= SETNUM("CGIWRAP_STATUS", "%d", o->status);
	rc |= env_set(e, "CGIWRAP_STATUS_NAME", status_name(o->status));
	rc |= env_set(e, "CGIWRAP_EXIT_CODE", exit_code(o->wstatus));
	exit_status(o->wstatus, num, sizeof(num));
	rc |= env_set(e, "CGIWRAP_EXIT_STATUS", num);
	rc |= SETNUM("CGIWRAP_PID", "%d", (int)o->pid);
	rc |= env_set(e, "CGIWRAP_TARGET", rq->target);
	rc |= SETNUM("CGIWRAP_ELAPSED_MS", "%lld", (long long)o->elapsed_ms);
	rc |= SETNUM("CGIWRAP_BYTES_IN", "%llu",
	    (unsigned long long)o->bytes_in);
	rc |= SETNUM("CGIWRAP_BYTES_OUT", "%llu",
	    (unsigned long long)o->bytes_out);
	if (o->http >= 0)
		rc |= SETNUM("CGIWRAP_HTTP_STATUS", "%d", o->http);
	else
		rc |= env_set(e, "CGIWRAP_HTTP_STATUS", "");
	rc |= SETNUM("CGIWRAP_CPU_USER_MS", "%lld", (long long)o->cpu_user_ms);
	rc |= SETNUM("CGIWRAP_CPU_SYS_MS", "%lld", (long long)o->cpu_sys_ms);
	rc |= SETNUM("CGIWRAP_MAX_RSS_KB", "%ld", o->max_rss_kb);
	rc |= SETNUM("CGIWRAP_PROCS", "%u", o->procs);
#undef SETNUM
	return rc;
}

static bool
due(const struct shutdown_cmd *c, int status)
{
	return c->when == 0 || (c->when & (1u << status));
}

bool
shutdown_due(const struct request *rq, int status)
{
	size_t lvl, i;

	for (lvl = 0; lvl < 2; lvl++)
		for (i = 0; i < rq->pol.nshutdown[lvl]; i++)
			if (due(&rq->pol.shutdown[lvl][i], status))
				return true;
	return false;
}

void
shutdown_run(const struct request *rq, const struct outcome *o,
    struct call *call)
{
	struct env st = { 0 }, e = { 0 };
	struct run r = { .rq = rq, .call = call };
	size_t lvl, i;
	int rc;

	/* The environment is a copy of the program's: none when unused. */
	if (!shutdown_due(rq, o->status))
		return;
	/*
	 * The program's environment, as the page says; filtered again
	 * only to drop its CGIWRAP_CONTROL_FD, which is no command's.
	 */
	if ((rc = status_env(&st, rq, o)) == 0)
		rc = env_build(&e, &(struct env_parts){ .from = rq->env.v,
		    .set = &(struct strlist){ st.v, st.n } });
	env_free(&st);
	if (rc == -1) {
		log_note("shutdown: out of memory", "target", rq->target, NULL);
		env_free(&e);
		return;
	}
	for (lvl = 0; lvl < 2; lvl++)
		for (i = 0; i < rq->pol.nshutdown[lvl]; i++) {
			r.cmd = &rq->pol.shutdown[lvl][i];
			if (!due(r.cmd, o->status))
				continue;
			r.len = 0;
			r.lines = 0;
			run_one(&r, e.v);
		}
	env_free(&e);
}
