#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proctree.h"
#include "spawn.h"

static const int rlim_res[LIM_COUNT] = {
	[LIM_CPU] = RLIMIT_CPU,
	[LIM_MEMORY] = RLIMIT_AS,
	[LIM_NPROC] = RLIMIT_NPROC,
	[LIM_NOFILE] = RLIMIT_NOFILE,
	[LIM_FSIZE] = RLIMIT_FSIZE,
};

static int
set_limits(const long *limit)
{
	struct rlimit rl;
	int i;

	for (i = 0; i < LIM_COUNT; i++) {
		if (limit[i] <= 0)
			continue;
		rl.rlim_cur = rl.rlim_max = (rlim_t)limit[i];
		/* The kernel sends SIGKILL at the hard CPU limit; leave a
		 * second so SIGXCPU comes first and can be told apart. */
		if (i == LIM_CPU)
			rl.rlim_max++;
		if (setrlimit(rlim_res[i], &rl) == -1)
			return -1;
	}
	return 0;
}

/* Runs in the new process; returns only on failure. */
static void
child(const struct spawn *sp, pid_t parent)
{
	sigset_t none;
	int i, fd, null = -1;

	/* Nothing runs unsupervised: if the supervisor dies, so do we. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		return;
	if (setpgid(0, 0) == -1)
		return;
	if (sp->told != NULL)
		atomic_store(sp->told, getpid());
	for (i = 0; i < 3; i++) {
		fd = sp->fd[i];
		if (fd == -1) {
			if (null == -1 && (null = open("/dev/null",
			    O_RDWR | O_CLOEXEC)) == -1)
				return;
			fd = null;
		}
		/* dup2 onto itself would leave FD_CLOEXEC set. */
		if (fd == i ? fcntl(fd, F_SETFD, 0) == -1 : dup2(fd, i) == -1)
			return;
	}
	if (sp->ctlfd >= 0 && (sp->ctlfd == CTL_FD ?
	    fcntl(CTL_FD, F_SETFD, 0) : dup2(sp->ctlfd, CTL_FD)) == -1)
		return;
	/* Whatever else was inherited, from the server too, stays here. */
	if (close_range(sp->ctlfd >= 0 ? CTL_FD + 1 : 3, ~0U, 0) == -1 &&
	    errno != ENOSYS)
		return;
	sigemptyset(&none);
	if (signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		return;
	if (sp->limit != NULL && set_limits(sp->limit) == -1)
		return;
	if (sp->dir != NULL && chdir(sp->dir) == -1)
		return;
	execve(sp->path, sp->argv, sp->envp);
}

pid_t
spawn(const struct spawn *sp)
{
	pid_t pid, parent = getpid();
	volatile int err = 0;

	/*
	 * vfork: no page tables to copy, and we resume only once execve
	 * has replaced the child's memory or the child gave up, leaving
	 * its errno in err.  The child makes system calls only.
	 */
	if ((pid = vfork()) == -1)
		return -1;
	if (pid == 0) {
		child(sp, parent);
		err = errno;
		if (sp->told != NULL)
			atomic_store(sp->told, 0);
		_exit(127);
	}
	if (err != 0) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		errno = err;
		return -1;
	}
	return pid;
}

/* PF_EXITING of the kernel's include/linux/sched.h, shown in stat's flags. */
#define PF_EXITING	0x4

bool
exiting(pid_t pid)
{
	char buf[STATLEN];
	unsigned long flags;
	const char *p;
	char state;

	/* Gone, or no /proc to ask (then it lives as far as we know). */
	if ((p = proc_stat(pid, buf)) == NULL)
		return kill(pid, 0) == -1 && errno == ESRCH;
	/* state ppid pgrp session tty_nr tpgid flags */
	if (sscanf(p, "%c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & PF_EXITING);
}

int
kill_one(pid_t pid, int sig)
{
	return kill(pid, sig);
}

int
kill_group(pid_t pgid, int sig)
{
	return kill(-pgid, sig);
}

int
kill_tree(pid_t pgid, int sig)
{
	struct proc *v;
	size_t i, found;
	int count = 0;

	if (pgid > 0 && kill_group(pgid, sig) == 0)
		count++;
	if ((v = proc_descendants(&found)) == NULL)
		return count;
	/* The group had its signal already; once is what a trap expects. */
	for (i = 0; i < found; i++)
		if ((pgid <= 0 || getpgid(v[i].pid) != pgid) &&
		    kill(v[i].pid, sig) == 0)
			count++;
	if (sig != SIGKILL && sig != SIGCONT) {
		/* A stopped process would not act on the signal. */
		if (pgid > 0)
			kill_group(pgid, SIGCONT);
		for (i = 0; i < found; i++)
			kill(v[i].pid, SIGCONT);
	}
	free(v);
	return count;
}
