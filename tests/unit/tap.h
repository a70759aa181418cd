/* A minimal TAP producer for the unit tests (read by prove). */
#ifndef CGIWRAP_TAP_H
#define CGIWRAP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

/* Not every test uses every helper. */
#define TAP_FN static __attribute__((unused)) int

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), \
    __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, \
    __VA_ARGS__)

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static int
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   at %s line %d\n", file, line);
	}
	return pass;
}

TAP_FN
tap_is_int(long long got, long long want, const char *file, int line,
    const char *name)
{
	if (!tap_ok(got == want, file, line, "%s", name))
		printf("#   got %lld, want %lld\n", got, want);
	return got == want;
}

TAP_FN
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	int pass = got && want ? strcmp(got, want) == 0 : got == want;

	if (!tap_ok(pass, file, line, "%s", name))
		printf("#   got '%s', want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return pass;
}

TAP_FN
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
