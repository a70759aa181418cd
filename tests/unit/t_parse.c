/* Durations, numbers, signals and globs, as config and scripts write them. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "parse.h"
#include "tap.h"

static void
good_duration(const char *s, int64_t want)
{
	int64_t	 ms = -1;

	if (is_int(parse_duration(s, &ms), 0, s))
		is_int(ms, want, s);
}

static void
bad_duration(const char *s)
{
	int64_t	 ms = 42;

	ok(parse_duration(s, &ms) == -1 && ms == 42, "'%s' is no duration", s);
}

static void
duration_text(int64_t ms, const char *want)
{
	char	 buf[DURATION_MAX];
	int64_t	 back = -1;

	is_str(format_duration(ms, buf, sizeof(buf)), want, want);
	ok(parse_duration(buf, &back) == 0 && back == ms,
	    "'%s' reads back as %lld ms", buf, (long long)ms);
}

static void
good_signal(const char *s, int want)
{
	int	 sig = -1;

	if (is_int(parse_signal(s, &sig), 0, s))
		is_int(sig, want, s);
}

static void
bad_signal(const char *s)
{
	int	 sig = 42;

	ok(parse_signal(s, &sig) == -1 && sig == 42, "'%s' is no signal", s);
}

static void
good_control(const char *line, enum control_op op, int64_t ms, bool on)
{
	struct control c = { 0 };

	ok(parse_control(line, &c) == 0 && c.op == op &&
	    (op != CTL_TIME_LIMIT || c.ms == ms) &&
	    (op != CTL_IGNORE_USER_ABORT || c.on == on),
	    "control line '%s'", line);
}

static void
bad_control(const char *line)
{
	struct control c;

	ok(parse_control(line, &c) == -1, "'%s' is no control line", line);
}

static void
controls(void)
{
	good_control("time_limit 3", CTL_TIME_LIMIT, 3000, false);
	good_control("  time_limit\t500ms \r\n", CTL_TIME_LIMIT, 500, false);
	good_control("time_limit 0", CTL_TIME_LIMIT, 0, false);
	good_control("ignore_user_abort on", CTL_IGNORE_USER_ABORT, 0, true);
	good_control("ignore_user_abort OFF\n", CTL_IGNORE_USER_ABORT, 0,
	    false);
	good_control("finish", CTL_FINISH, 0, false);
	good_control("finish\n", CTL_FINISH, 0, false);
	bad_control("");
	bad_control("finish now");
	bad_control("time_limit");
	bad_control("time_limit -1");
	bad_control("time_limit 3 4");
	bad_control("ignore_user_abort yes");
	bad_control("Time_Limit 3");
	bad_control("set_time_limit 3");
	bad_control("time_limit 99999999999999999999999999999999999999999");
}

/* Glob checks of script sections: why a glob is bad, or NULL. */
static void
globs(void)
{
	static const struct {
		const char	*glob;
		const char	*why;
	} t[] = {
	    { "/usr/lib/cgi-bin/*.cgi", NULL },
	    { "*/report.cgi", NULL },
	    { "/a/[]b]/c", NULL },
	    { "/a/[!x]", NULL },
	    { "/a/[[:digit:]]", NULL },
	    { "/a/[[.].]]", NULL },
	    { "/a/\\[", NULL },
	    { "", "empty" },
	    { "report.cgi", "does not start with '/' or '*'" },
	    { "/a/\\", "ends in a backslash" },
	    { "/a/b]", "unbalanced ']'" },
	    { "/usr/lib/cgi-bin/[ab.cgi", "unbalanced '['" },
	    { "/a/[[:digit:]", "unbalanced '['" },
	    { "/a/[[:digit]", "unbalanced '['" }
	};
	char	 name[64];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		(void)snprintf(name, sizeof(name), "glob '%s'", t[i].glob);
		is_str(badglob(t[i].glob), t[i].why, name);
	}
}

int
main(void)
{
	char	 buf[DURATION_MAX];
	long	 n = 42;
	int	 sig, back;

	good_duration("500ms", 500);
	good_duration("30s", 30000);
	good_duration("2m", 120000);
	good_duration("1h", 3600000);
	good_duration("15", 15000);
	good_duration("0", 0);
	good_duration("0ms", 0);
	good_duration("007s", 7000);
	good_duration("9223372036854775807ms", INT64_MAX);
	good_duration("2562047788015h", INT64_C(2562047788015) * 3600000);
	good_duration("9223372036854775s", INT64_C(9223372036854775) * 1000);
	bad_duration("9223372036854775808ms");
	bad_duration("9223372036854776s");
	bad_duration("2562047788016h");
	bad_duration("99999999999999999999");
	bad_duration("");
	bad_duration("-1");
	bad_duration("-1s");
	bad_duration("+1s");
	bad_duration("1.5s");
	bad_duration("abc");
	bad_duration("s");
	bad_duration("ms");
	bad_duration("10x");
	bad_duration("1hh");
	bad_duration("30S");
	bad_duration("30 s");
	bad_duration(" 30s");
	bad_duration("30s ");

	duration_text(0, "0");
	duration_text(500, "500ms");
	duration_text(1500, "1500ms");
	duration_text(30000, "30s");
	duration_text(90000, "90s");
	duration_text(600000, "10m");
	duration_text(5400000, "90m");
	duration_text(3600000, "1h");
	duration_text(INT64_C(48) * 3600000, "48h");
	duration_text(INT64_MAX, "9223372036854775807ms");
	is_str(format_duration(30000, buf, 3), "30", "format_duration stays in buf");

	ok(parse_number("0", &n) == 0 && n == 0, "number 0");
	ok(parse_number("65536", &n) == 0 && n == 65536, "number 65536");
	ok(parse_number("9223372036854775807", &n) == 0 && n == INT64_MAX,
	    "number LONG_MAX");
	n = 42;
	ok(parse_number("9223372036854775808", &n) == -1 && n == 42,
	    "number past LONG_MAX refused");
	ok(parse_number("-1", &n) == -1, "negative number refused");
	ok(parse_number("", &n) == -1, "empty number refused");
	ok(parse_number("1k", &n) == -1, "number with a suffix refused");
	ok(parse_number("0x10", &n) == -1, "hexadecimal refused");
	ok(parse_number(" 1", &n) == -1 && n == 42, "blank before refused");

	good_signal("TERM", SIGTERM);
	good_signal("SIGTERM", SIGTERM);
	good_signal("sigterm", SIGTERM);
	good_signal("Term", SIGTERM);
	good_signal("KILL", SIGKILL);
	good_signal("usr1", SIGUSR1);
	good_signal("SIGHUP", SIGHUP);
	good_signal("9", SIGKILL);
	good_signal("1", 1);
	(void)snprintf(buf, sizeof(buf), "%d", NSIG - 1);
	good_signal(buf, NSIG - 1);
	(void)snprintf(buf, sizeof(buf), "%d", NSIG);
	bad_signal(buf);
	bad_signal("0");
	bad_signal("-1");
	bad_signal("-TERM");
	bad_signal("");
	bad_signal("SIG");
	bad_signal("FOO");
	bad_signal("SIGFOO");
	bad_signal("SIGSIGTERM");
	bad_signal("TERM ");
	bad_signal("15x");
	bad_signal("99999999999999999999");

	is_str(signal_name(SIGTERM), "TERM", "signal_name TERM");
	is_str(signal_name(SIGKILL), "KILL", "signal_name KILL");
	is_str(signal_name(SIGUSR1), "USR1", "signal_name USR1");
	is_str(signal_name(0), "0", "signal_name 0 is a number");
	is_str(signal_name(-3), "-3", "signal_name -3 is a number");
	for (sig = 1; sig < 32; sig++) {
		back = -1;
		if (parse_signal(signal_name(sig), &back) != 0 || back != sig)
			break;
	}
	is_int(sig, 32, "signal_name reads back for 1..31");
	controls();
	globs();
	return done_testing();
}
