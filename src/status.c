/* Connection status names and child exit naming, as systemd spells them. */
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
