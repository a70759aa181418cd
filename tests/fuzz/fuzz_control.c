/*
 * libFuzzer harness for the control-line parser (parse_control in
 * src/parse.c, R-CTL-2): the input as one string, then each of its
 * lines as the supervisor passes them.  An accepted line is written
 * back in its plain form, which must be accepted again with the same
 * meaning.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define check(c)	((c) ? (void)0 : fail(#c, __LINE__))

static void
fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_control.c:%d: check failed: %s\n", line, what);
	abort();
}

static void
one(const char *line)
{
	char dur[DURATION_MAX], again[64 + DURATION_MAX];
	struct control c, c2;
	int64_t ms;

	if (parse_control(line, &c) == -1)
		return;
	switch (c.op) {
	case CTL_TIME_LIMIT:
		check(c.ms >= 0);
		(void)snprintf(again, sizeof(again), " time_limit\t%s \r\n",
		    format_duration(c.ms, dur, sizeof(dur)));
		check(parse_duration(dur, &ms) == 0 && ms == c.ms);
		break;
	case CTL_IGNORE_USER_ABORT:
		(void)snprintf(again, sizeof(again), "ignore_user_abort %s\n",
		    c.on ? "on" : "off");
		break;
	case CTL_FINISH:
		(void)snprintf(again, sizeof(again), "finish");
		break;
	default:
		check(!"unknown op");
	}
	memset(&c2, 0, sizeof(c2));
	check(parse_control(again, &c2) == 0);
	check(c2.op == c.op);
	if (c.op == CTL_TIME_LIMIT)
		check(c2.ms == c.ms);
	if (c.op == CTL_IGNORE_USER_ABORT)
		check(c2.on == c.on);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *p, *nl;

	/* Exactly sized, NUL included: an overread is caught. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	one(s);
	/* Line by line, newline cut off, as the supervisor passes them. */
	for (p = s; p < s + size && (nl = memchr(p, '\n', s + size - p)) != NULL;
	    p = nl + 1) {
		char *line = malloc(nl + 1 - p);

		if (line == NULL)
			break;
		memcpy(line, p, nl - p);
		line[nl - p] = '\0';
		one(line);
		free(line);
	}
	free(s);
	return 0;
}
