/*
 * libFuzzer harness for handler mode: what cgiwrap does with the
 * request's environment and argv before the program starts, as main
 * and request_start do it: target_isindex, target_handler, target_argv,
 * policy_resolve and env_build.
 *
 * An input is lines: "argv:WORD" is an argument (after argv[0]), any
 * other line an environment entry (REDIRECT_STATUS=200, PATH_INFO=...,
 * a line without '=' too, as a server could pass one).  In every line
 * @D@ stands for the tree below and @SELF@ for this binary (a server
 * that ran cgiwrap itself has it in SCRIPT_FILENAME).
 *
 * The tree, made once in TMPDIR and removed at exit:
 *   D/cgiwrap.conf    roots = {"D/root"}, a section for D/root/env.cgi
 *                     with env_set HTTP_X_SET and env_unset HTTP_X_GONE
 *   D/root/           prog.cgi env.cgi nph-x.cgi, sub/inner.cgi (0755),
 *                     wide.cgi (0777), plain.cgi (0644), out -> ../out
 *   D/out/evil.cgi    outside the roots
 *
 * What must hold: the ISINDEX words are some of the last arguments, and
 * only when SCRIPT_FILENAME is this binary; a refusal has a code (403,
 * 404, 500) and a reason; an accepted target is a file below the root,
 * with a directory, its argv ends after the words, and its environment
 * has each script variable at most once (when cgiwrap sets them: not
 * for lighttpd's argument), the config's HTTP_X_SET once
 * (its value), no HTTP_X_GONE and no HTTP_PROXY.  Everything is freed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "env.h"
#include "policy.h"
#include "target.h"

#define check(c)	((c) ? (void)0 : fail(#c, __LINE__))
#define MAX_LINES	64

static char		 top[PATH_MAX], root[PATH_MAX], self[PATH_MAX];
static struct config	*cfg;

static void
fail(const char *what, int line)
{
	dprintf(2, "fuzz_handler.c:%d: check failed: %s\n", line, what);
	abort();
}

static void
die(const char *what)
{
	dprintf(2, "fuzz_handler: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
put(const char *name, mode_t mode, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	(void)snprintf(p, sizeof(p), "%s/%s", top, name);
	if ((f = fopen(p, "we")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF || chmod(p, mode) == -1)
		die(p);
}

static void
dir(const char *name)
{
	char p[PATH_MAX];

	(void)snprintf(p, sizeof(p), "%s/%s", top, name);
	if (mkdir(p, 0755) == -1 || chmod(p, 0755) == -1)
		die(p);
}

static int
rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
cleanup(void)
{
	config_free(cfg);
	(void)nftw(top, rm, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char conf[2 * PATH_MAX + 256], p[PATH_MAX];

	(void)argc;
	(void)argv;
	if (realpath("/proc/self/exe", self) == NULL)
		die("/proc/self/exe");
	(void)snprintf(top, sizeof(top), "%s/fuzz_handler.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(top) == NULL || chmod(top, 0755) == -1)
		die(top);
	atexit(cleanup);
	dir("root");
	dir("root/sub");
	dir("out");
	put("root/prog.cgi", 0755, "#!/bin/sh\n");
	put("root/env.cgi", 0755, "#!/bin/sh\n");
	put("root/nph-x.cgi", 0755, "#!/bin/sh\n");
	put("root/sub/inner.cgi", 0755, "#!/bin/sh\n");
	put("root/wide.cgi", 0777, "#!/bin/sh\n");
	put("root/plain.cgi", 0644, "#!/bin/sh\n");
	put("out/evil.cgi", 0755, "#!/bin/sh\n");
	(void)snprintf(p, sizeof(p), "%s/root/out", top);
	if (symlink("../out", p) == -1)
		die(p);
	(void)snprintf(root, sizeof(root), "%s/root", top);
	(void)snprintf(conf, sizeof(conf),
	    "roots = {\"%s\"}\n"
	    "script \"*/env.cgi\" {\n"
	    "    env_set = {\"HTTP_X_SET=config\"}\n"
	    "    env_unset = {\"HTTP_X_GONE\"}\n"
	    "}\n", root);
	put("cgiwrap.conf", 0644, conf);
	(void)snprintf(p, sizeof(p), "%s/cgiwrap.conf", top);
	if ((cfg = config_load(p, false)) == NULL)
		exit(1);
	return 0;
}

/* The line with @D@ and @SELF@ replaced; NULL if out of memory. */
static char *
expand(const char *s, size_t n)
{
	size_t len = 0, cap = n + 1, skip, wlen;
	const char *with;
	char *out, *o;

	if ((out = malloc(cap)) == NULL)
		return NULL;
	while (n > 0) {
		with = s;
		skip = wlen = 1;
		if (n >= 3 && memcmp(s, "@D@", 3) == 0) {
			with = top;
			skip = 3;
			wlen = strlen(top);
		} else if (n >= 6 && memcmp(s, "@SELF@", 6) == 0) {
			with = self;
			skip = 6;
			wlen = strlen(self);
		}
		if (len + wlen + 1 > cap) {
			cap = 2 * cap + wlen;
			if ((o = realloc(out, cap)) == NULL) {
				free(out);
				return NULL;
			}
			out = o;
		}
		memcpy(out + len, with, wlen);
		len += wlen;
		s += skip;
		n -= skip;
	}
	out[len] = '\0';
	return out;
}

static size_t
copies(char *const *v, const char *name)
{
	size_t n = 0, len = strlen(name);

	for (; *v != NULL; v++)
		n += strncmp(*v, name, len) == 0 && (*v)[len] == '=';
	return n;
}

static bool
same_file(const char *path, const char *other)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat(other, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void
accepted(const struct target *t, char *const *cgi, const char *arg,
    char **words, int nwords)
{
	static const char *vars[] = { "SCRIPT_NAME", "SCRIPT_FILENAME",
	    "PATH_INFO", "PATH_TRANSLATED" };
	struct policy pol;
	struct env e = { 0 };
	const char *set;
	char **argv;
	size_t i;

	check(t->path != NULL && t->dir != NULL);
	check(strncmp(t->path, root, strlen(root)) == 0 &&
	    t->path[strlen(root)] == '/');
	check(arg != NULL || (t->script.filename && t->script.name));
	check((argv = target_argv(t, arg, words, nwords)) != NULL);
	check(argv[0] != NULL && argv[nwords + 1] == NULL);
	free(argv);

	policy_resolve(cfg, t->path, &pol);
	check(env_build(&e, &(struct env_parts){ cgi, &pol.set.env_unset,
	    &pol.set.env_set, &t->script }) == 0);
	for (i = 0; i < e.n; i++)
		check(strchr(e.v[i], '=') != NULL);
	check(e.v[e.n] == NULL);
	/* Set by cgiwrap unless the server named the script (lighttpd). */
	for (i = 0; arg == NULL && i < sizeof(vars) / sizeof(*vars); i++)
		check(copies(e.v, vars[i]) <= 1);
	check(copies(e.v, "HTTP_PROXY") == 0);
	if (strcmp(t->path + strlen(root), "/env.cgi") == 0) {
		set = env_lookup(e.v, "HTTP_X_SET");
		check(copies(e.v, "HTTP_X_SET") == 1);
		check(set != NULL && strcmp(set, "config") == 0);
		check(copies(e.v, "HTTP_X_GONE") == 0);
	}
	env_free(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *env[MAX_LINES + 1], *argv[MAX_LINES + 2], *line;
	const char *p = (const char *)data, *end = p + size, *nl, *sf;
	struct target t = { 0 };
	int argc = 1, nenv = 0, words, nopt, i;

	argv[0] = self;
	while (p < end && argc + nenv < MAX_LINES) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((line = expand(p, (size_t)(nl - p))) == NULL)
			goto out;
		if (strncmp(line, "argv:", 5) == 0) {
			memmove(line, line + 5, strlen(line + 5) + 1);
			argv[argc++] = line;
		} else
			env[nenv++] = line;
		p = nl + 1;
	}
	env[nenv] = NULL;
	argv[argc] = NULL;

	words = target_isindex(argc, argv, env);
	check(words >= 0 && words <= argc - 1);
	sf = env_lookup(env, "SCRIPT_FILENAME");
	if (words > 0)
		check(sf != NULL && same_file(sf, self));
	nopt = argc - words;
	/* Options, or more than the one server argument: main stops. */
	if (nopt > 2 || (nopt == 2 && argv[1][0] == '-'))
		goto out;
	if (target_handler(&t, cfg, env, nopt == 2 ? argv[1] : NULL) == -1) {
		check(t.code == 403 || t.code == 404 || t.code == 500);
		check(t.why[0] != '\0');
	} else
		accepted(&t, env, nopt == 2 ? argv[1] : NULL, argv + nopt,
		    words);
	target_free(&t);
out:
	for (i = 0; i < nenv; i++)
		free(env[i]);
	for (i = 1; i < argc; i++)
		free(argv[i]);
	return 0;
}
