/*
 * The link between the front and the supervisor: a SOCK_SEQPACKET pair,
 * so each message arrives whole or not at all, and a shared page.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "link.h"

struct shared *
shared_map(void)
{
	struct shared *sh;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return NULL;
	shared_reset(sh);
	return sh;
}

void
shared_reset(struct shared *sh)
{
	atomic_store(&sh->bytes_in, 0);
	atomic_store(&sh->bytes_out, 0);
	atomic_store(&sh->http, -1);
	atomic_store(&sh->done, false);
	atomic_store(&sh->child, 0);
}

void
shared_unmap(struct shared *sh)
{
	munmap(sh, sizeof(*sh));
}

int
link_open(int end[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, end);
}

int
msg_send(int fd, int type, int val, int val2, const char *text)
{
	struct msg m = { .type = type, .val = val, .val2 = val2 };

	if (text != NULL)
		snprintf(m.text, sizeof(m.text), "%s", text);
	while (send(fd, &m, sizeof(m), MSG_NOSIGNAL) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int64_t
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - start->tv_sec) * 1000 +
	    (now.tv_nsec - start->tv_nsec) / 1000000;
}

int64_t
now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int
poll_ms(int64_t left)
{
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}
