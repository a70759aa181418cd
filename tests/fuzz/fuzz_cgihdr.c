/*
 * libFuzzer harness for the CGI header block scanner and parser
 * (src/cgihdr.c): cgihdr_end on any bytes, then cgihdr_parse on the
 * block found, with and without control headers, in exactly sized heap
 * copies so that AddressSanitizer sees any read or write past the block.
 * Checks what cgihdr.h promises, that the output is a well-formed
 * block again, the same after a second pass, and that a control value
 * cut at CTL_MAX never passes for a valid one (parse_control).  The
 * same bytes as the head of an nph- response (nphhead_scan) give the
 * same in one piece as in two.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgihdr.h"
#include "parse.h"

#define check(c)	((c) ? (void)0 : fail(#c, __LINE__))

static void
fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_cgihdr.c:%d: check failed: %s\n", line, what);
	abort();
}

static char *
copy(const void *p, size_t n)
{
	char *s = malloc(n > 0 ? n : 1);

	check(s != NULL);
	if (n > 0)
		memcpy(s, p, n);
	return s;
}

static void
value_ok(const char *name, const char *v)
{
	char line[256];
	struct control c;
	size_t n = strnlen(v, CTL_MAX);

	check(n < CTL_MAX);
	/* Trimmed, so a value never starts or ends with a blank. */
	check(n == 0 || (v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' &&
	    v[n - 1] != '\t'));
	/*
	 * A value that may have been cut is never taken for a valid one
	 * by the supervisor, which gets it as relay.c sends it.
	 */
	(void)snprintf(line, sizeof(line), "%s %s", name, v);
	if (n == CTL_MAX - 1)
		check(parse_control(line, &c) == -1);
}

/*
 * Parse the block [data, data + end) as relay.c does, then the whole
 * input, which must give the same with the bytes past the block slid
 * down unchanged behind it.
 */
static void
parse(const uint8_t *data, size_t size, size_t end, int control)
{
	struct cgihdr h, h2;
	const char *why = NULL;
	char *buf, *again;
	long len, len2;

	memset(&h, 0x55, sizeof(h));
	buf = copy(data, end);
	len = cgihdr_parse(buf, end, control, &h, &why);

	again = copy(data, size);
	memset(&h2, 0x55, sizeof(h2));
	len2 = cgihdr_parse(again, size, control, &h2, &why);
	check((len < 0) == (len2 < 0));
	if (len >= 0) {
		check((size_t)len2 == (size_t)len + (size - end));
		check(memcmp(again, buf, len) == 0);
		check(memcmp(again + len, data + end, size - end) == 0);
		check(h2.status == h.status);
		check(strcmp(h2.time_limit, h.time_limit) == 0);
		check(strcmp(h2.ignore_user_abort, h.ignore_user_abort) == 0);
	}
	free(again);

	if (len < 0) {
		check(len == -1);
		check(why != NULL && *why != '\0');
		free(buf);
		return;
	}
	check((size_t)len <= end);
	check(h.status == 0 || (h.status >= 100 && h.status <= 999));
	value_ok("time_limit", h.time_limit);
	value_ok("ignore_user_abort", h.ignore_user_abort);
	if (!control) {
		/* Nothing is cut: the block is left byte for byte. */
		check((size_t)len == end);
		check(memcmp(buf, data, end) == 0);
		check(h.time_limit[0] == '\0' && h.ignore_user_abort[0] == '\0');
	}
	/* What is kept is a block that ends where it did. */
	check(cgihdr_end(buf, len) == (size_t)len);

	/* A second pass finds no control header and changes nothing. */
	again = copy(buf, len);
	why = NULL;
	len2 = cgihdr_parse(again, len, control, &h2, &why);
	check(len2 == len);
	check(memcmp(again, buf, len) == 0);
	check(h2.status == h.status);
	check(h2.time_limit[0] == '\0' && h2.ignore_user_abort[0] == '\0');
	free(again);
	free(buf);
}

static void
nph(const uint8_t *data, size_t size)
{
	struct nphhead whole = { 0 }, parts = { 0 };
	char *buf = copy(data, size);
	size_t used, cut = size > 0 ? data[0] % (size + 1) : 0;

	used = nphhead_scan(&whole, buf, size);
	check(used == whole.len && used <= size);
	check(whole.status >= -1 && whole.status <= 999);
	check(whole.status != 0 || used == size);
	check(whole.status <= 0 || buf[used - 1] == '\n');
	used = nphhead_scan(&parts, buf, cut);
	used += nphhead_scan(&parts, buf + cut, size - cut);
	check(used == whole.len && parts.status == whole.status);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t end;

	buf = copy(data, size);
	end = cgihdr_end(buf, size);
	check(memcmp(buf, data, size) == 0);
	free(buf);
	nph(data, size);
	if (end == 0)
		return 0;
	check(end <= size);
	check(data[end - 1] == '\n');
	/* The first empty line ends the block, nothing before it does. */
	check(end == 1 || (end == 2 && data[0] == '\r') ||
	    data[end - 2] == '\n' ||
	    (data[end - 2] == '\r' && end >= 3 && data[end - 3] == '\n'));
	check(cgihdr_end((const char *)data, end) == end);

	parse(data, size, end, 1);
	parse(data, size, end, 0);
	return 0;
}
