/* Telling a process that exits from one that only closed its output. */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"

/* A child that names itself NAME, says so on a pipe, then waits. */
static pid_t
start(const char *name)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		exit(2);
	if (pid == 0) {
		if (name != NULL)
			(void)prctl(PR_SET_NAME, name);
		(void)!write(p[1], "", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1)
		exit(2);
	close(p[0]);
	return pid;
}

int
main(void)
{
	siginfo_t si;
	pid_t pid;

	pid = start(NULL);
	ok(!exiting(pid), "a waiting process is not exiting");
	/* The command name comes first and may mimic the fields after it. */
	kill(pid, SIGKILL);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	ok(exiting(pid), "a zombie is exiting");
	waitpid(pid, NULL, 0);
	ok(exiting(pid), "a reaped process is gone");

	pid = start(") Z 1 1 1 0 -1 4");
	ok(!exiting(pid), "a command name that looks like a zombie's stat");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return done_testing();
}
