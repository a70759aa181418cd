/*
 * The floor of a FastCGI wrapper, for make bench: what any server that
 * runs a CGI program per FastCGI request must do, and nothing more.
 * "fcgi-floor -s unix:PATH -c N" takes fcgiwrap's options: it listens on
 * PATH and forks N processes, each taking one request at a time.  A
 * request's SCRIPT_FILENAME is started with posix_spawn (a vfork) in its
 * directory, with the request's parameters for environment, stdin from
 * /dev/null (the bench sends no body) and stdout a pipe, copied into the
 * response as it comes (nginx parses the header block); its exit is
 * waited for.  No configuration, no checks, no supervisor, no client
 * watch, no log: a FastCGI wrapper cannot cost less than this.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
run(FCGX_Request *req, int null)
{
	posix_spawn_file_actions_t fa;
	char *path = FCGX_GetParam("SCRIPT_FILENAME", req->envp);
	char *argv[2] = { path, NULL }, *dir, buf[65536];
	ssize_t n;
	pid_t pid;
	int out[2], st, e;

	if (path == NULL || pipe2(out, O_CLOEXEC) == -1) {
		FCGX_FPrintF(req->out, "Status: 500\r\n\r\n");
		return;
	}
	if ((dir = strdup(path)) == NULL)
		err(1, "strdup");
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, null, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, out[1], 1) != 0 ||
	    posix_spawn_file_actions_addchdir_np(&fa, dirname(dir)) != 0)
		errx(1, "posix_spawn_file_actions");
	e = posix_spawn(&pid, path, &fa, NULL, argv, req->envp);
	posix_spawn_file_actions_destroy(&fa);
	free(dir);
	close(out[1]);
	if (e != 0)
		FCGX_FPrintF(req->out, "Status: 500\r\n\r\n");
	while ((n = read(out[0], buf, sizeof(buf))) > 0 || (n == -1 &&
	    errno == EINTR))
		if (n > 0)
			FCGX_PutStr(buf, (int)n, req->out);
	close(out[0]);
	while (e == 0 && waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	FCGX_Request req;
	int c, fd, n = 1, null;

	while ((c = getopt(argc, argv, "s:c:")) != -1)
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			n = atoi(optarg);
			break;
		default:
			errx(2, "usage: fcgi-floor -s unix:PATH [-c N]");
		}
	if (sock == NULL || strncmp(sock, "unix:", 5) != 0 || n < 1)
		errx(2, "usage: fcgi-floor -s unix:PATH [-c N]");
	sock += 5;
	unlink(sock);
	if (FCGX_Init() != 0 || (fd = FCGX_OpenSocket(sock, 128)) == -1)
		errx(1, "%s: cannot listen", sock);
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		err(1, "/dev/null");
	while (n-- > 1)
		if (fork() == 0)
			break;
	if (FCGX_InitRequest(&req, fd, 0) != 0)
		errx(1, "FCGX_InitRequest");
	while (FCGX_Accept_r(&req) == 0) {
		run(&req, null);
		FCGX_Finish_r(&req);
	}
	return 0;
}
