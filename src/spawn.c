#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	for (i = 0; i < 3; i++) {
		fd = sp->fd[i];
		if (fd == -1) {
			if (null == -1 &&
			    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
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

#define STATLEN	512	/* holds /proc/PID/stat up to the fields read */

/* The fields of /proc/PID/stat that follow the command name, or NULL. */
static const char *
stat_fields(const char *pid, char buf[STATLEN])
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, buf, STATLEN - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* The command name may hold anything; the fields follow its ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return NULL;
	return p + 2;
}

/* Parent pid of a process, or -1. */
static pid_t
parent_of(const char *pid)
{
	char buf[STATLEN];
	const char *p;

	if ((p = stat_fields(pid, buf)) == NULL)
		return -1;
	return (pid_t)strtol(p + 2, NULL, 10);
}

/* PF_EXITING of the kernel's include/linux/sched.h, shown in stat's flags. */
#define PF_EXITING	0x4

bool
exiting(pid_t pid)
{
	char buf[STATLEN], name[24];
	unsigned long flags;
	const char *p;
	char state;

	snprintf(name, sizeof(name), "%ld", (long)pid);
	/* Gone, or no /proc to ask (then it lives as far as we know). */
	if ((p = stat_fields(name, buf)) == NULL)
		return kill(pid, 0) == -1 && errno == ESRCH;
	/* state ppid pgrp session tty_nr tpgid flags */
	if (sscanf(p, "%c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & PF_EXITING);
}

struct proc {
	pid_t	 pid, ppid;
};

/* Every process on the system with its parent. */
static struct proc *
list_procs(size_t *count)
{
	struct proc *v = NULL, *nv;
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[n].pid = (pid_t)strtol(de->d_name, NULL, 10);
		if ((v[n].ppid = parent_of(de->d_name)) > 0)
			n++;
	}
	closedir(d);
	*count = n;
	return v;
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
	size_t n, i, done, found;
	int count = 0;

	if (pgid > 0 && kill_group(pgid, sig) == 0)
		count++;
	if ((v = list_procs(&n)) == NULL)
		return count;
	/*
	 * Mark descendants by moving them to the front of the array: each
	 * pass finds the children of the ones found so far.
	 */
	found = 0;
	for (i = 0; i < n; i++)
		if (v[i].ppid == getpid()) {
			struct proc t = v[found];
			v[found++] = v[i];
			v[i] = t;
		}
	for (done = 0; done < found; done++)
		for (i = found; i < n; i++)
			if (v[i].ppid == v[done].pid) {
				struct proc t = v[found];
				v[found++] = v[i];
				v[i] = t;
			}
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
