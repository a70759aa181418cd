/* What every server side answers alike: cgiwrap's own errors. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "server.h"

static const char *
reason(int code)
{
	switch (code) {
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Internal Server Error";
	}
}

void
sv_warn(const struct server *sv, int errnum, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_vformat(msg, sizeof(msg), errnum, fmt, ap);
	va_end(ap);
	/* The error stream ended with the response: cgiwrap's own log. */
	if (n > 0 && sv->ops->put(sv, 2, msg, n) == -1) {
		msg[n - 1] = '\0';
		log_note(msg + strlen("cgiwrap: "), NULL);
	}
}

void
respond(const struct server *sv, int code, bool nph)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "%s %d %s\r\n%s"
	    "Content-Type: text/plain\r\n\r\n%d %s\n",
	    nph ? "HTTP/1.0" : "Status:", code, reason(code),
	    code == 503 ? "Retry-After: 5\r\n" : "", code, reason(code));
	(void)sv->ops->put(sv, 1, buf, (size_t)n);
}
