/* Parsers for configuration and control values. */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Largest first, so format_duration can take the first exact one. */
static const struct unit {
	const char	*name;
	int64_t		 ms;
} units[] = {
	{ "h",	3600000 },
	{ "m",	60000 },
	{ "s",	1000 },
	{ "ms",	1 }
};

/*
 * The decimal digits at *sp, at least one, into *n; *sp is left after
 * them.  Only ASCII digits: no sign, no blanks, no locale.
 */
static int
digits(const char **sp, int64_t *n)
{
	const char	*s = *sp;
	int64_t		 v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*sp = s;
	*n = v;
	return 0;
}

int
parse_duration(const char *s, int64_t *ms)
{
	const char	*unit;
	int64_t		 n;
	size_t		 i;

	if (digits(&s, &n) == -1)
		return -1;
	unit = *s == '\0' ? "s" : s;
	for (i = 0; i < nitems(units); i++) {
		if (strcmp(unit, units[i].name) != 0)
			continue;
		if (n > INT64_MAX / units[i].ms)
			return -1;
		*ms = n * units[i].ms;
		return 0;
	}
	return -1;
}

const char *
format_duration(int64_t ms, char *buf, size_t len)
{
	size_t	 i;

	if (ms == 0) {
		(void)snprintf(buf, len, "0");
		return buf;
	}
	/* Ends at "ms" at the latest: every number is a multiple of 1. */
	for (i = 0; ms % units[i].ms != 0; i++)
		;
	(void)snprintf(buf, len, "%" PRId64 "%s", ms / units[i].ms,
	    units[i].name);
	return buf;
}

int
parse_number(const char *s, long *n)
{
	int64_t	 v;

	if (digits(&s, &v) == -1 || *s != '\0' || v > LONG_MAX)
		return -1;
	*n = v;
	return 0;
}

int
parse_signal(const char *s, int *sig)
{
	const char	*p = s, *abbrev;
	int64_t		 n;
	int		 i;

	if (digits(&p, &n) == 0) {
		if (*p != '\0' || n < 1 || n >= NSIG)
			return -1;
		*sig = n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < NSIG; i++) {
		abbrev = sigabbrev_np(i);
		if (abbrev != NULL && strcasecmp(s, abbrev) == 0) {
			*sig = i;
			return 0;
		}
	}
	return -1;
}

const char *
signal_name(int sig)
{
	static char	 buf[sizeof("-2147483648")];
	const char	*s;

	if ((s = sigabbrev_np(sig)) != NULL)
		return s;
	(void)snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

/* The closing ']' of the bracket expression at g, or NULL. */
static const char *
bracket(const char *g)
{
	char	 c;

	g++;
	if (*g == '!' || *g == '^')
		g++;
	if (*g == ']')		/* first, it is a member */
		g++;
	for (; *g != '\0'; g++) {
		if (*g == ']')
			return g;
		if (*g == '\\' && g[1] != '\0')
			g++;
		else if (*g == '[' && g[1] != '\0' &&
		    strchr(":.=", g[1]) != NULL) {
			/* [:class:], [.symbol.], [=equivalence=] */
			c = g[1];
			for (g += 2; *g != '\0' && !(g[0] == c && g[1] == ']');
			    g++)
				;
			if (*g == '\0')
				return NULL;
			g++;
		}
	}
	return NULL;
}

const char *
badglob(const char *g)
{
	if (*g == '\0')
		return "empty";
	if (*g != '/' && *g != '*')
		return "does not start with '/' or '*'";
	for (; *g != '\0'; g++) {
		if (*g == '\\') {
			if (*++g == '\0')
				return "ends in a backslash";
		} else if (*g == ']')
			return "unbalanced ']'";
		else if (*g == '[' && (g = bracket(g)) == NULL)
			return "unbalanced '['";
	}
	return NULL;
}

/* The next blank-separated word at *p into buf; -1 if it does not fit. */
static int
take_word(const char **p, char *buf, size_t len)
{
	size_t n;

	*p += strspn(*p, " \t");
	if ((n = strcspn(*p, " \t\r\n")) >= len)
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n;
	return 0;
}

int
parse_control(const char *line, struct control *c)
{
	char word[32], arg[64];
	const char *p = line;

	if (take_word(&p, word, sizeof(word)) == -1 ||
	    take_word(&p, arg, sizeof(arg)) == -1)
		return -1;
	/* Nothing may follow but blanks and the line end. */
	if (p[strspn(p, " \t\r\n")] != '\0')
		return -1;
	if (strcmp(word, "time_limit") == 0) {
		c->op = CTL_TIME_LIMIT;
		return parse_duration(arg, &c->ms);
	}
	if (strcmp(word, "ignore_user_abort") == 0) {
		c->op = CTL_IGNORE_USER_ABORT;
		if (strcasecmp(arg, "on") != 0 && strcasecmp(arg, "off") != 0)
			return -1;
		c->on = strcasecmp(arg, "on") == 0;
		return 0;
	}
	if (strcmp(word, "finish") == 0 && *arg == '\0') {
		c->op = CTL_FINISH;
		return 0;
	}
	return -1;
}
