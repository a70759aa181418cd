/*
 * The child's environment in one pass: each variable of the server is
 * kept, peeled or left out once, then the policy's and the target's are
 * put in.  Whatever a later part names again is left out where it came
 * first, so nothing is edited after it is put in.
 */
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

/* Remove NAME, every copy of it. */
static void
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

static char *
pair(const char *name, const char *value)
{
	char *s;

	return asprintf(&s, "%s=%s", name, value) == -1 ? NULL : s;
}

int
env_set(struct env *e, const char *name, const char *value)
{
	env_unset(e, name);
	return push(e, pair(name, value));
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
dropped(const char *entry, const struct strlist *unset)
{
	size_t i, len = namelen(entry);

	if (len == 10 && named(entry, "HTTP_PROXY", 10))
		return true;
	if (strncmp(entry, "CGIWRAP_", 8) == 0 &&
	    !named(entry, "CGIWRAP_CONFIG", 14))
		return true;
	for (i = 0; unset != NULL && i < unset->n; i++)
		if (strlen(unset->v[i]) == len &&
		    named(entry, unset->v[i], len))
			return true;
	return false;
}

/*
 * The variables an Action's own redirect adds to its request; those of
 * the request it redirected carry one REDIRECT_ more.
 */
static bool
redirect_own(const char *entry)
{
	return named(entry, "STATUS", 6) || named(entry, "URL", 3) ||
	    named(entry, "QUERY_STRING", 12) || named(entry, "HANDLER", 7) ||
	    *entry == '=';
}

/*
 * The entry as peeling leaves it: itself, one prefix less, or NULL.
 * REDIRECT_X is what the request before the Action had as X (SetEnv,
 * SetEnvIf, RewriteRule [E=] of the script's URL): the script gets it
 * as X, as it would run directly.
 */
static const char *
peeled(const char *entry, const struct env_parts *p)
{
	static const char pre[] = "REDIRECT_";
	const size_t len = sizeof(pre) - 1;

	if (p->script == NULL || !p->script->peel ||
	    strncmp(entry, pre, len) != 0)
		return entry;
	if (strncmp(entry + len, pre, len) != 0 && redirect_own(entry + len))
		return NULL;
	return entry + len;
}

/*
 * Is the server's X left out because its REDIRECT_X, the value of the
 * request before the Action, is peeled into X?
 */
static bool
shadowed(const char *entry, const struct env_parts *p)
{
	static const char pre[] = "REDIRECT_";
	const size_t len = sizeof(pre) - 1, nlen = namelen(entry);
	size_t i;

	if (p->script == NULL || !p->script->peel ||
	    strncmp(entry, pre, len) == 0 || redirect_own(entry))
		return false;
	for (i = 0; p->from[i] != NULL; i++)
		if (strncmp(p->from[i], pre, len) == 0 &&
		    named(p->from[i] + len, entry, nlen))
			return true;
	return false;
}

struct var {
	const char	*name, *value;	/* value NULL: unset */
};

#define MAX_SCRIPT_VARS	6

/* The script's variables, in the order they are put in. */
static size_t
from_script(const struct script *sc, struct var *v)
{
	size_t n = 0;

	if (sc == NULL)
		return 0;
	if (sc->redirect_url != NULL)
		v[n++] = (struct var){ "REDIRECT_URL", sc->redirect_url };
	if (sc->redirect_query != NULL)
		v[n++] = (struct var){ "REDIRECT_QUERY_STRING",
		    sc->redirect_query };
	if (sc->set) {
		v[n++] = (struct var){ "SCRIPT_NAME", sc->name };
		v[n++] = (struct var){ "SCRIPT_FILENAME", sc->filename };
		v[n++] = (struct var){ "PATH_INFO", sc->path_info };
		v[n++] = (struct var){ "PATH_TRANSLATED",
		    sc->path_translated };
	}
	return n;
}

/*
 * Is the entry's name given again later: by set from its entry next on,
 * or by the script?  The later one is what the child gets.
 */
static bool
replaced(const char *entry, const struct env_parts *p, size_t next)
{
	struct var sv[MAX_SCRIPT_VARS];
	size_t i, n = from_script(p->script, sv), len = namelen(entry);
	const char *s;

	for (i = next; p->set != NULL && i < p->set->n; i++)
		if ((s = peeled(p->set->v[i], p)) != NULL &&
		    named(s, entry, len))
			return true;
	for (i = 0; i < n; i++)
		if (strlen(sv[i].name) == len && named(entry, sv[i].name, len))
			return true;
	return false;
}

int
env_build(struct env *e, const struct env_parts *p)
{
	struct var sv[MAX_SCRIPT_VARS];
	size_t i, n = from_script(p->script, sv);
	const char *s;

	for (i = 0; p->from != NULL && p->from[i] != NULL; i++)
		if (strchr(p->from[i], '=') != NULL &&
		    (s = peeled(p->from[i], p)) != NULL &&
		    !dropped(s, p->unset) && !shadowed(p->from[i], p) &&
		    !replaced(s, p, 0) && push(e, strdup(s)) == -1)
			return -1;
	for (i = 0; p->set != NULL && i < p->set->n; i++)
		if ((s = peeled(p->set->v[i], p)) != NULL &&
		    !replaced(s, p, i + 1) && push(e, strdup(s)) == -1)
			return -1;
	for (i = 0; i < n; i++)
		if (sv[i].value != NULL &&
		    push(e, pair(sv[i].name, sv[i].value)) == -1)
			return -1;
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
