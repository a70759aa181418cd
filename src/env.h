/*
 * Environments for the child and for the shutdown commands, each
 * assembled in one pass from what the server, the policy and the
 * target hand over.
 */
#ifndef CGIWRAP_ENV_H
#define CGIWRAP_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct env {
	char	**v;		/* NULL-terminated, every string owned */
	size_t	  n, cap;
};

/*
 * What the target says of the script's variables (target.c decides
 * them).  The strings belong to the target.
 */
struct script {
	bool	 set;		/* the four below replace the server's */
	bool	 peel;		/* undo one internal redirect (an Action) */
	/*
	 * SCRIPT_NAME, SCRIPT_FILENAME, PATH_INFO and PATH_TRANSLATED;
	 * NULL: unset.
	 */
	char	*name, *filename, *path_info, *path_translated;
	char	*redirect_url, *redirect_query;	/* NULL: as peeled */
};

struct env_parts {
	char *const		*from;	/* the server's variables */
	const struct strlist	*unset;	/* names left out; NULL: none */
	const struct strlist	*set;	/* NAME=VALUE put in; NULL: none */
	const struct script	*script; /* NULL: none */
};

/*
 * Assemble an environment: from, less HTTP_PROXY, cgiwrap's own
 * CGIWRAP_* variables (but CGIWRAP_CONFIG) and the unset names; plus
 * set, whose names replace those of from; with the script's variables
 * replacing both.  Peeling undoes one internal redirect of Apache's,
 * which copies the variables of the request before it with a
 * "REDIRECT_" prefix and adds REDIRECT_STATUS, REDIRECT_URL,
 * REDIRECT_QUERY_STRING and REDIRECT_HANDLER of its own: those go, and
 * every other REDIRECT_X becomes X, in place of the server's X
 * (REDIRECT_REDIRECT_X, from a redirect before it, becomes REDIRECT_X).
 * set is peeled too; unset names what is left after peeling.
 */
int	 env_build(struct env *, const struct env_parts *);

/* Set NAME=VALUE, replacing every NAME already there. */
int	 env_set(struct env *, const char *name, const char *value);

/* Value of NAME in a NULL-terminated environment, or NULL. */
const char *env_lookup(char *const *, const char *name);

void	 env_free(struct env *);

#endif
