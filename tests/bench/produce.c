/*
 * produce BYTES [SLEEP_MS]: a CGI that reads and drops its request body,
 * writes a header and BYTES of output in 64 KiB writes, then sleeps
 * SLEEP_MS (so its supervisors can be looked at) and exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	static char buf[65536];
	long long left = argc > 1 ? atoll(argv[1]) : 0;
	long ms = argc > 2 ? atol(argv[2]) : 0;
	const char *hdr = "Content-Type: application/octet-stream\r\n\r\n";
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		;
	if (write(1, hdr, strlen(hdr)) < 0)
		return 1;
	memset(buf, 'x', sizeof(buf));
	while (left > 0) {
		n = write(1, buf, left < (long long)sizeof(buf) ?
		    (size_t)left : sizeof(buf));
		if (n <= 0)
			return 1;
		left -= n;
	}
	nanosleep(&ts, NULL);
	return 0;
}
