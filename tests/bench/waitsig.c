/*
 * waitsig FILE [HEADER]: write CLOCK_MONOTONIC at start to FILE.start,
 * optionally a CGI header, then wait silently for SIGTERM and write the
 * time it arrived to FILE.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void
stamp(const char *path)
{
	struct timespec ts;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
		fclose(f);
	}
}

int
main(int argc, char *argv[])
{
	char start[4096];
	sigset_t set;
	int sig;

	if (argc < 2)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	snprintf(start, sizeof(start), "%s.start", argv[1]);
	stamp(start);
	if (argc > 2) {
		const char *hdr = "Content-Type: text/plain\r\n\r\n";

		if (write(1, hdr, strlen(hdr)) < 0)
			return 1;
	}
	if (sigwait(&set, &sig) != 0)
		return 1;
	stamp(argv[1]);
	return 0;
}
