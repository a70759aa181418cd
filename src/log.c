/*
 * The request log and cgiwrap's own messages.  Each log line is written
 * with a single write(2) to a file opened with O_APPEND, so lines of
 * concurrent requests never interleave.  A FastCGI keeper writes line
 * after line: the file stays open while its name still leads to it, and
 * is opened anew once it was rotated (renamed or removed).  A message is
 * written with a single write(2) too: Apache's mod_cgi makes an
 * error-log entry of every piece it reads.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "parse.h"
#include "status.h"

enum { TO_SYSLOG, TO_STDERR, TO_FILE };

static int	 kind = TO_SYSLOG;
static enum log_format format = LOG_KV;
static char	*path;		/* our own copy: configurations get reloaded */
static int	 file = -1;	/* path, open */
static struct stat opened;	/* what file is */

/* The log file is let go: rotated, failed, or another one configured. */
static void
file_close(void)
{
	if (file != -1)
		close(file);
	file = -1;
}

/*
 * The JSON type of each key that is not a string; cgiwrap.conf(5) has
 * the whole schema.
 */
enum jtype { J_STRING, J_NUMBER, J_LIST };
static const struct {
	const char	*key;
	enum jtype	 type;
} jtypes[] = {
	{ "elapsed_ms", J_NUMBER },
	{ "in", J_NUMBER },
	{ "out", J_NUMBER },
	{ "http", J_NUMBER },
	{ "signals", J_LIST },
	{ "pid", J_NUMBER },
	{ "cpu_user_ms", J_NUMBER },
	{ "cpu_sys_ms", J_NUMBER },
	{ "max_rss_kb", J_NUMBER },
	{ "procs", J_NUMBER },
	{ "slow_ms", J_NUMBER },
};

void
log_init(const char *dest, enum log_format f)
{
	format = f;
	file_close();
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
	}
}

void
log_check(void)
{
	int fd;

	/* Opened, not access(2)ed: root may "write" a directory. */
	if (kind != TO_FILE)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
	    O_CLOEXEC, 0640)) == -1)
		log_warn("log %s (lines go to syslog)", path);
	else
		close(fd);
}

int
log_to_stderr(void)
{
	return kind == TO_STDERR;
}

/*
 * The UTC date of a day counted from the Epoch, by H. Hinnant's
 * civil_from_days: gmtime_r would read /etc/localtime once in every
 * process, and the supervisor that writes a request's line is a new one.
 */
static void
civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* RFC 3339 in UTC, to the millisecond. */
static void
stamp(char *buf, size_t len)
{
	struct timespec ts;
	int64_t secs;
	int y, m, d;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		ts = (struct timespec){ 0, 0 };
	secs = ts.tv_sec;
	/* Seconds before the Epoch round down to the day before. */
	civil(secs / 86400 - (secs % 86400 < 0), &y, &m, &d);
	secs = (secs % 86400 + 86400) % 86400;
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", y, m, d,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
	    ts.tv_nsec / 1000000);
}

/* The log file, open; opened anew if its name leads elsewhere now. */
static int
log_file(void)
{
	struct stat st;

	if (file != -1 && stat(path, &st) == 0 &&
	    st.st_dev == opened.st_dev && st.st_ino == opened.st_ino)
		return file;
	file_close();
	if ((file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) != -1 && fstat(file, &opened) == -1) {
		close(file);
		file = -1;
	}
	return file;
}

void
log_line(const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX], ts[96];
	va_list ap;
	size_t n;
	int rc;

	va_start(ap, fmt);
	rc = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (rc < 0)
		return;
	stamp(ts, sizeof(ts));
	if (format == LOG_JSON)
		rc = snprintf(line, sizeof(line), "{\"time\":\"%s\"%s", ts,
		    raw[0] != '\0' ? "," : "");
	else
		rc = snprintf(line, sizeof(line), "%s ", ts);
	n = (size_t)rc;
	/*
	 * Values come escaped by log_kv; this keeps any other raw byte
	 * out.  Room is left for the closing brace and the newline.
	 */
	n += log_escape(line + n, sizeof(line) - n - 2, raw, "");
	if (format == LOG_JSON)
		line[n++] = '}';
	line[n] = '\0';

	if (kind == TO_SYSLOG) {
		syslog(LOG_INFO, "%s", line);
		return;
	}
	line[n++] = '\n';
	if (kind == TO_FILE) {
		if (log_file() != -1 && write_all(file, line, n) == 0)
			return;
		/* The line must not be lost: say why, then keep it. */
		log_warn("log %s", path);
		file_close();
		syslog(LOG_INFO, "%.*s", (int)n - 1, line);
		return;
	}
	(void)write_all(STDERR_FILENO, line, n);
}

/*
 * Copy src to dst (of size len, kept NUL-terminated) with every control
 * byte, DEL, byte of also and, with high, byte above 0x7f escaped: as
 * \xHH, or with json as \u00HH.  An escape that does not fit is left
 * out whole.  Returns the length of dst.
 */
static size_t
escape(char *dst, size_t len, const char *src, const char *also, bool high,
    bool json)
{
	size_t at = 0, w = json ? 6 : 4;
	unsigned char c;

	if (len == 0)
		return 0;
	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= ' ' && c != 0x7f && !(high && c > 0x7f) &&
		    strchr(also, c) == NULL) {
			if (at + 1 >= len)
				break;
			dst[at++] = (char)c;
		} else {
			if (at + w >= len)
				break;
			at += (size_t)snprintf(dst + at, w + 1,
			    json ? "\\u%04x" : "\\x%02x", c);
		}
	}
	dst[at] = '\0';
	return at;
}

size_t
log_escape(char *dst, size_t len, const char *src, const char *also)
{
	return escape(dst, len, src, also, false, false);
}

/* Append s to buf at *at if it fits with the NUL and keep bytes more. */
static bool
put(char *buf, size_t len, size_t *at, const char *s, size_t keep)
{
	size_t n = strlen(s);

	if (*at + n + keep >= len)
		return false;
	memcpy(buf + *at, s, n + 1);
	*at += n;
	return true;
}

/* Append "value" (escaped, cut to leave keep bytes more). */
static bool
put_string(char *buf, size_t len, size_t *at, const char *value, bool json,
    size_t keep)
{
	if (!put(buf, len, at, "\"", keep + 1))
		return false;
	*at += escape(buf + *at, len - *at - keep - 1, value, "\"\\", true,
	    json);
	return put(buf, len, at, "\"", keep);
}

static enum jtype
jtype(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(jtypes) / sizeof(jtypes[0]); i++)
		if (strcmp(key, jtypes[i].key) == 0)
			return jtypes[i].type;
	return J_STRING;
}

/* The items of a comma-separated list as a JSON array. */
static bool
put_list(char *buf, size_t len, size_t *at, const char *value)
{
	char item[LOG_LINE_MAX];
	size_t n;

	if (!put(buf, len, at, "[", 1))
		return false;
	for (; value != NULL && *value != '\0';
	    value += n + (value[n] != '\0')) {
		n = strcspn(value, ",");
		snprintf(item, sizeof(item), "%.*s", (int)n, value);
		if ((buf[*at - 1] != '[' && !put(buf, len, at, ",", 1)) ||
		    !put_string(buf, len, at, item, true, 1))
			return false;
	}
	return put(buf, len, at, "]", 0);
}

static bool
json_field(char *buf, size_t len, size_t *at, const char *key,
    const char *value)
{
	enum jtype t = jtype(key);

	if (value == NULL && t != J_LIST)
		return true;
	if (!put(buf, len, at, ",\"", 0) || !put(buf, len, at, key, 0) ||
	    !put(buf, len, at, "\":", 0))
		return false;
	if (t == J_LIST)
		return put_list(buf, len, at, value);
	/* Only digits are written bare: anything else is a string. */
	if (t == J_NUMBER && *value != '\0' &&
	    value[strspn(value, "0123456789")] == '\0')
		return put(buf, len, at, value, 0);
	return put_string(buf, len, at, value, true, 0);
}

static bool
kv_field(char *buf, size_t len, size_t *at, const char *key,
    const char *value)
{
	const unsigned char *p;
	bool quote;

	if (!put(buf, len, at, " ", 0) || !put(buf, len, at, key, 0) ||
	    !put(buf, len, at, "=", 0))
		return false;
	if (value == NULL)
		return put(buf, len, at, "-", 0);
	/* Bare "-" is a value not known; "" would vanish. */
	quote = *value == '\0' || strcmp(value, "-") == 0;
	for (p = (const unsigned char *)value; *p != '\0' && !quote; p++)
		quote = *p <= ' ' || *p == '"' || *p == '\\' || *p >= 0x7f;
	if (quote)
		return put_string(buf, len, at, value, false, 0);
	*at += escape(buf + *at, len - *at, value, "", true, false);
	return true;
}

void
log_kv(char *buf, size_t len, const char *key, const char *value)
{
	size_t at = strlen(buf), start = at;
	bool ok;

	if (format == LOG_JSON)
		ok = json_field(buf, len, &at, key, value);
	else
		ok = kv_field(buf, len, &at, key, value);
	if (!ok && start < len)
		buf[start] = '\0';
}

/* log_kv with the value cut to at most max bytes as written. */
static void
log_kv_max(char *buf, size_t len, size_t max, const char *key,
    const char *value)
{
	size_t at = strlen(buf);

	log_kv(buf, at + max < len ? at + max : len, key, value);
}

void
log_record(const struct log_record *r)
{
	char line[LOG_LINE_MAX - 64] = "", num[32], ex[64], sigs[128] = "";
	int i;

	/* What a client sends is bounded: the rest of the line must fit. */
	log_kv_max(line, sizeof(line), 80, "method", r->method);
	log_kv_max(line, sizeof(line), 2048, "uri", r->uri);
	log_kv_max(line, sizeof(line), 80, "remote", r->remote);
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
	snprintf(num, sizeof(num), "%d", r->http);
	log_kv(line, sizeof(line), "http", r->http >= 0 ? num : NULL);
	for (i = 0; i < r->nsigs; i++)
		snprintf(sigs + strlen(sigs), sizeof(sigs) - strlen(sigs),
		    "%s%s", i ? "," : "", signal_name(r->sigs[i]));
	log_kv(line, sizeof(line), "signals", r->nsigs ? sigs : NULL);
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
