/* Finding the program to run, and refusing the ones that must not run. */
#ifndef CGIWRAP_TARGET_H
#define CGIWRAP_TARGET_H

#include <stdbool.h>

#include "config.h"
#include "env.h"

struct target {
	char	*path;		/* resolved program path */
	/*
	 * What to execute: the path as the server named it, so that a
	 * script reached through a symlink sees that path as its $0, as
	 * run directly; NULL: path.
	 */
	char	*exec;
	char	*dir;		/* its directory as the server named it */
	int	 code;		/* on refusal: 403 or 404 */
	char	 why[512];	/* on refusal: the exact reason */
	/* Its variables as the server would have set them running it. */
	struct script script;
};

/*
 * Explicit mode: PROGRAM as execvp(3) finds it (along PATH when it has
 * no slash), resolved with realpath(3); with in_dir, run in the
 * directory of the path it was found as.  Returns -1 with errno ENOENT,
 * EACCES or ENOMEM.
 */
int	 target_explicit(struct target *, const char *program, bool in_dir);

/*
 * Handler modes: the target named by the request, vetted as
 * cgiwrap(8) says under Targets.  arg is the first argument the server
 * gave (lighttpd's cgi.assign), or NULL.  Returns -1 with code and why
 * on refusal; else script is what the program's environment needs of
 * the target.
 */
int	 target_handler(struct target *, const struct config *,
	    char *const *cgi, const char *arg);

/*
 * Handler mode: the child's argv as the server would have given it, the
 * program's name (arg, or SCRIPT_FILENAME) then the n ISINDEX words;
 * the strings are not copied.  NULL if out of memory.
 */
char	**target_argv(const struct target *, const char *arg,
	    char *const *words, int n);

void	 target_free(struct target *);

/* Does the response come from an nph- program (a whole HTTP response)? */
bool	 target_nph(const char *path);

/*
 * The words a server made of an ISINDEX query: how many of
 * the last arguments they are (0 if none).
 */
int	 target_isindex(int argc, char *const *argv, char *const *cgi);

#endif
