/* Parsers for configuration and control values. */
#ifndef CGIWRAP_PARSE_H
#define CGIWRAP_PARSE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Duration: "500ms", "30s", "2m", "1h", or a bare number of seconds.
 * Stores milliseconds; returns 0, or -1 when the text is not a duration
 * or does not fit.
 */
int		 parse_duration(const char *, int64_t *);

/* Longest text format_duration writes, NUL included. */
#define DURATION_MAX	sizeof("-9223372036854775808ms")

/*
 * A duration in milliseconds as parse_duration reads it, in the largest
 * unit that is exact ("500ms", "30s", "10m", "1h", "0").  Returns buf.
 */
const char	*format_duration(int64_t, char *buf, size_t len);

/* Decimal digits only, fitting a long.  Returns 0, or -1. */
int		 parse_number(const char *, long *);

/*
 * Signal name: "TERM", "SIGTERM" (any case) or a number 1..NSIG-1.
 * Returns 0, or -1 for an unknown signal.
 */
int		 parse_signal(const char *, int *);

/* Name of a signal without "SIG" ("TERM"), or its number as text. */
const char	*signal_name(int);

/*
 * Why a glob of a script section cannot match resolved paths as meant
 * ("empty", "unbalanced '['", ...), or NULL when it can.
 */
const char	*badglob(const char *);

/* A control line of a script, as the supervisor applies it. */
enum control_op { CTL_TIME_LIMIT = 1, CTL_IGNORE_USER_ABORT, CTL_FINISH };

struct control {
	enum control_op	 op;
	int64_t		 ms;	/* CTL_TIME_LIMIT: 0 = no limit */
	bool		 on;	/* CTL_IGNORE_USER_ABORT */
};

/*
 * "time_limit N", "ignore_user_abort on|off" or "finish", with blanks
 * around the words and a line end allowed.  Returns 0, or -1 when the
 * line is none of these.
 */
int		 parse_control(const char *, struct control *);

#endif
