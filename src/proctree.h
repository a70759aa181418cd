/*
 * The processes below this one, read from /proc: for signalling them
 * (spawn.c) and for the slow-request log.
 */
#ifndef CGIWRAP_PROCTREE_H
#define CGIWRAP_PROCTREE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define STATLEN	512	/* holds /proc/PID/stat up to the fields read */

/* The fields of /proc/PID/stat that follow the command name, or NULL. */
const char	*proc_stat(pid_t, char buf[STATLEN]);

struct proc {
	pid_t	 pid, ppid;
};

/*
 * Every descendant of this process, parents before their children, in
 * an array to free(3); NULL when /proc cannot be read or memory is short.
 */
struct proc	*proc_descendants(size_t *count);

/*
 * The slow-request record: one log line naming the target, the child's
 * pid and the elapsed time, then per process of the tree its pid,
 * parent, state, wait channel, age and CPU time (ms) and command line.
 */
void		 proctree_log(const char *target, pid_t child,
		    int64_t elapsed_ms);

#endif
