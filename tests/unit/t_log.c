/* The escaping of everything cgiwrap writes to a log. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "tap.h"

static void
escape(const char *src, const char *also, const char *want)
{
	char buf[256];

	is_int(log_escape(buf, sizeof(buf), src, also), strlen(want), want);
	is_str(buf, want, want);
}

/* Cut to LEN bytes: never half an escape. */
static void
escape_cut(const char *src, size_t len, const char *want)
{
	char buf[64];

	memset(buf, 'Z', sizeof(buf));
	ok(log_escape(buf, len, src, "") == strlen(want) &&
	    strcmp(buf, want) == 0, "cut to %zu bytes: '%s'", len, want);
	ok(buf[len] == 'Z', "nothing written past %zu bytes", len);
}

static size_t
format(char *buf, size_t len, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t
format(char *buf, size_t len, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = log_vformat(buf, len, errnum, fmt, ap);
	va_end(ap);
	return n;
}

static void
message(const char *name, int errnum, const char *text, const char *want)
{
	char buf[LOG_MSG_MAX];

	ok(format(buf, sizeof(buf), errnum, "%s", text) == strlen(want) &&
	    strcmp(buf, want) == 0, "message: %s", name);
}

static void
field(size_t len, const char *key, const char *value, const char *want)
{
	char buf[128] = "";

	log_kv(buf, len, key, value);
	is_str(buf, want, want);
}

static void
kv(const char *value, const char *want)
{
	field(128, "k", value, want);
}

int
main(void)
{
	char big[LOG_MSG_MAX * 2], buf[LOG_MSG_MAX], small[40];
	size_t n;

	escape("plain /a b.cgi", "", "plain /a b.cgi");
	escape("a\nb\rc\td", "", "a\\x0ab\\x0dc\\x09d");
	escape("\x01\x1b[31m\x7f", "", "\\x01\\x1b[31m\\x7f");
	escape("caf\xc3\xa9", "", "caf\xc3\xa9");
	escape("a\\x0a\"q\"", "", "a\\x0a\"q\"");
	escape("a\\x0a\"q\"", "\\", "a\\x5cx0a\"q\"");
	escape("a\\x0a\"q\"", "\"\\", "a\\x5cx0a\\x22q\\x22");
	escape("", "", "");
	escape_cut("abc\ndef", 5, "abc");
	escape_cut("abc\ndef", 8, "abc\\x0a");
	escape_cut("abcdef", 4, "abc");
	escape_cut("abc", 1, "");

	/* The forged log line of a request path stays on one line. */
	message("a forged log line", 0, "refused: /x\n[Mon Jan 01] [authz_core:error] FAKE",
	    "cgiwrap: refused: /x\\x0a[Mon Jan 01] [authz_core:error] FAKE\n");
	message("with errno", ENOENT, "/a\r\nb", "cgiwrap: /a\\x0d\\x0ab: "
	    "No such file or directory\n");
	message("a backslash", 0, "C:\\dir", "cgiwrap: C:\\x5cdir\n");

	/* Cut to fit, one line still, and errno's text kept. */
	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = format(buf, sizeof(buf), EPIPE, "%s", big);
	ok(n < sizeof(buf) && n == strlen(buf), "a long message fits: %zu", n);
	ok(memchr(buf, '\n', n - 1) == NULL && buf[n - 1] == '\n',
	    "a long message is one line");
	ok(n > 20 && strcmp(buf + n - 14, ": Broken pipe\n") == 0,
	    "a long message keeps its errno text");
	is_int(format(small, sizeof(small), 0, "x"), 0,
	    "a buffer too small for a message gets none");

	/* log_kv quotes and escapes as before. */
	kv("abc", " k=abc");
	kv("", " k=\"\"");
	kv("a b", " k=\"a b\"");
	kv("a\nb\"c\\", " k=\"a\\x0ab\\x22c\\x5c\"");
	/* Bare "-" is a value not known; every byte past ASCII escaped. */
	kv(NULL, " k=-");
	kv("-", " k=\"-\"");
	kv("caf\xc3\xa9", " k=\"caf\\xc3\\xa9\"");
	kv("\x85next", " k=\"\\x85next\"");
	/* Cut: the closing quote stays; no room for the key, no field. */
	field(12, "k", "a\nbcdef", " k=\"a\\x0ab\"");
	field(3, "key", "v", "");

	log_init("stderr", LOG_JSON);
	field(128, "uri", "/a b\n\"\\\xe9", ",\"uri\":\"/a b\\u000a\\u0022"
	    "\\u005c\\u00e9\"");
	field(128, "pid", "42", ",\"pid\":42");
	field(128, "pid", "4x", ",\"pid\":\"4x\"");
	field(128, "http", NULL, "");
	field(128, "signals", NULL, ",\"signals\":[]");
	field(128, "signals", "TERM,KILL", ",\"signals\":[\"TERM\",\"KILL\"]");
	field(20, "uri", "/abcdefghijklmn", ",\"uri\":\"/abcdefghi\"");
	field(25, "signals", "TERM,KILL,HUP", "");
	field(11, "note", "\n\n", ",\"note\":\"\"");
	field(10, "note", "x", "");
	log_init("stderr", LOG_KV);

	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
