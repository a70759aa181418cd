/*
 * The floor of cgiwrap's CGI architecture, for make bench: exactly the
 * processes cgiwrap needs per request and nothing else.  "floor -- PROG
 * ARG..." (exec'd by the server) forks a supervisor that leaves the
 * server's reach (setsid), which starts PROG with posix_spawn (a vfork)
 * and waits for it; the front waits for the supervisor.  No config, no
 * log, no relaying: cgiwrap's cost above this one is what it adds.
 * Started as cgiwrap is by a web server, it finds PROG as cgiwrap does:
 * "floor PROG" (lighttpd's cgi.assign), or "floor" alone with PROG in
 * PATH_TRANSLATED (Apache's Action, whose PATH_INFO is the script's URL:
 * the program run directly has none).
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			err(1, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
supervise(char **argv)
{
	pid_t pid;
	int e;

	if (setsid() == -1)
		err(1, "setsid");
	if ((e = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ)) != 0) {
		errno = e;
		err(1, "%s", argv[0]);
	}
	return reap(pid);
}

int
main(int argc, char **argv)
{
	char *action[] = { getenv("PATH_TRANSLATED"), NULL };
	char **prog = argv + 1;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "--") == 0)
		prog = argv + 2;
	else if (argc == 1 && action[0] != NULL &&
	    unsetenv("PATH_INFO") == 0)
		prog = action;
	else if (argc != 2)
		errx(2, "usage: floor [--] program [argument ...]");
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0)
		_exit(supervise(prog));
	return reap(pid);
}
