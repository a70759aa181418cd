/*
 * The processes below this one.  A child subreaper inherits the ones
 * that escaped with setsid(2) or a double fork, so its descendants are
 * the whole tree of the program it started.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proctree.h"

#define CMDLINE_MAX	256	/* bytes of a command line logged */
#define WCHAN_MAX	64

/* Read at most len - 1 bytes of /proc/PID/NAME into buf; -1 if gone. */
static ssize_t
proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((n = read(fd, buf, len - 1)) == -1 && errno == EINTR)
		;
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

const char *
proc_stat(pid_t pid, char buf[STATLEN])
{
	char *p;

	if (proc_read(pid, "stat", buf, STATLEN) <= 0)
		return NULL;
	/* The command name may hold anything; the fields follow its ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
		return NULL;
	return p + 2;
}

/* Every process on the system with its parent. */
static struct proc *
list_procs(size_t *count)
{
	struct proc *v = NULL, *nv;
	struct dirent *de;
	size_t n = 0, cap = 0;
	char buf[STATLEN];
	const char *p;
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
		if ((p = proc_stat(v[n].pid, buf)) != NULL &&
		    (v[n].ppid = (pid_t)strtol(p + 2, NULL, 10)) > 0)
			n++;
	}
	closedir(d);
	*count = n;
	return v;
}

struct proc *
proc_descendants(size_t *count)
{
	struct proc *v, t;
	size_t n, i, done, found = 0;

	if ((v = list_procs(&n)) == NULL)
		return NULL;
	/*
	 * Move descendants to the front of the array: each pass finds the
	 * children of the ones found so far.
	 */
	for (i = 0; i < n; i++)
		if (v[i].ppid == getpid()) {
			t = v[found];
			v[found++] = v[i];
			v[i] = t;
		}
	for (done = 0; done < found; done++)
		for (i = found; i < n; i++)
			if (v[i].ppid == v[done].pid) {
				t = v[found];
				v[found++] = v[i];
				v[i] = t;
			}
	*count = found;
	return v;
}

/* The command line with its NULs as blanks, or [name] (a zombie has none). */
static void
cmdline(pid_t pid, const char *stat, char *buf, size_t len)
{
	const char *lp, *rp;
	ssize_t n, i;

	if ((n = proc_read(pid, "cmdline", buf, len)) > 0) {
		while (n > 0 && buf[n - 1] == '\0')
			n--;
		for (i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[n] = '\0';
		return;
	}
	/* stat holds "PID (NAME) ...": the name is between them. */
	if ((lp = strchr(stat, '(')) == NULL ||
	    (rp = strrchr(stat, ')')) == NULL || rp < lp)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "[%.*s]", (int)(rp - lp - 1), lp + 1);
}

/* "PID PPID STATE WCHAN AGE_MS CPU_MS CMDLINE" of one process, or -1. */
static int
describe(pid_t pid, int64_t now_ms, char *buf, size_t len)
{
	char stat[STATLEN], wchan[WCHAN_MAX], cmd[CMDLINE_MAX];
	unsigned long long start;
	unsigned long ut, st;
	const char *p;
	long tck = sysconf(_SC_CLK_TCK);
	int ppid;
	char state;

	if ((p = proc_stat(pid, stat)) == NULL || tck <= 0)
		return -1;
	/* state ppid, 9 fields, utime stime, 6 fields, starttime */
	if (sscanf(p, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
	    "%*d %*d %*d %*d %*d %*d %llu", &state, &ppid, &ut, &st,
	    &start) != 5)
		return -1;
	if (proc_read(pid, "wchan", wchan, sizeof(wchan)) <= 0 ||
	    strcmp(wchan, "0") == 0)
		snprintf(wchan, sizeof(wchan), "-");
	cmdline(pid, stat, cmd, sizeof(cmd));
	snprintf(buf, len, "%ld %d %c %s %lld %llu %s", (long)pid, ppid, state,
	    wchan, (long long)(now_ms - (int64_t)(start * 1000 / tck)),
	    (unsigned long long)(ut + st) * 1000 / (unsigned long)tck, cmd);
	return 0;
}

void
proctree_log(const char *target, pid_t child, int64_t elapsed_ms)
{
	char line[LOG_MSG_MAX] = "", more[LOG_MSG_MAX], desc[CMDLINE_MAX + 128],
	    num[32], key[32];
	struct proc *v;
	struct timespec ts;
	size_t n = 0, i, left = 0;
	int64_t now;

	v = proc_descendants(&n);
	/* Process start times count from boot, suspended time included. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	log_kv(line, sizeof(line), "target", target);
	snprintf(num, sizeof(num), "%ld", (long)child);
	log_kv(line, sizeof(line), "pid", num);
	snprintf(num, sizeof(num), "%lld", (long long)elapsed_ms);
	log_kv(line, sizeof(line), "slow_ms", num);
	for (i = 0; v != NULL && i < n; i++) {
		if (describe(v[i].pid, now, desc, sizeof(desc)) == -1)
			continue;
		more[0] = '\0';
		/* Keys of their own: a JSON object names a member once. */
		snprintf(key, sizeof(key), "proc%zu", i);
		log_kv(more, sizeof(more), key, desc);
		/* Room to count those left out: the line stays whole. */
		if (left > 0 ||
		    strlen(line) + strlen(more) + 32 >= sizeof(line))
			left++;
		else
			strcat(line, more);
	}
	free(v);
	if (left > 0) {
		snprintf(num, sizeof(num), "%zu", left);
		log_kv(line, sizeof(line), "more", num);
	}
	log_kv(line, sizeof(line), "note", "slow request");
	log_line("%s", line + 1);
}
