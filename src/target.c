/*
 * Which program a request runs.  In handler modes the request names it,
 * so it is vetted as suexec would: resolved, under a configured root, a
 * regular executable file nobody else may change, and not cgiwrap.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

static int	refuse(struct target *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
refuse(struct target *t, int code, const char *fmt, ...)
{
	va_list ap;

	t->code = code;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* A regular file we may execute, resolved; NULL with errno otherwise. */
static char *
runnable(const char *path)
{
	struct stat st;
	char *real;

	if ((real = realpath(path, NULL)) == NULL)
		return NULL;
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(real, X_OK) == -1) {
		free(real);
		errno = EACCES;
		return NULL;
	}
	return real;
}

/* The program's directory, where a server would have run it. */
static int
set_dir(struct target *t, const char *path)
{
	char *slash;

	if ((t->dir = strdup(path)) == NULL)
		return -1;
	if ((slash = strrchr(t->dir, '/')) != NULL)
		*slash = slash == t->dir ? '/' : '\0';
	else {
		free(t->dir);
		t->dir = NULL;
	}
	return 0;
}

/*
 * path as given, made absolute: it is run from the program's directory
 * with in_dir, where a relative path would name another file.
 */
static char *
absolute_path(const char *path)
{
	char *cwd, *abs;

	if (*path == '/')
		return strdup(path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		abs = NULL;
	free(cwd);
	return abs;
}

/* The program found at path; with in_dir, to be run in its directory. */
static int
found(struct target *t, const char *path, bool in_dir)
{
	if ((t->path = runnable(path)) == NULL)
		return -1;
	if ((t->exec = absolute_path(path)) == NULL ||
	    (in_dir && set_dir(t, t->exec) == -1)) {
		free(t->path);
		free(t->exec);
		t->path = t->exec = NULL;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
target_explicit(struct target *t, const char *program, bool in_dir)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	int err = ENOENT;

	if (*program == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(program, '/') != NULL)
		return found(t, program, in_dir);
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; ; p = end + 1) {
		end = strchrnul(p, ':');
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(end - p), p,
		    end > p ? "/" : "", program) < (int)sizeof(buf)) {
			if (found(t, buf, in_dir) == 0)
				return 0;
			if (errno == EACCES || errno == ENOMEM)
				err = errno;
		}
		if (*end == '\0')
			break;
	}
	errno = err;
	return -1;
}

static bool
under(const char *path, const char *root)
{
	size_t len = strlen(root);

	if (strcmp(root, "/") == 0)
		return true;
	return strncmp(path, root, len) == 0 && path[len] == '/';
}

static bool
in_roots(const struct config *cfg, const char *real)
{
	char *root;
	bool in;
	size_t i;

	for (i = 0; i < cfg->roots.n; i++) {
		if ((root = realpath(cfg->roots.v[i], NULL)) == NULL)
			continue;
		in = under(real, root);
		free(root);
		if (in)
			return true;
	}
	return false;
}

/* Is the file of st the running binary? */
static bool
is_self(const struct stat *st)
{
	/* A process's image stays what it is: a worker looks once. */
	static struct stat self;
	static bool known;

	if (!known && stat("/proc/self/exe", &self) == 0)
		known = true;
	return known && self.st_dev == st->st_dev && self.st_ino == st->st_ino;
}

/* Is the directory of path (cut at its last slash) writable by others? */
static bool
open_dir(char *path)
{
	char *slash = strrchr(path, '/');
	struct stat st;
	bool open;

	if (slash == NULL)
		return false;
	*slash = '\0';
	open = stat(*path ? path : "/", &st) == -1 || (st.st_mode & S_IWOTH);
	*slash = '/';
	return open;
}

/*
 * The path as named is what runs: the kernel resolves it again at the
 * exec, so the directory a symlink lies in must be as safe as the
 * program's own.
 */
static int
exec_named(struct target *t, const char *path)
{
	if (strcmp(path, t->path) == 0)
		return 0;
	if ((t->exec = strdup(path)) == NULL)
		return refuse(t, 500, "out of memory");
	if (open_dir(t->exec))
		return refuse(t, 403, "%s: directory writable by others",
		    t->exec);
	return 0;
}

/* Every check of a target; the reason names the file and the rule. */
static int
vet(struct target *t, const struct config *cfg, const char *path)
{
	struct stat st;
	char *real;

	if ((real = realpath(path, NULL)) == NULL)
		return refuse(t,
		    errno == ENOENT || errno == ENOTDIR ? 404 : 403,
		    "%s: %s", path, strerror(errno));
	t->path = real;
	if (!in_roots(cfg, real))
		return refuse(t, 403, "%s: resolves to %s, outside the roots",
		    path, real);
	if (stat(real, &st) == -1)
		return refuse(t, 404, "%s: %s", real, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(t, 403, "%s: not a regular file", real);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(t, 403, "%s: writable by group or others", real);
	if (st.st_mode & (S_ISUID | S_ISGID))
		return refuse(t, 403, "%s: setuid or setgid", real);
	if (access(real, X_OK) == -1)
		return refuse(t, 403, "%s: not executable", real);
	if (is_self(&st))
		return refuse(t, 403, "%s: is cgiwrap itself", real);
	if (open_dir(real))
		return refuse(t, 403, "%s: directory writable by others",
		    real);
	return exec_named(t, path);
}

/*
 * Find the program in rel (a path below base), one component at a time
 * as Apache finds PATH_INFO: the first regular file ends the search.
 * *used is how much of rel names the program.
 */
static int
walk(struct target *t, const char *base, const char *rel, size_t *used)
{
	char path[PATH_MAX];
	const char *p = rel, *end;
	struct stat st;
	size_t len, n;

	len = strlen(base);
	while (len > 0 && base[len - 1] == '/')
		len--;
	if (len >= sizeof(path))
		return refuse(t, 404, "%s: name too long", base);
	memcpy(path, base, len);
	while (*p == '/') {
		end = strchrnul(p + 1, '/');
		n = (size_t)(end - p);
		if (n == 1 || (n == 2 && p[1] == '.') ||
		    (n == 3 && p[1] == '.' && p[2] == '.'))
			return refuse(t, 403,
			    "%s: '.', '..' or empty component", rel);
		if (len + n >= sizeof(path))
			return refuse(t, 404, "%s: name too long", rel);
		memcpy(path + len, p, n);
		len += n;
		path[len] = '\0';
		if (stat(path, &st) == -1)
			return refuse(t, 404, "%s: %s", path, strerror(errno));
		if (!S_ISDIR(st.st_mode)) {
			*used = (size_t)(end - rel);
			t->script.filename = strndup(path, len);
			return t->script.filename ? 0 : refuse(t, 500,
			    "out of memory");
		}
		p = end;
	}
	return refuse(t, *p ? 404 : 403, "%s: %s", rel,
	    *p ? "not a path" : "no program in it, only directories");
}

/* The variables a direct run would have seen, from what is left over. */
static int
script_vars(struct target *t, char *const *cgi, const char *prefix,
    size_t plen, const char *rest)
{
	const char *docroot = env_lookup(cgi, "DOCUMENT_ROOT");

	t->script.set = true;
	if (asprintf(&t->script.name, "%.*s", (int)plen, prefix) == -1)
		t->script.name = NULL;
	if (*rest != '\0') {
		t->script.path_info = strdup(rest);
		if (docroot != NULL && asprintf(&t->script.path_translated,
		    "%s%s", docroot, rest) == -1)
			t->script.path_translated = NULL;
	}
	if (t->script.name == NULL ||
	    (*rest != '\0' && t->script.path_info == NULL) ||
	    set_dir(t, t->script.filename) == -1)
		return refuse(t, 500, "out of memory");
	return 0;
}

static int
by_arg(struct target *t, const struct config *cfg, char *const *cgi,
    const char *arg)
{
	const char *sf = env_lookup(cgi, "SCRIPT_FILENAME");

	if (sf == NULL || strcmp(sf, arg) != 0)
		return refuse(t, 403, "%s: argument is not SCRIPT_FILENAME",
		    arg);
	if (set_dir(t, arg) == -1)
		return refuse(t, 500, "out of memory");
	return vet(t, cfg, arg);
}

/*
 * Through an Action, the URL and query of a redirect before it (an
 * ErrorDocument's failed request) are no longer in the environment;
 * the first request of the chain is REQUEST_URI, which has both.
 */
static int
earlier_redirect(struct target *t, char *const *cgi)
{
	const char *uri = env_lookup(cgi, "REQUEST_URI"), *q;

	if (env_lookup(cgi, "REDIRECT_REDIRECT_STATUS") == NULL || uri == NULL)
		return 0;
	q = strchrnul(uri, '?');
	t->script.redirect_url = strndup(uri, (size_t)(q - uri));
	if (t->script.redirect_url == NULL ||
	    (*q == '?' && (t->script.redirect_query = strdup(q + 1)) == NULL))
		return refuse(t, 500, "out of memory");
	return 0;
}

static int
by_action(struct target *t, const struct config *cfg, char *const *cgi,
    const char *pt)
{
	const char *pi = env_lookup(cgi, "PATH_INFO");
	size_t used, plen;

	/* An Action always has the original URI path as PATH_INFO. */
	if (pi == NULL)
		return refuse(t, 404, "%s: PATH_TRANSLATED without PATH_INFO",
		    pt);
	if (walk(t, "", pt, &used) == -1)
		return -1;
	/* The original URI path ends with the same path info. */
	plen = strlen(pi);
	if (plen < strlen(pt + used) ||
	    strcmp(pi + plen - strlen(pt + used), pt + used) != 0)
		return refuse(t, 404, "%s: PATH_INFO does not end with %s",
		    pi, pt + used);
	plen -= strlen(pt + used);
	/* The indirection through a handler is not the script's business. */
	t->script.peel = true;
	if (script_vars(t, cgi, pi, plen, pt + used) == -1 ||
	    earlier_redirect(t, cgi) == -1)
		return -1;
	return vet(t, cfg, t->script.filename);
}

static int
by_alias(struct target *t, const struct config *cfg, char *const *cgi,
    const char *pi)
{
	const char *sn = env_lookup(cgi, "SCRIPT_NAME");
	char *name;
	size_t i, used;
	int rc = refuse(t, 403, "%s: no alias_roots, the URL walk is off", pi);

	/*
	 * Apache's access rules for the scripts' directories never see this
	 * URL: only directories the configuration names may be walked.
	 */
	for (i = 0; i < cfg->alias_roots.n && rc == -1; i++)
		rc = walk(t, cfg->alias_roots.v[i], pi, &used);
	if (rc == -1)
		return -1;
	if (asprintf(&name, "%s%.*s", sn ? sn : "", (int)used, pi) == -1)
		return refuse(t, 500, "out of memory");
	rc = script_vars(t, cgi, name, strlen(name), pi + used);
	free(name);
	return rc == -1 ? -1 : vet(t, cfg, t->script.filename);
}

/*
 * Did an Action's redirect start us?  It appends the URI path it
 * redirected to the handler's URL: that path is then both PATH_INFO and
 * REDIRECT_URL.  Any other redirect into cgiwrap (an ErrorDocument into
 * the ScriptAlias way) has REDIRECT_URL of the request that failed.
 * Without the two, the Action's own checks give the refusal.
 */
static bool
is_action(char *const *cgi)
{
	const char *url = env_lookup(cgi, "REDIRECT_URL");
	const char *pi = env_lookup(cgi, "PATH_INFO");

	return env_lookup(cgi, "REDIRECT_STATUS") != NULL &&
	    (url == NULL || pi == NULL || strcmp(url, pi) == 0);
}

int
target_handler(struct target *t, const struct config *cfg, char *const *cgi,
    const char *arg)
{
	const char *pt = env_lookup(cgi, "PATH_TRANSLATED");
	const char *pi = env_lookup(cgi, "PATH_INFO");

	if (arg != NULL)
		return by_arg(t, cfg, cgi, arg);
	if (is_action(cgi) && pt != NULL)
		return by_action(t, cfg, cgi, pt);
	if (pi != NULL && *pi != '\0')
		return by_alias(t, cfg, cgi, pi);
	return refuse(t, 404, "the request names no program");
}

char **
target_argv(const struct target *t, const char *arg, char *const *words,
    int n)
{
	char **v;

	if ((v = calloc((size_t)n + 2, sizeof(*v))) == NULL)
		return NULL;
	v[0] = (char *)(arg ? arg : t->script.filename);
	memcpy(v + 1, words, (size_t)n * sizeof(*v));
	return v;
}

void
target_free(struct target *t)
{
	free(t->path);
	free(t->exec);
	free(t->dir);
	free(t->script.name);
	free(t->script.filename);
	free(t->script.path_info);
	free(t->script.path_translated);
	free(t->script.redirect_url);
	free(t->script.redirect_query);
	memset(t, 0, sizeof(*t));
}

bool
target_nph(const char *path)
{
	const char *base = strrchr(path, '/');

	return strncmp(base ? base + 1 : path, "nph-", 4) == 0;
}

/* a equals b when backslashes (a server's shell escaping) are ignored */
static bool
same_word(const char *a, const char *b)
{
	for (;; a++, b++) {
		while (*a == '\\')
			a++;
		while (*b == '\\')
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
	}
}

/*
 * The next '+'-separated word of an ISINDEX query, %-decoded into buf
 * (as long as the query); returns where the word after it starts.
 */
static const char *
query_word(const char *q, char *buf)
{
	size_t n = 0;

	for (; *q != '\0' && *q != '+'; q++) {
		if (*q == '%' && isxdigit((unsigned char)q[1]) &&
		    isxdigit((unsigned char)q[2])) {
			char hex[3] = { q[1], q[2], '\0' };

			buf[n++] = (char)strtol(hex, NULL, 16);
			q += 2;
		} else
			buf[n++] = *q;
	}
	buf[n] = '\0';
	return *q == '+' ? q + 1 : q;
}

/*
 * Did the server run cgiwrap itself?  Then SCRIPT_FILENAME is this
 * binary (ScriptAlias, Action).  A shim script, or lighttpd's
 * cgi.assign, has the script there.
 */
static bool
server_ran_us(char *const *cgi)
{
	const char *sf = env_lookup(cgi, "SCRIPT_FILENAME");
	struct stat st;

	return sf != NULL && stat(sf, &st) == 0 && is_self(&st);
}

/*
 * A server that runs cgiwrap itself for an ISINDEX query gives it the
 * query's words as its whole argv: then there are no options at all.
 * Apache shell-escapes the words and keeps only the first few thousand,
 * so argv must be the first words of the query, backslashes aside.
 * Run any other way (a shim), argv is never words, whatever the query
 * says: the shim's own options could be repeated in it.
 */
int
target_isindex(int argc, char *const *argv, char *const *cgi)
{
	const char *q = env_lookup(cgi, "QUERY_STRING"), *p;
	char *word;
	int i, words = 1;

	if (env_lookup(cgi, "GATEWAY_INTERFACE") == NULL || q == NULL ||
	    *q == '\0' || strchr(q, '=') != NULL || !server_ran_us(cgi))
		return 0;
	for (p = q; *p != '\0'; p++)
		words += *p == '+';
	if (argc < 2 || argc - 1 > words ||
	    (word = malloc(strlen(q) + 1)) == NULL)
		return 0;
	for (i = 1; i < argc; i++) {
		q = query_word(q, word);
		if (!same_word(word, argv[i]))
			break;
	}
	free(word);
	return i == argc ? argc - 1 : 0;
}
