#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "io.h"

int
write_all(int fd, const void *buf, size_t len)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EAGAIN)
				(void)poll(&pfd, 1, -1);
			else if (errno != EINTR)
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno != EINTR)
				return -1;
			continue;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
pipe_ours(int *ours, int *theirs, bool ours_reads)
{
	int p[2], e;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if (fcntl(p[ours_reads ? 0 : 1], F_SETFL, O_NONBLOCK) == -1) {
		e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	*ours = p[ours_reads ? 0 : 1];
	*theirs = p[ours_reads ? 1 : 0];
	return 0;
}
