/*
 * What cgiwrap writes for people: the request log (syslog, stderr or a
 * file) and its own messages.  No byte of a request or a program reaches
 * either raw: control bytes are written as \xHH, and in the log every
 * byte that is not printable ASCII (\u00HH in JSON).
 */
#ifndef CGIWRAP_LOG_H
#define CGIWRAP_LOG_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest message: one write(2) of at most PIPE_BUF bytes to a pipe
 * is atomic, so messages of concurrent processes never mix.
 */
#define LOG_MSG_MAX	4096

/* The longest log line, timestamp and framing included. */
#define LOG_LINE_MAX	8192

/* How log lines are written: log_format in cgiwrap.conf(5). */
enum log_format {
	LOG_KV,		/* TIMESTAMP key=value ... */
	LOG_JSON	/* {"time":TIMESTAMP,"key":value,...} */
};

/* dest: "syslog", "stderr" or a file path. */
void	 log_init(const char *dest, enum log_format);

/*
 * A log file that cannot be opened is told on stderr, while the
 * server's error log can still be told: its lines go to syslog.
 */
void	 log_check(void);

/*
 * Write one line to the log: the timestamp, then the fields built by
 * log_kv less the separator of the first; falls back to syslog.
 */
void	 log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What the line of a request that is over says. */
struct log_record {
	const char	*method;	/* from the server; NULL: not given */
	const char	*uri;
	const char	*remote;
	const char	*target;
	int		 status;	/* ST_* bits */
	int		 wstatus;	/* the child's wait status */
	int64_t		 elapsed_ms;
	uint64_t	 bytes_in, bytes_out;
	const int	*sigs;		/* the signals sent, in order */
	int		 nsigs;
	int		 http;		/* -1: no header came */
	pid_t		 pid;
	const char	*error;		/* why the response failed, or "" */
	int64_t		 cpu_user_ms, cpu_sys_ms;
	long		 max_rss_kb;
	unsigned	 procs;
};

/* Write the request's line: method=... uri=... and so on. */
void	 log_record(const struct log_record *);

/*
 * Write a note: the pairs of the arguments (key, value, ..., NULL),
 * then note=TEXT.
 */
void	 log_note(const char *text, ...) __attribute__((sentinel));

/* Does the log go to the server's stderr? */
int	 log_to_stderr(void);

/*
 * Append a field to buf (of size len, kept NUL-terminated) in the log's
 * format: " key=value", the value quoted when it is empty or "-" or
 * holds a blank, a quote, a backslash or a byte that is not printable
 * ASCII, which are escaped as \xHH; or ',"key":value' with the value's
 * JSON type known by its key.  A NULL value is one not known: "-", and
 * no field in JSON (an empty array for a list).  A value too long is
 * cut; a field without room for its key is left out.
 */
void	 log_kv(char *buf, size_t len, const char *key, const char *value);

/*
 * Copy src to dst (of size len, kept NUL-terminated) with every control
 * byte, DEL and byte of also written as \xHH; an escape that does not
 * fit is left out whole.  Returns the length of dst.
 */
size_t	 log_escape(char *dst, size_t len, const char *src, const char *also);

/*
 * A message of cgiwrap, as it is written: "cgiwrap: TEXT\n", or with
 * errnum other than 0 "cgiwrap: TEXT: strerror(errnum)\n", TEXT escaped
 * (backslashes too) and cut to fit buf (len at most LOG_MSG_MAX).
 * Returns its length.
 */
size_t	 log_vformat(char *buf, size_t len, int errnum, const char *fmt,
	    va_list ap) __attribute__((format(printf, 4, 0)));

/* err(3) and warn(3) of cgiwrap: one message on stderr in one write(2). */
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(int code, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
void	 fatalx(int code, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

#endif
