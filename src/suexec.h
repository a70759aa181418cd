/* Apache's suEXEC helper: cgiwrap installed as SUEXEC_BIN. */
#ifndef CGIWRAP_SUEXEC_H
#define CGIWRAP_SUEXEC_H

#include <stdbool.h>

#include "request.h"

/* The only file the suEXEC mode reads, whatever -c or the environment say. */
#define SUEXEC_CONFIG	"/etc/cgiwrap.conf"

/*
 * Was cgiwrap started as Apache's suEXEC helper: with privileges it was
 * not given by its caller (setuid, setgid, file capabilities), or under
 * the name "suexec"?
 */
bool	 suexec_mode(const char *argv0);

/*
 * Run argv (USER GROUP PROGRAM [ARG ...], as Apache gives them) as
 * Apache's suexec would, through the whole engine.  Returns the exit
 * status: Apache's suexec's on a refusal, the request's otherwise.
 */
int	 suexec_main(struct request *, int argc, char **argv);

#endif
