/* Writing and reading whole buffers; pipes with one end of our own. */
#ifndef CGIWRAP_IO_H
#define CGIWRAP_IO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Write all of buf, through short writes, EINTR and, on a non-blocking
 * descriptor, EAGAIN (waiting until it is writable).  Returns 0 or -1.
 */
int	 write_all(int fd, const void *buf, size_t len);

/* Reading exactly len bytes from a blocking descriptor; EOF is EPIPE. */
int	 read_all(int fd, void *buf, size_t len);

/*
 * A pipe, close-on-exec, whose end that is ours (the read end if
 * ours_reads, else the write end) does not block; a child's end does.
 * On failure neither is set.
 */
int	 pipe_ours(int *ours, int *theirs, bool ours_reads);

#endif
