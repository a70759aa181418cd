#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"

/* Does "NAME=..." carry the name (len bytes, or up to '=')? */
static bool
named(const char *entry, const char *name, size_t len)
{
	return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

static size_t
namelen(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq ? (size_t)(eq - s) : strlen(s);
}

static int
push(struct env *e, char *s)
{
	char **v;

	if (s == NULL)
		return -1;
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;

		if ((v = reallocarray(e->v, cap, sizeof(*v))) == NULL) {
			free(s);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

void
env_unset(struct env *e, const char *name)
{
	size_t i, kept = 0, len = namelen(name);

	/* A server may pass a name twice (nginx, a repeated header). */
	for (i = 0; i < e->n; i++)
		if (named(e->v[i], name, len))
			free(e->v[i]);
		else
			e->v[kept++] = e->v[i];
	e->n = kept;
	if (e->v != NULL)
		e->v[kept] = NULL;
}

int
env_unredirect(struct env *e)
{
	static const char pre[] = "REDIRECT_";
	const size_t len = sizeof(pre) - 1;
	size_t i = 0;
	char *peeled;

	while (i < e->n) {
		if (strncmp(e->v[i], pre, len) != 0) {
			i++;
			continue;
		}
		if (strncmp(e->v[i] + len, pre, len) != 0) {
			free(e->v[i]);
			memmove(&e->v[i], &e->v[i + 1],
			    (e->n - i) * sizeof(*e->v));
			e->n--;
			continue;
		}
		if ((peeled = strdup(e->v[i] + len)) == NULL)
			return -1;
		free(e->v[i]);
		e->v[i++] = peeled;
	}
	return 0;
}

int
env_set(struct env *e, const char *name, const char *value)
{
	char *s;

	env_unset(e, name);
	if (asprintf(&s, "%s=%s", name, value) == -1)
		return -1;
	return push(e, s);
}

const char *
env_lookup(char *const *v, const char *name)
{
	size_t len = strlen(name);

	for (; v != NULL && *v != NULL; v++)
		if (named(*v, name, len))
			return *v + len + 1;
	return NULL;
}

/* Variables no child may see: httpoxy, and cgiwrap's own status. */
static bool
dropped(const char *entry, const struct settings *s)
{
	size_t i, len = namelen(entry);

	if (len == 10 && named(entry, "HTTP_PROXY", 10))
		return true;
	if (strncmp(entry, "CGIWRAP_", 8) == 0 &&
	    !named(entry, "CGIWRAP_CONFIG", 14))
		return true;
	for (i = 0; i < s->env_unset.n; i++)
		if (strlen(s->env_unset.v[i]) == len &&
		    named(entry, s->env_unset.v[i], len))
			return true;
	return false;
}

int
env_child(struct env *e, char *const *from, const struct settings *s)
{
	size_t i;

	for (; *from != NULL; from++)
		if (strchr(*from, '=') != NULL && !dropped(*from, s) &&
		    push(e, strdup(*from)) == -1)
			return -1;
	for (i = 0; i < s->env_set.n; i++) {
		env_unset(e, s->env_set.v[i]);
		if (push(e, strdup(s->env_set.v[i])) == -1)
			return -1;
	}
	return 0;
}

void
env_free(struct env *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}
