/* Connection status (as PHP's connection_status()) and child exit naming. */
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

#endif
