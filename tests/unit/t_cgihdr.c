/* Header block scanning and parsing (R-IO-1, R-IO-5, R-CTL-1). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cgihdr.h"
#include "tap.h"

#define S(lit)	lit, sizeof(lit) - 1

static char	*page;
static size_t	 pagesz;

/*
 * A copy of s that ends where an unmapped page begins, so that any
 * read past n bytes kills the test instead of passing unnoticed.
 */
static char *
guarded(const char *s, size_t n)
{
	if (page == NULL) {
		pagesz = sysconf(_SC_PAGESIZE);
		page = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED ||
		    mprotect(page + pagesz, pagesz, PROT_NONE) == -1)
			abort();
	}
	if (n > pagesz)
		abort();
	return memcpy(page + pagesz - n, s, n);
}

static void
end_is(const char *s, size_t n, size_t want, const char *name)
{
	is_int(cgihdr_end(guarded(s, n), n), want, name);
}

static void
test_end(void)
{
	end_is(S(""), 0, "empty buffer");
	end_is(S("Content-Type: text/plain\n"), 0, "LF, no blank line");
	end_is(S("Content-Type: text/plain\n\n"), 26, "LF block");
	end_is(S("Content-Type: text/plain\r\n\r\n"), 28, "CRLF block");
	end_is(S("A: b\n\r\n"), 7, "LF then CRLF blank line");
	end_is(S("A: b\r\n\n"), 7, "CRLF then LF blank line");
	end_is(S("A: b\r\nC: d\n\r\nbody\n\n"), 13, "mixed, body after");
	end_is(S("A: b\r\n\r"), 0, "blank line's CR without LF");
	end_is(S("A: b\r\r\n"), 0, "CR CR LF is not a blank line");
	end_is(S("A: b\r\r\n\n"), 8, "blank line after a bare-CR line");
	end_is(S("A: b\n \n\n"), 8, "blank-looking folded line is not blank");
	end_is(S("\n"), 1, "empty block, LF");
	end_is(S("\r\nA: b\n\n"), 2, "empty block, CRLF");
	end_is(S("A: b\0\n\n"), 7, "NUL byte does not stop the scan");
}

/* Every prefix, as if the block came one byte per read. */
static void
split(const char *s, size_t n, size_t hlen, const char *name)
{
	size_t k, got, want;

	for (k = 0; k <= n; k++) {
		want = k < hlen ? 0 : hlen;
		got = cgihdr_end(guarded(s, k), k);
		if (got != want)
			break;
	}
	if (!ok(k > n, "every prefix: %s", name))
		printf("#   prefix %zu: got %zu, want %zu\n", k, got, want);
}

static void
test_split(void)
{
	split(S("Content-Type: text/plain\n\nbody"), 26, "LF");
	split(S("Content-Type: text/plain\r\nX: y\r\n\r\nbody\r\n\r\n"), 34,
	    "CRLF");
	split(S("A: b\r\nC: d\n\r\n\n"), 13, "mixed, LF CRLF");
	split(S("A: b\n\r\nC: d\r\n\r\n"), 7, "LF then CRLF blank");
	split(S("A: b\r\n\nC: d\n\n"), 7, "CRLF then LF blank");
	split(S("A: b\r\n\tc\r\r\nD: e\r\n\r\nx"), 19, "fold and bare CR");
}

static void
parse_is(const char *name, const char *in, size_t inlen, bool control,
    const char *out, size_t outlen, int st, const char *tl, const char *iua)
{
	struct cgihdr h;
	const char *why = NULL;
	size_t hlen = cgihdr_end(in, inlen);
	char *buf = guarded(in, inlen);
	long r;
	char msg[128];

	memset(&h, 'x', sizeof(h));
	r = cgihdr_parse(buf, hlen, control, &h, &why);
	snprintf(msg, sizeof(msg), "%s: new length", name);
	is_int(r, outlen, msg);
	ok(r == (long)outlen && memcmp(buf, out, outlen) == 0,
	    "%s: block byte-exact", name);
	ok(memcmp(buf + hlen, in + hlen, inlen - hlen) == 0,
	    "%s: body after the block untouched", name);
	snprintf(msg, sizeof(msg), "%s: status", name);
	is_int(h.status, st, msg);
	snprintf(msg, sizeof(msg), "%s: time limit", name);
	is_str(h.time_limit, tl, msg);
	snprintf(msg, sizeof(msg), "%s: ignore user abort", name);
	is_str(h.ignore_user_abort, iua, msg);
}

#define CTL_BLOCK \
	"CGIWrap-Time-Limit:  30 \r\n" \
	"Content-Type: text/html\r\n" \
	"X-A: 1\n" \
	"cgiwrap-ignore-user-abort: on\r\n" \
	"\tand   more \r\n" \
	"X-B: 2\r\n" \
	"  folded b\r\n" \
	"CGIWRAP-TIME-LIMIT:\n" \
	" \n" \
	"  45\n" \
	"Status: 201 Created\r\n" \
	"\r\n"
#define CTL_KEPT \
	"Content-Type: text/html\r\n" \
	"X-A: 1\n" \
	"X-B: 2\r\n" \
	"  folded b\r\n" \
	"Status: 201 Created\r\n" \
	"\r\n"
#define CTL_BODY	"CGIWrap-Time-Limit: 99\r\n\r\n"

static void
test_parse(void)
{
	parse_is("plain LF", S("Content-Type: text/plain\n\nbody\n"), true,
	    S("Content-Type: text/plain\n\n"), 0, "", "");
	parse_is("plain CRLF, folded", S("Content-Type: text/plain\r\n"
	    "X-Long: a\r\n b\r\nLocation: /x\r\n\r\n\0body"), true,
	    S("Content-Type: text/plain\r\nX-Long: a\r\n b\r\n"
	    "Location: /x\r\n\r\n"), 0, "", "");
	parse_is("empty block", S("\r\nbody"), true, S("\r\n"), 0, "", "");
	parse_is("control headers cut", S(CTL_BLOCK CTL_BODY), true,
	    S(CTL_KEPT), 201, "45", "on and   more");
	parse_is("control off", S(CTL_BLOCK CTL_BODY), false, S(CTL_BLOCK),
	    201, "", "");
	parse_is("only control headers", S("CGIWrap-Ignore-User-Abort: off\n"
	    "CGIWrap-Time-Limit: 0\n\n"), true, S("\n"), 0, "0", "off");
	parse_is("similar names kept", S("CGIWrap-Time-Limits: 1\n"
	    "X-CGIWrap-Time-Limit: 2\nCGIWrap-Time: 3\n\n"), true,
	    S("CGIWrap-Time-Limits: 1\nX-CGIWrap-Time-Limit: 2\n"
	    "CGIWrap-Time: 3\n\n"), 0, "", "");
	parse_is("empty control value", S("CGIWrap-Time-Limit:\t \r\n"
	    "A: b\r\n\r\n"), true, S("A: b\r\n\r\n"), 0, "", "");
}

/* Bytes past the blank line, if the caller passes them, are not headers. */
static void
test_past_block(void)
{
	static const char in[] = CTL_BLOCK CTL_BODY;
	struct cgihdr h;
	const char *why;
	char *buf = guarded(in, sizeof(in) - 1);

	is_int(cgihdr_parse(buf, sizeof(in) - 1, true, &h, &why),
	    sizeof(CTL_KEPT CTL_BODY) - 1, "length with bytes past the block");
	ok(memcmp(buf, CTL_KEPT CTL_BODY, sizeof(CTL_KEPT CTL_BODY) - 1) == 0,
	    "bytes past the block slide down unchanged");
	is_str(h.time_limit, "45", "control header past the block ignored");
}

/* An nph- head in, then the CGI block out (want NULL: r is not 1). */
static void
to_cgi(const char *in, size_t n, size_t cap, int r, const char *want,
    const char *name)
{
	char buf[256];
	size_t len = n;

	printf("# nph to CGI: %s\n", name);
	memcpy(buf, in, n);
	is_int(nph_to_cgi(buf, &len, cap), r, "result");
	if (want != NULL) {
		is_int(len, strlen(want), "length");
		ok(len == strlen(want) && memcmp(buf, want, len) == 0, "bytes");
	}
}

static void
test_nph_to_cgi(void)
{
	to_cgi(S("HTTP/1.1 203 Other\r\nA: b\r\n\r\nbody"), 256, 1,
	    "Status: 203 Other\r\nA: b\r\n\r\nbody", "final only");
	to_cgi(S("HTTP/1.1 103 Early\r\nLink: x\r\n\r\n"
	    "HTTP/1.1 200 OK\nA: b\n\n"), 256, 1,
	    "Status: 200 OK\nA: b\n\n", "an interim response dropped");
	to_cgi(S("HTTP/2 200\n\n"), 256, 1, "Status: 200\n\n",
	    "one byte longer");
	to_cgi(S("HTTP/2 200\n\n"), 12, -1, NULL, "... with no room");
	to_cgi(S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2"), 256, 0, NULL,
	    "final line not complete");
	to_cgi(S("HTTP/1.1 103 Early\r\nLink: x\r\n"), 256, 0, NULL,
	    "interim block not complete");
	to_cgi(S("HTTP/1.1 200 OK"), 15, -1, NULL, "full, no line end");
	to_cgi(S("Content-Type: text/plain\n\n"), 256, -1,
	    "Content-Type: text/plain\n\n", "a CGI block stays");
}

/* Content-Length as the body promised: digits only, repeats agreeing. */
static void
length_is(const char *in, size_t n, long long want, const char *name)
{
	struct cgihdr h;
	const char *why;

	printf("# length: %s\n", name);
	ok(cgihdr_parse(guarded(in, n), n, true, &h, &why) >= 0, "parsed");
	is_int(h.length, want, "length");
}

static void
test_length(void)
{
	length_is(S("A: b\n\n"), -1, "no Content-Length");
	length_is(S("Content-Length: 6\r\n\r\n"), 6, "Content-Length");
	length_is(S("content-length:\t 0 \n\n"), 0, "blanks, any case");
	length_is(S("Content-Length: 9223372036854775807\n\n"),
	    9223372036854775807LL, "the largest");
	length_is(S("Content-Length: 9223372036854775808\n\n"), -1,
	    "too large");
	length_is(S("Content-Length: +6\n\n"), -1, "a sign");
	length_is(S("Content-Length: 6, 6\n\n"), -1, "a list");
	length_is(S("Content-Length:\n\n"), -1, "empty");
	length_is(S("Content-Length: 6\nContent-Length: 6\n\n"), 6,
	    "repeated, the same");
	length_is(S("Content-Length: 6\nContent-Length: 7\n\n"), -1,
	    "repeated, not the same");
}

static void
redirect_is(const char *in, size_t n, bool want, const char *name)
{
	struct cgihdr h;
	const char *why;

	printf("# local redirect: %s\n", name);
	ok(cgihdr_parse(guarded(in, n), n, true, &h, &why) >= 0, "parsed");
	ok(h.local_redirect == want, "local redirect %s", want ? "yes" : "no");
}

static void
test_redirect(void)
{
	redirect_is(S("Location: /next\n\n"), true, "a path");
	redirect_is(S("location:\t /next?a=1\r\n\r\n"), true,
	    "blanks, any case");
	redirect_is(S("Location: http://example.com/\n\n"), false, "a URL");
	redirect_is(S("Location:\nX: /y\n\n"), false, "empty, a path after");
	redirect_is(S("Content-Type: text/plain\n\n"), false, "none");
}

static void
test_truncate(void)
{
	char in[1024], want[CTL_MAX], *buf;
	struct cgihdr h;
	const char *why;
	size_t n;

	/* Long enough to overflow both fields if the bound were wrong. */
	memset(want, '7', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	n = snprintf(in, sizeof(in), "CGIWrap-Time-Limit: %s%s\n %s\n"
	    "A: b\n\n", want, "123", want);
	buf = guarded(in, n);
	is_int(cgihdr_parse(buf, n, true, &h, &why), 6,
	    "long control value cut out");
	is_int(strlen(h.time_limit), CTL_MAX - 1, "value truncated to CTL_MAX-1");
	is_str(h.time_limit, want, "truncated value is a prefix");
	is_str(h.ignore_user_abort, "", "neighbouring field untouched");

	/* Exactly at the bound: kept whole, one over: one byte lost. */
	n = snprintf(in, sizeof(in), "CGIWrap-Time-Limit: %s\n\n", want);
	is_int(cgihdr_parse(guarded(in, n), n, true, &h, &why), 1,
	    "value of CTL_MAX-1 bytes cut out");
	is_str(h.time_limit, want, "value of CTL_MAX-1 bytes kept whole");
	n = snprintf(in, sizeof(in), "CGIWrap-Time-Limit: %s8\n\n", want);
	is_int(cgihdr_parse(guarded(in, n), n, true, &h, &why), 1,
	    "value of CTL_MAX bytes cut out");
	is_str(h.time_limit, want, "value of CTL_MAX bytes truncated");
	is_str(h.ignore_user_abort, "", "neighbouring field still untouched");

	/* A folded word goes in only with its joining space. */
	memset(want, '7', CTL_MAX - 3);
	memcpy(want + CTL_MAX - 3, " x", 3);
	n = snprintf(in, sizeof(in), "CGIWrap-Ignore-User-Abort: %.*s\n"
	    " xyz\n\n", CTL_MAX - 3, want);
	buf = guarded(in, n);
	is_int(cgihdr_parse(buf, n, true, &h, &why), 1,
	    "folded value near the limit");
	is_str(h.ignore_user_abort, want, "space and one byte fit");

	want[CTL_MAX - 2] = '\0';
	memset(want, '7', CTL_MAX - 2);
	n = snprintf(in, sizeof(in), "CGIWrap-Ignore-User-Abort: %s\n"
	    " x\n\n", want);
	buf = guarded(in, n);
	is_int(cgihdr_parse(buf, n, true, &h, &why), 1,
	    "folded value at the limit");
	is_str(h.ignore_user_abort, want, "no space without a byte after it");
}

static void
status_is(const char *in, size_t n, int st, const char *name)
{
	struct cgihdr h;
	const char *why = NULL;
	long r;

	r = cgihdr_parse(guarded(in, n), n, true, &h, &why);
	if (st > 0) {
		is_int(r, n, name);
		is_int(h.status, st, name);
	} else {
		is_int(r, -1, name);
		is_str(why, st == 0 ? "bad Status value" :
		    "duplicate Status header", name);
	}
}

static void
test_status(void)
{
	status_is(S("Status: 404 Not Found\r\n\r\n"), 404, "with reason");
	status_is(S("status:302\n\n"), 302, "lower case, no blank, no reason");
	status_is(S("STATUS: \t200 \t\n\n"), 200, "blanks around the code");
	status_is(S("Status: 100\n\n"), 100, "lowest code");
	status_is(S("Status: 999 x\n\n"), 999, "highest code");
	status_is(S("Status: 503\r\n Service\r\n Unavailable\r\n\r\n"), 503,
	    "folded reason");
	status_is(S("Status: 40\n\n"), 0, "two digits");
	status_is(S("Status: abc\n\n"), 0, "not a number");
	status_is(S("Status: 099\n\n"), 0, "below 100");
	status_is(S("Status: 2000\n\n"), 0, "four digits");
	status_is(S("Status: 200OK\n\n"), 0, "reason not separated");
	status_is(S("Status: -20\n\n"), 0, "sign");
	status_is(S("Status:\n 200\n\n"), 0, "code only on a folded line");
	status_is(S("Status: 200\nstatus: 200\n\n"), -1, "two Status lines");
}

static void
malformed(const char *in, size_t n, const char *why, const char *name)
{
	struct cgihdr h;
	const char *got = NULL;
	long r;

	r = cgihdr_parse(guarded(in, n), n, true, &h, &got);
	if (!ok(r == -1 && got != NULL && strcmp(got, why) == 0, "%s", name))
		printf("#   got %ld '%s', want -1 '%s'\n", r,
		    got ? got : "(null)", why);
}

static void
test_malformed(void)
{
	malformed(S("no colon here\n\n"), "line without colon", "no colon");
	malformed(S("A: b\r\nHTTP/1.1 200 OK\r\n\r\n"), "line without colon",
	    "status line inside");
	malformed(S(": x\n\n"), "bad header name", "empty name");
	malformed(S("Bad Name: x\n\n"), "bad header name", "space in name");
	malformed(S("Status : 200\n\n"), "bad header name",
	    "space before colon");
	malformed(S("A(b): x\n\n"), "bad header name", "separator in name");
	malformed(S("A\xc3\xa9: x\n\n"), "bad header name", "non-ASCII name");
	malformed(S(" A: b\nC: d\n\n"), "continuation without header",
	    "fold as first line");
	malformed(S("\tA: b\n\n"), "continuation without header",
	    "tab fold as first line");
	malformed(S("A: b\0c\n\n"), "NUL byte in header", "NUL in value");
	malformed(S("A\0: b\n\n"), "NUL byte in header", "NUL in name");
	malformed(S("A: b\rc\r\n\r\n"), "bare CR in header", "bare CR");
	malformed(S("A: b\r\r\n\r\n"), "bare CR in header", "CR CR LF");
	malformed(S("CGIWrap-Time-Limit: 1\r\n 2\r3\r\n\r\n"),
	    "bare CR in header", "bare CR in a cut continuation");
	malformed(S("A: b\x01c\n\n"), "control byte in header",
	    "control byte in value");
	malformed(S("A: b\x7f\n\n"), "control byte in header", "DEL in value");
	malformed(S("A: b\n"), "incomplete header block", "no blank line");
	malformed(S(""), "incomplete header block", "nothing");
}

/*
 * The head of an nph- response in, then what follows: status st and
 * head bytes, whether the bytes come in one piece or one at a time.
 */
static void
nph_is(const char *in, size_t n, int st, size_t head, const char *name)
{
	struct nphhead whole = { 0 }, bytes = { 0 };
	size_t used = 0, i;

	printf("# nph head: %s\n", name);
	is_int(nphhead_scan(&whole, guarded(in, n), n), head, "bytes used");
	is_int(whole.status, st, "status");
	is_int(whole.len, head, "length");
	for (i = 0; i < n; i++)
		used += nphhead_scan(&bytes, guarded(in + i, 1), 1);
	is_int(used, head, "byte by byte: bytes used");
	is_int(bytes.status, st, "byte by byte: status");
	is_int(bytes.len, head, "byte by byte: length");
}

static void
test_nph(void)
{
	nph_is(S("HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nbody\r\n\r\n"), 404, 32,
	    "CRLF, body after");
	nph_is(S("HTTP/1.0 200\n\nx"), 200, 14, "LF, no reason");
	nph_is(S("HTTP/1.1 302 Found\r\n\r\n"), 302, 22, "no fields");
	nph_is(S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
	    "Link: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nrest"), 204, 92,
	    "interim 1xx, then the final status");
	nph_is(S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"
	    "HTTP/1.1 200 OK\r\n\r\n"), 101, 48, "101 is final");
	nph_is(S("HTTP/1.1 200 A reason phrase longer than the line kept\r\n"
	    "\r\nb"), 200, 58, "long status line");
	nph_is(S("HTTP/1.1 200 OK\r\nA: b\r\n"), 0, 23, "block not ended");
	nph_is(S("HTTP/1.1 100 Continue\r\n\r\n"), 0, 25, "only interim");
	nph_is(S("HTTP/1.1 200 OK"), 0, 15, "status line not ended");
	nph_is(S("Content-Type: text/plain\r\n\r\nx"), -1, 26,
	    "no status line");
	nph_is(S("HTTP/1.1 20 OK\r\n\r\n"), -1, 16, "two digits");
	nph_is(S("HTTP/1.1 200OK\r\n\r\n"), -1, 16, "reason not separated");
	nph_is(S("HTTP/ 200 OK\r\n\r\n"), -1, 14, "no version");
	nph_is(S("\r\n\r\n"), -1, 2, "blank first line");
	nph_is(S("HTTP/1.1 200 OK\r\n\r"), 0, 18, "blank line's CR alone");
}

int
main(void)
{
	test_end();
	test_split();
	test_parse();
	test_past_block();
	test_truncate();
	test_status();
	test_length();
	test_redirect();
	test_nph_to_cgi();
	test_malformed();
	test_nph();
	return done_testing();
}
