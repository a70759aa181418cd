/* Environments for the child and for the shutdown commands. */
#ifndef CGIWRAP_ENV_H
#define CGIWRAP_ENV_H

#include <stddef.h>

#include "config.h"

struct env {
	char	**v;		/* NULL-terminated, every string owned */
	size_t	  n, cap;
};

/*
 * The child's environment: the request's, less HTTP_PROXY,
 * less env_unset, less cgiwrap's own CGIWRAP_* variables (but
 * CGIWRAP_CONFIG), plus env_set.
 */
int	 env_child(struct env *, char *const *from, const struct settings *);

/* Set NAME=VALUE, replacing every NAME already there. */
int	 env_set(struct env *, const char *name, const char *value);

/* Remove NAME, every copy of it. */
void	 env_unset(struct env *, const char *name);

/*
 * Undo one internal redirect of Apache's, which copies the variables of
 * the request before it with a "REDIRECT_" prefix: REDIRECT_X goes, and
 * REDIRECT_REDIRECT_X (from a redirect before it) becomes REDIRECT_X.
 */
int	 env_unredirect(struct env *);

/* Value of NAME in a NULL-terminated environment, or NULL. */
const char *env_lookup(char *const *, const char *name);

void	 env_free(struct env *);

#endif
