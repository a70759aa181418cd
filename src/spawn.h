/* Starting processes and signalling what they leave behind. */
#ifndef CGIWRAP_SPAWN_H
#define CGIWRAP_SPAWN_H

#include <sys/types.h>

#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"

struct spawn {
	const char	 *path;		/* program to execute */
	char *const	 *argv;
	char *const	 *envp;
	int		  fd[3];	/* become 0, 1, 2; -1 = /dev/null */
	int		  ctlfd;	/* becomes CTL_FD when >= 0 */
	const long	 *limit;	/* rlimits (LIM_*) or NULL */
	const char	 *dir;		/* working directory or NULL */
	_Atomic int	 *told;		/* the pid, or NULL: see spawn() */
};

#define CTL_FD	3
#define CTL_FD_NAME "3"

/*
 * Start a process in its own process group with a clean signal state.
 * Returns its pid, or -1 with errno set by fork(2) or by execve(2) in
 * the child (which is then already reaped).  The child itself stores
 * its pid in *told once its group exists, before its exec, and 0 again
 * if the exec fails: whoever reads it from shared memory then knows the
 * group whatever the program has done, even if our return from vfork
 * was never scheduled.
 */
pid_t	 spawn(const struct spawn *);

/*
 * The one module that signals the child's processes: the callers decide
 * when, these send.
 */

/* Send sig to the process alone: 0, or -1 with errno. */
int	 kill_one(pid_t, int sig);

/*
 * Send sig to the process group pgid alone, all a process that is not
 * the child subreaper can reach: 0, or -1 with errno.
 */
int	 kill_group(pid_t pgid, int sig);

/*
 * Send sig to the process group pgid and to every descendant of this
 * process: as a child subreaper it inherits the ones that escaped with
 * setsid(2) or a double fork.  Returns how many processes were signalled.
 */
int	 kill_tree(pid_t pgid, int sig);

/*
 * Is the process gone, or on its way out?  Its descriptors close before
 * its parent can know, so an end of its output may be its exit.
 */
bool	 exiting(pid_t);

#endif
