/* The request log (R-LOG-1): syslog, stderr or a file. */
#ifndef CGIWRAP_LOG_H
#define CGIWRAP_LOG_H

/* "syslog", "stderr" or a file path. */
void	 log_init(const char *dest);

/* Write one line (no newline) to the log; falls back to stderr. */
void	 log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Does the log go to the server's stderr? */
int	 log_to_stderr(void);

/*
 * Append " key=value" to buf (of size len, kept NUL-terminated),
 * quoting the value when it holds blanks, quotes or control bytes.
 */
void	 log_kv(char *buf, size_t len, const char *key, const char *value);

#endif
