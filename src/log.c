/*
 * The request log.  Each line is written with a single write(2) to a
 * file opened with O_APPEND, so lines of concurrent requests never
 * interleave; the file is opened per line because the writer is a
 * short-lived supervisor and the file may be rotated under it.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "io.h"
#include "log.h"

enum { TO_SYSLOG, TO_STDERR, TO_FILE };

static int	 kind = TO_SYSLOG;
static char	*path;		/* our own copy: configurations get reloaded */

void
log_init(const char *dest)
{
	int fd = -1;

	if (dest == NULL || strcmp(dest, "syslog") == 0) {
		kind = TO_SYSLOG;
		openlog("cgiwrap", LOG_PID, LOG_DAEMON);
	} else if (strcmp(dest, "stderr") == 0)
		kind = TO_STDERR;
	else {
		free(path);
		if ((path = strdup(dest)) == NULL) {
			warn("log %s (lines go to syslog)", dest);
			kind = TO_SYSLOG;
			return;
		}
		kind = TO_FILE;
		/*
		 * Found out now, while the server's error log can still be
		 * told: the line itself is written when the request is over.
		 * Opened, not access(2)ed: root may "write" a directory.
		 */
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
		    O_CLOEXEC, 0640)) == -1)
			warn("log %s (lines go to syslog)", path);
		else
			close(fd);
	}
}

int
log_to_stderr(void)
{
	return kind == TO_STDERR;
}

void
log_line(const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;

	if (kind == TO_SYSLOG) {
		syslog(LOG_INFO, "%s", line);
		return;
	}
	line[n++] = '\n';
	if (kind == TO_FILE) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd != -1) {
			if (write_all(fd, line, (size_t)n) == 0) {
				close(fd);
				return;
			}
			close(fd);
		}
		/* The line must not be lost: say why, then keep it. */
		warn("log %s", path);
		syslog(LOG_INFO, "%.*s", n - 1, line);
		return;
	}
	(void)write_all(STDERR_FILENO, line, (size_t)n);
}

void
log_kv(char *buf, size_t len, const char *key, const char *value)
{
	size_t at = strlen(buf);
	const char *p;
	int quote = *value == '\0';

	for (p = value; *p != '\0' && !quote; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f)
			quote = 1;
	at += (size_t)snprintf(buf + at, at < len ? len - at : 0, " %s=%s", key,
	    quote ? "\"" : "");
	for (p = value; *p != '\0' && at + 5 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (!quote || (c >= ' ' && c != '"' && c != '\\' && c != 0x7f))
			buf[at++] = (char)c;
		else
			at += (size_t)snprintf(buf + at, len - at, "\\x%02x", c);
	}
	if (quote && at + 1 < len)
		buf[at++] = '"';
	if (at < len)
		buf[at] = '\0';
	else
		buf[len - 1] = '\0';
}
