/*
 * Connection status names and child exit naming, as systemd spells
 * them; exit statuses and error responses, as a shell and a server
 * would give them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "status.h"

/* Indexed by the PHP bitfield value. */
static const char *const names[ST_MAX + 1] = {
	"NORMAL", "ABORTED", "TIMEOUT", "ABORTED,TIMEOUT"
};

const char *
status_name(int st)
{
	if (st < 0 || st > ST_MAX)
		return "UNKNOWN";
	return names[st];
}

int
status_parse(const char *s)
{
	int st;

	for (st = 0; st <= ST_MAX; st++)
		if (strcasecmp(s, names[st]) == 0)
			return st;
	return -1;
}

const char *
exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return "exited";
	if (WIFSIGNALED(wstatus))
		return WCOREDUMP(wstatus) ? "dumped" : "killed";
	/* Stopped or continued: not an end, never reaped as one. */
	return "unknown";
}

void
exit_status(int wstatus, char *buf, size_t len)
{
	const char *sig;

	if (WIFSIGNALED(wstatus) &&
	    (sig = sigabbrev_np(WTERMSIG(wstatus))) != NULL)
		snprintf(buf, len, "%s", sig);
	else
		snprintf(buf, len, "%d", WIFSIGNALED(wstatus) ?
		    WTERMSIG(wstatus) : WEXITSTATUS(wstatus));
}

int
exit_for(enum ending how, int val)
{
	switch (how) {
	case END_EXITED:
		return WIFSIGNALED(val) ? 128 + WTERMSIG(val) :
		    WEXITSTATUS(val);
	case END_TIMEOUT:
		return 124;
	case END_HANGUP:
		return 128 + val;
	case END_REFUSED:
		return val == 404 ? 127 : val == 403 ? 126 : 125;
	case END_LOOKUP:
		/* As env(1): found but not runnable, else not found. */
		return val == EACCES ? 126 : 127;
	case END_SPAWN:
		if (val == ENOENT)
			return 127;
		return val == EACCES || val == ENOEXEC || val == EPERM ?
		    126 : 125;
	case END_FAILED:
		break;
	}
	return 125;
}

/* Resources that may come back: the client is told to retry. */
static bool
busy(int errnum)
{
	return errnum == EAGAIN || errnum == ENOMEM || errnum == EMFILE ||
	    errnum == ENFILE;
}

int
http_for(enum ending how, int val)
{
	switch (how) {
	case END_EXITED:
	case END_HANGUP:
		return 0;
	case END_TIMEOUT:
		return 504;
	case END_REFUSED:
		return val;
	case END_FAILED:
	case END_SPAWN:
		return busy(val) ? 503 : 500;
	case END_LOOKUP:
		break;
	}
	return 500;
}
