/* Writing a whole buffer. */
#ifndef CGIWRAP_IO_H
#define CGIWRAP_IO_H

#include <stddef.h>

/*
 * Write all of buf, through short writes, EINTR and, on a non-blocking
 * descriptor, EAGAIN (waiting until it is writable).  Returns 0 or -1.
 */
int	 write_all(int fd, const void *buf, size_t len);

/* Reading exactly len bytes from a blocking descriptor; EOF is EPIPE. */
int	 read_all(int fd, void *buf, size_t len);

#endif
