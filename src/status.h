/*
 * Connection status (as PHP's connection_status()), child exit naming,
 * and the exit status and error response for how a request ended.
 */
#ifndef CGIWRAP_STATUS_H
#define CGIWRAP_STATUS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define ST_NORMAL	0
#define ST_ABORTED	1
#define ST_TIMEOUT	2
#define ST_MAX		3	/* ABORTED and TIMEOUT */

/* How a request ended: what the log line and shutdown commands get. */
struct outcome {
	int		 status;	/* ST_* bits */
	int		 wstatus;	/* the child's wait status */
	pid_t		 pid;
	int64_t		 elapsed_ms;
	uint64_t	 bytes_in, bytes_out;
	int		 http;		/* -1: no header came */
	int64_t		 cpu_user_ms;	/* of every process reaped */
	int64_t		 cpu_sys_ms;
	long		 max_rss_kb;	/* the largest of them */
	unsigned	 procs;		/* how many the supervisor reaped */
};

/* "NORMAL", "ABORTED", "TIMEOUT", "ABORTED,TIMEOUT". */
const char	*status_name(int);

/* Inverse of status_name; -1 if unknown. */
int		 status_parse(const char *);

/*
 * A wait(2) status as systemd's $EXIT_CODE ("exited", "killed",
 * "dumped") and $EXIT_STATUS (number, or signal name without SIG).
 */
const char	*exit_code(int wstatus);
void		 exit_status(int wstatus, char *buf, size_t len);

/* How a request ended, for cgiwrap's exit status and its own answer. */
enum ending {
	END_EXITED,	/* the child ended; val: its wait status */
	END_TIMEOUT,	/* the time limit expired */
	END_HANGUP,	/* the server side left; val: the signal saying so */
	END_FAILED,	/* cgiwrap itself failed; val: errno, or 0 */
	END_REFUSED,	/* the target was refused; val: its HTTP code */
	END_LOOKUP,	/* an explicit program is not there; val: errno */
	END_SPAWN,	/* the program could not start; val: errno */
};

/*
 * cgiwrap's exit status (cgiwrap.8, EXIT STATUS): the child's own,
 * 128 + N for a signal N, 124, 125, 126 or 127.
 */
int		 exit_for(enum ending, int val);

/*
 * The code of cgiwrap's own error response: 403, 404, 500, 503
 * (resources short for now) or 504; 0 where cgiwrap does not answer
 * (END_EXITED, END_HANGUP).
 */
int		 http_for(enum ending, int val);

#endif
