/*
 * libFuzzer harness for the value parsers of src/parse.c: durations,
 * signals and numbers, on the input as a string, with the round trips
 * that must hold:
 *   format_duration(ms) -> parse_duration -> ms  (every ms >= 0, the
 *     first 8 input bytes as one too), never truncated in DURATION_MAX;
 *   parse_number(s) = n -> "%ld" -> parse_number -> n, and a bare
 *     number is that many seconds to parse_duration;
 *   parse_signal(s) = sig -> signal_name(sig) -> parse_signal -> sig,
 *     also with "SIG" before the name.
 */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define check(c)	((c) ? (void)0 : fail(#c, __LINE__))

static void
fail(const char *what, int line)
{
	fprintf(stderr, "fuzz_values.c:%d: check failed: %s\n", line, what);
	abort();
}

static void
duration_trip(int64_t ms)
{
	char buf[DURATION_MAX], big[2 * DURATION_MAX];
	int64_t back = -1;

	check(format_duration(ms, buf, sizeof(buf)) == buf);
	(void)format_duration(ms, big, sizeof(big));
	check(strcmp(buf, big) == 0);		/* DURATION_MAX is enough */
	if (ms < 0) {
		check(parse_duration(buf, &back) == -1);	/* no sign */
		return;
	}
	check(parse_duration(buf, &back) == 0);
	check(back == ms);
}

static void
durations(const char *s)
{
	int64_t ms = -1;

	if (parse_duration(s, &ms) == -1)
		return;
	check(ms >= 0);
	duration_trip(ms);
}

static void
numbers(const char *s)
{
	char buf[32];
	int64_t ms = -1;
	long n = -1, back = -1;

	if (parse_number(s, &n) == -1)
		return;
	check(n >= 0);
	check(*s != '\0' && strspn(s, "0123456789") == strlen(s));
	(void)snprintf(buf, sizeof(buf), "%ld", n);
	check(parse_number(buf, &back) == 0 && back == n);
	/* A bare number is seconds, when the milliseconds fit. */
	if (n <= INT64_MAX / 1000)
		check(parse_duration(s, &ms) == 0 && ms == (int64_t)n * 1000);
	else
		check(parse_duration(s, &ms) == -1);
}

static void
signals(const char *s)
{
	char buf[64];
	const char *name;
	int sig = -1, back = -1;

	if (parse_signal(s, &sig) == -1)
		return;
	check(sig >= 1 && sig < NSIG);
	name = signal_name(sig);
	check(name != NULL && *name != '\0');
	check(parse_signal(name, &back) == 0 && back == sig);
	(void)snprintf(buf, sizeof(buf), "sig%s", name);
	back = -1;
	if ((name[0] < '0' || name[0] > '9'))
		check(parse_signal(buf, &back) == 0 && back == sig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t ms;
	char *s;

	if (size >= sizeof(ms)) {
		memcpy(&ms, data, sizeof(ms));
		duration_trip(ms);
		duration_trip(ms & INT64_MAX);
	}
	/* Exactly sized, NUL included: an overread is caught. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	durations(s);
	numbers(s);
	signals(s);
	free(s);
	return 0;
}
