/*
 * The header block of a CGI response (RFC 3875 6.2, fields as in
 * RFC 7230 3.2).  It is read only to find Status: and the control
 * headers; everything else goes to the server byte for byte.  The head
 * of an nph- response is only looked at, for its status and its length.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cgihdr.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* A control value being collected into its fixed buffer in h. */
struct value {
	const char	*name;
	char		*s;
	size_t		 n;
};

struct parser {
	struct cgihdr	*h;
	bool		 control;
	bool		 any;		/* a header line came before */
	bool		 length;	/* a Content-Length came before */
	struct value	 ctl[2];
	struct value	*cut;		/* control header being cut out */
	const char	**why;
};

size_t
cgihdr_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;

	/* p is always at the start of a line; an empty one ends the block. */
	while (p < end) {
		if (*p == '\n')
			return p - buf + 1;
		if (*p == '\r' && end - p > 1 && p[1] == '\n')
			return p - buf + 2;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Folded lines are joined by one space, as RFC 7230 3.2.4 asks. */
static void
append(struct value *v, const char *p, size_t n)
{
	trim(&p, &n);
	if (n == 0)
		return;
	if (v->n > 0) {
		/* Full unless a space and a byte still fit: no glued words. */
		if (v->n + 2 >= CTL_MAX)
			return;
		v->s[v->n++] = ' ';
	}
	if (n > CTL_MAX - 1 - v->n)
		n = CTL_MAX - 1 - v->n;
	memcpy(v->s + v->n, p, n);
	v->n += n;
	/*
	 * Only a cut leaves a blank last.  Cut in blanks, "1h    5" would
	 * read as "1h", a valid value; no value this long is valid.
	 */
	if (v->s[v->n - 1] == ' ' || v->s[v->n - 1] == '\t')
		v->s[v->n - 1] = '.';
	v->s[v->n] = '\0';
}

static bool
is_field(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

static bool
token(const char *p, size_t n)
{
	unsigned char c;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		c = p[i];
		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z'))
			continue;
		if (c == '\0' || strchr("!#$%&'*+-.^_`|~", c) == NULL)
			return false;
	}
	return true;
}

/*
 * Digits only, as RFC 7230 3.3.2 has it; -1 for anything else, which
 * the server is left to judge.  A repeated header must say the same.
 */
static void
length(struct cgihdr *h, const char *p, size_t n, bool *seen)
{
	int64_t v = 0;
	size_t i;

	trim(&p, &n);
	for (i = 0; i < n && v != -1; i++)
		if (p[i] < '0' || p[i] > '9' ||
		    v > (INT64_MAX - (p[i] - '0')) / 10)
			v = -1;
		else
			v = v * 10 + (p[i] - '0');
	if (n == 0 || (*seen && v != h->length))
		v = -1;
	h->length = v;
	*seen = true;
}

/* A three digit code, then nothing or a reason phrase after blanks. */
static int
status(const char *p, size_t n)
{
	int code = 0;
	size_t i;

	trim(&p, &n);
	if (n < 3 || (n > 3 && p[3] != ' ' && p[3] != '\t'))
		return -1;
	for (i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		code = code * 10 + p[i] - '0';
	}
	return code >= 100 ? code : -1;
}

static int
bad(struct parser *ps, const char *why)
{
	*ps->why = why;
	return -1;
}

/* Controls other than HTAB, which no field value holds (RFC 7230 3.2). */
static bool
control(const char *p, const char *e)
{
	for (; p < e; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return true;
	return false;
}

/* One field line [p, e), line end excluded. */
static int
field(struct parser *ps, const char *p, const char *e)
{
	const char *colon, *v;
	size_t i;
	int code;

	if (memchr(p, '\0', e - p) != NULL)
		return bad(ps, "NUL byte in header");
	if (memchr(p, '\r', e - p) != NULL)
		return bad(ps, "bare CR in header");
	if (control(p, e))
		return bad(ps, "control byte in header");
	if (*p == ' ' || *p == '\t') {
		if (!ps->any)
			return bad(ps, "continuation without header");
		if (ps->cut != NULL)
			append(ps->cut, p, e - p);
		return 0;
	}
	if ((colon = memchr(p, ':', e - p)) == NULL)
		return bad(ps, "line without colon");
	if (!token(p, colon - p))
		return bad(ps, "bad header name");
	ps->any = true;
	ps->cut = NULL;
	for (i = 0; ps->control && i < nitems(ps->ctl); i++)
		if (is_field(p, colon - p, ps->ctl[i].name))
			ps->cut = &ps->ctl[i];
	if (ps->cut != NULL) {
		/* A repeated control header overrides, like a second call. */
		ps->cut->n = 0;
		ps->cut->s[0] = '\0';
		append(ps->cut, colon + 1, e - colon - 1);
	} else if (is_field(p, colon - p, "Status")) {
		if (ps->h->status != 0)
			return bad(ps, "duplicate Status header");
		if ((code = status(colon + 1, e - colon - 1)) == -1)
			return bad(ps, "bad Status value");
		ps->h->status = code;
	} else if (is_field(p, colon - p, "Content-Length"))
		length(ps->h, colon + 1, e - colon - 1, &ps->length);
	else if (is_field(p, colon - p, "Location")) {
		for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
			;
		ps->h->local_redirect = v < e && *v == '/';
	}
	return 0;
}

long
cgihdr_parse(char *buf, size_t len, bool control, struct cgihdr *h,
    const char **why)
{
	struct parser ps = {
		.h = h,
		.control = control,
		.why = why,
		.ctl = {
			{ "CGIWrap-Time-Limit", h->time_limit, 0 },
			{ "CGIWrap-Ignore-User-Abort", h->ignore_user_abort,
			    0 },
		},
	};
	char *p = buf, *w = buf, *end = buf + len, *nl, *e;
	size_t n;

	h->status = 0;
	h->length = -1;
	h->local_redirect = false;
	h->time_limit[0] = h->ignore_user_abort[0] = '\0';
	if (len > LONG_MAX)
		return bad(&ps, "header block too large");
	/* Kept lines slide down over the cut ones; w trails p. */
	for (;;) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return bad(&ps, "incomplete header block");
		e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (e == p)
			break;
		if (field(&ps, p, e) == -1)
			return -1;
		n = nl + 1 - p;
		if (ps.cut == NULL) {
			memmove(w, p, n);
			w += n;
		}
		p = nl + 1;
	}
	n = end - p;
	memmove(w, p, n);
	return w + n - buf;
}

/* "HTTP/" version, blanks, then what Status: takes; the line end is LF. */
static int
status_line(const char *p, size_t n)
{
	const char *sp;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n < 5 || strncmp(p, "HTTP/", 5) != 0 ||
	    (sp = memchr(p, ' ', n)) == NULL || sp == p + 5)
		return -1;
	return status(sp, n - (size_t)(sp - p));
}

int
nph_to_cgi(char *buf, size_t *len, size_t cap)
{
	static const char tag[] = "Status:";
	char *nl, *sp;
	size_t line, block, n;
	int code;

	for (;;) {
		if ((nl = memchr(buf, '\n', *len)) == NULL)
			return *len < cap ? 0 : -1;
		line = (size_t)(nl - buf) + 1;
		if ((code = status_line(buf, line - 1)) == -1)
			return -1;
		if (code >= 200 || code == 101)
			break;
		if ((block = cgihdr_end(buf + line, *len - line)) == 0)
			return *len < cap ? 0 : -1;
		block += line;
		memmove(buf, buf + block, *len - block);
		*len -= block;
	}
	/* "HTTP/1.1 200 OK" becomes "Status: 200 OK", the line end kept. */
	sp = memchr(buf, ' ', line);
	n = (size_t)(sp - buf);
	if (*len - n + sizeof(tag) - 1 > cap)
		return -1;
	memmove(buf + sizeof(tag) - 1, sp, *len - n);
	memcpy(buf, tag, sizeof(tag) - 1);
	*len = *len - n + sizeof(tag) - 1;
	return 1;
}

size_t
nphhead_scan(struct nphhead *h, const char *buf, size_t len)
{
	size_t i, kept;

	for (i = 0; i < len && h->status == 0; i++) {
		kept = h->llen < sizeof(h->line) ? h->llen : sizeof(h->line);
		if (buf[i] != '\n') {
			if (h->llen < sizeof(h->line))
				h->line[h->llen] = buf[i];
			h->llen++;
			continue;
		}
		if (!h->fields) {
			/* Only the start of a long line is kept: the code. */
			if ((h->code = status_line(h->line, kept)) == -1)
				h->status = -1;
			h->fields = true;
		} else if (h->llen == 0 || (h->llen == 1 && *h->line == '\r')) {
			/* 101 is final: what follows is another protocol. */
			if (h->code >= 200 || h->code == 101)
				h->status = h->code;
			h->fields = false;
		}
		h->llen = 0;
	}
	h->len += i;
	return i;
}
