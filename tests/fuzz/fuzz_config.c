/*
 * libFuzzer harness for the configuration loader (config_load in
 * src/config.c, with libconfuse): each input is written to a private
 * temporary file of mode 0600 and loaded as a config file; a config
 * that loads must hold only values the loader promises, and is then
 * put through policy_resolve and policy_explain.  Everything is freed,
 * so LeakSanitizer sees any leak of the loader or of libconfuse.
 *
 * The file is a memfd (or, without memfd_create, a file unlinked as soon
 * as it is made) read through /proc/self/fd: no run, not even a crash,
 * leaves it behind, and rewriting it costs no disk flush.
 * config_load reports every bad value on stderr: that noise goes to
 * /dev/null (set FUZZ_VERBOSE=1 to see it).  Only the stdio stream is
 * replaced: descriptor 2, where the sanitizers and libFuzzer write,
 * stays as it was.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"
#include "policy.h"

#define check(c)	((c) ? (void)0 : fail(#c, __LINE__))

static int	 fd = -1;
static char	 path[64];
static FILE	*devnull;

static void
fail(const char *what, int line)
{
	/* Straight to descriptor 2: the stderr stream may be /dev/null. */
	dprintf(2, "fuzz_config.c:%d: check failed: %s\n", line, what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	char tmpl[4096];

	(void)argc;
	(void)argv;
	/* In memory; a file on disk only where there is no memfd. */
	if ((fd = memfd_create("fuzz_config", MFD_CLOEXEC)) == -1) {
		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		(void)snprintf(tmpl, sizeof(tmpl), "%s/fuzz_config.XXXXXX",
		    dir);
		if ((fd = mkstemp(tmpl)) == -1 || unlink(tmpl) == -1) {
			dprintf(2, "fuzz_config: %s: %s\n", tmpl,
			    strerror(errno));
			exit(1);
		}
	}
	if (fchmod(fd, 0600) == -1) {
		dprintf(2, "fuzz_config: fchmod: %s\n", strerror(errno));
		exit(1);
	}
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((devnull = fopen("/dev/null", "w")) == NULL) {
		dprintf(2, "fuzz_config: /dev/null: %s\n", strerror(errno));
		exit(1);
	}
	if (getenv("FUZZ_VERBOSE") == NULL)
		stderr = devnull;
	return 0;
}

static void
strlist_ok(const struct strlist *l)
{
	size_t i;

	check((l->n == 0 && l->v == NULL) || (l->v != NULL && l->v[l->n] == NULL));
	for (i = 0; i < l->n; i++)
		check(l->v[i] != NULL);
}

static void
duration_ok(int64_t ms)
{
	char buf[DURATION_MAX];
	int64_t back = -1;

	check(ms >= 0);
	check(parse_duration(format_duration(ms, buf, sizeof(buf)), &back) == 0);
	check(back == ms);
}

/* The settings of lv that it sets (all of them for the global level). */
static void
level_ok(const struct level *lv, int global)
{
	const struct settings *s = &lv->set;
	size_t i;
	int o;

	for (o = 0; o < OPT_COUNT; o++)
		check(lv->origin[o] >= -1);
#define SET(opt)	(global || lv->origin[opt] != 0)
	if (SET(OPT_MAX_EXECUTION_TIME))
		duration_ok(s->max_execution_time);
	if (SET(OPT_KILL_GRACE))
		duration_ok(s->kill_grace);
	if (SET(OPT_CLIENT_WATCH))
		duration_ok(s->client_watch);
	if (SET(OPT_MAX_TIME_LIMIT))
		duration_ok(s->max_time_limit);
	if (SET(OPT_HARD_TIME_LIMIT))
		duration_ok(s->hard_time_limit);
	if (SET(OPT_KILL_SIGNAL))
		check(s->kill_signal >= 1 && s->kill_signal < NSIG);
	if (SET(OPT_NOTIFY_SIGNAL))
		check(s->notify_signal >= 0 && s->notify_signal < NSIG);
	if (SET(OPT_CLIENT_FIN))
		check(s->client_fin == CLIENT_FIN_IGNORE ||
		    s->client_fin == CLIENT_FIN_ABORT);
	if (SET(OPT_ORPHANS))
		check(s->orphans == ORPHANS_LEAVE || s->orphans == ORPHANS_KILL);
	if (SET(OPT_MAX_HEADER_SIZE))
		check(s->max_header_size >= 1);
	for (i = 0; i < LIM_COUNT; i++)
		if (SET(OPT_LIMIT_CPU + (int)i))
			check(s->limit[i] >= 0);
#undef SET
	strlist_ok(&s->env_unset);
	strlist_ok(&s->env_set);
	for (i = 0; i < s->env_set.n; i++)
		check(strchr(s->env_set.v[i], '=') != NULL);
	check(lv->nshutdown == 0 || lv->shutdown != NULL);
	for (i = 0; i < lv->nshutdown; i++) {
		const struct shutdown_cmd *sc = &lv->shutdown[i];

		check(sc->name != NULL);
		strlist_ok(&sc->argv);
		check(sc->argv.n >= 1 && sc->argv.v[0][0] == '/');
		duration_ok(sc->timeout);
		check(sc->when < 1u << 4);
	}
}

static void
policy_ok(const struct config *c, const char *target)
{
	struct policy pol;
	const struct level *m;

	m = policy_match(c, target);
	check(m == NULL || (m >= c->script && m < c->script + c->nscript));
	policy_resolve(c, target, &pol);
	check(pol.section == m);
	check(pol.set.kill_signal >= 1 && pol.set.kill_signal < NSIG);
	policy_explain(c, target, devnull);
}

static void
config_ok(const struct config *c)
{
	size_t i;

	check(c->path != NULL && strcmp(c->path, path) == 0);
	strlist_ok(&c->roots);
	for (i = 0; i < c->roots.n; i++)
		check(c->roots.v[i][0] == '/');
	check(c->log != NULL);
	check(strcmp(c->log, "syslog") == 0 || strcmp(c->log, "stderr") == 0 ||
	    c->log[0] == '/');
	check(c->global.glob == NULL);
	level_ok(&c->global, 1);
	check(c->nscript == 0 || c->script != NULL);
	for (i = 0; i < c->nscript; i++) {
		check(c->script[i].glob != NULL);
		level_ok(&c->script[i], 0);
	}
	policy_ok(c, "/usr/lib/cgi-bin/report.cgi");
	for (i = 0; i < c->nscript && i < 8; i++)
		policy_ok(c, c->script[i].glob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;
	size_t off;
	ssize_t n;

	if (ftruncate(fd, 0) == -1)
		abort();
	for (off = 0; off < size; off += n)
		if ((n = pwrite(fd, data + off, size - off, off)) <= 0)
			abort();
	if ((c = config_load(path, false)) != NULL) {
		config_ok(c);
		config_free(c);
	}
	return 0;
}
