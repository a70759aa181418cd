/*
 * The request log and cgiwrap's own messages.  Each log line is written
 * with a single write(2) to a file opened with O_APPEND, so lines of
 * concurrent requests never interleave; the file is opened per line
 * because the writer is a short-lived supervisor and the file may be
 * rotated under it.  A message is written with a single write(2) too:
 * Apache's mod_cgi makes an error-log entry of every piece it reads.
 */
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
#include "parse.h"
#include "status.h"

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
			log_warn("log %s (lines go to syslog)", dest);
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
			log_warn("log %s (lines go to syslog)", path);
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
	char raw[8192], line[8192];
	va_list ap;
	size_t n;
	int fd, rc;

	va_start(ap, fmt);
	rc = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	/* Values come escaped by log_kv; this keeps any other raw byte out. */
	n = log_escape(line, sizeof(line) - 1, raw, "");

	if (kind == TO_SYSLOG) {
		syslog(LOG_INFO, "%s", line);
		return;
	}
	line[n++] = '\n';
	if (kind == TO_FILE) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd != -1) {
			if (write_all(fd, line, n) == 0) {
				close(fd);
				return;
			}
			close(fd);
		}
		/* The line must not be lost: say why, then keep it. */
		log_warn("log %s", path);
		syslog(LOG_INFO, "%.*s", (int)n - 1, line);
		return;
	}
	(void)write_all(STDERR_FILENO, line, n);
}

size_t
log_escape(char *dst, size_t len, const char *src, const char *also)
{
	size_t at = 0;
	unsigned char c;

	if (len == 0)
		return 0;
	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= ' ' && c != 0x7f && strchr(also, c) == NULL) {
			if (at + 1 >= len)
				break;
			dst[at++] = (char)c;
		} else {
			if (at + 4 >= len)
				break;
			at += (size_t)snprintf(dst + at, 5, "\\x%02x", c);
		}
	}
	dst[at] = '\0';
	return at;
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
	/* Room for the closing quote and the NUL. */
	if (at + 2 >= len) {
		if (len > 0)
			buf[at < len ? at : len - 1] = '\0';
		return;
	}
	at += log_escape(buf + at, len - at - 1, value, quote ? "\"\\" : "");
	if (quote)
		buf[at++] = '"';
	buf[at] = '\0';
}

void
log_record(const struct log_record *r)
{
	char line[4096] = "", num[32], ex[64], sigs[128] = "";
	int i;

	log_kv(line, sizeof(line), "target", r->target);
	log_kv(line, sizeof(line), "status", status_name(r->status));
	exit_status(r->wstatus, num, sizeof(num));
	snprintf(ex, sizeof(ex), "%s:%s", exit_code(r->wstatus), num);
	log_kv(line, sizeof(line), "exit", ex);
	snprintf(num, sizeof(num), "%lld", (long long)r->elapsed_ms);
	log_kv(line, sizeof(line), "elapsed_ms", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->bytes_in);
	log_kv(line, sizeof(line), "in", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->bytes_out);
	log_kv(line, sizeof(line), "out", num);
	for (i = 0; i < r->nsigs; i++)
		snprintf(sigs + strlen(sigs), sizeof(sigs) - strlen(sigs),
		    "%s%s", i ? "," : "", signal_name(r->sigs[i]));
	log_kv(line, sizeof(line), "signals", r->nsigs ? sigs : "-");
	snprintf(num, sizeof(num), "%d", r->http);
	log_kv(line, sizeof(line), "http", r->http >= 0 ? num : "-");
	snprintf(num, sizeof(num), "%d", (int)r->pid);
	log_kv(line, sizeof(line), "pid", num);
	if (r->error != NULL && r->error[0] != '\0')
		log_kv(line, sizeof(line), "error", r->error);
	snprintf(num, sizeof(num), "%lld", (long long)r->cpu_user_ms);
	log_kv(line, sizeof(line), "cpu_user_ms", num);
	snprintf(num, sizeof(num), "%lld", (long long)r->cpu_sys_ms);
	log_kv(line, sizeof(line), "cpu_sys_ms", num);
	snprintf(num, sizeof(num), "%ld", r->max_rss_kb);
	log_kv(line, sizeof(line), "max_rss_kb", num);
	snprintf(num, sizeof(num), "%u", r->procs);
	log_kv(line, sizeof(line), "procs", num);
	log_line("%s", line + 1);
}

void
log_note(const char *text, ...)
{
	char line[2048] = "";
	const char *key;
	va_list ap;

	va_start(ap, text);
	while ((key = va_arg(ap, const char *)) != NULL)
		log_kv(line, sizeof(line), key, va_arg(ap, const char *));
	va_end(ap);
	log_kv(line, sizeof(line), "note", text);
	log_line("%s", line + 1);
}

size_t
log_vformat(char *buf, size_t len, int errnum, const char *fmt, va_list ap)
{
	static const char prefix[] = "cgiwrap: ";
	char text[LOG_MSG_MAX], tail[128] = "";
	size_t n, t;

	if (errnum != 0)
		snprintf(tail, sizeof(tail), ": %s", strerror(errnum));
	t = strlen(tail);
	/* The prefix, the tail, a newline and a NUL always fit. */
	if (len < sizeof(prefix) + sizeof(tail) + 1) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	memcpy(buf, prefix, sizeof(prefix) - 1);
	n = sizeof(prefix) - 1;
	/* Backslashes too, so that every \x in a message is an escape. */
	n += log_escape(buf + n, len - n - t - 1, text, "\\");
	memcpy(buf + n, tail, t);
	n += t;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static void __attribute__((format(printf, 2, 0)))
vwarnmsg(int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	size_t n;

	n = log_vformat(msg, sizeof(msg), errnum, fmt, ap);
	(void)write_all(STDERR_FILENO, msg, n);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(0, fmt, ap);
	va_end(ap);
	errno = e;
}

void
fatal(int code, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(e, fmt, ap);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnmsg(0, fmt, ap);
	va_end(ap);
	exit(code);
}
