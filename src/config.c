/*
 * The configuration file: its libconfuse schema, the checks of its
 * values and their copy into the plain structures of config.h.  Values
 * are checked while libconfuse parses, where the line is known (cfgfile.c
 * reads the file and keeps the lines); the libconfuse tree is freed
 * before config_load returns.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgfile.h"
#include "config.h"
#include "libs.h"
#include "log.h"
#include "parse.h"
#include "status.h"

#define DEFAULT_ROOT	 "/usr/lib/cgi-bin"
#define DEFAULT_LOG	 "syslog"
#define DEFAULT_TIMEOUT	 30000		/* ms, of a shutdown command */
#define DEFAULT_FASTCGI_TIMEOUT 60000	/* ms, to read a FastCGI request */

#define SETTING_AS(o, name, field, kind, min) [o] = { name, kind,	\
	offsetof(struct settings, field),				\
	sizeof(((struct settings *)0)->field), min, NULL }
#define SETTING(o, field, kind, min)	SETTING_AS(o, #field, field, kind, min)
#define SETTING_WORD(o, field, w0, w1) [o] = { #field, OPTK_WORD,	\
	offsetof(struct settings, field),				\
	sizeof(((struct settings *)0)->field), 0,			\
	(const char *const []){ w0, w1 } }

const struct optdesc config_opts[OPT_COUNT] = {
	SETTING(OPT_IGNORE_USER_ABORT, ignore_user_abort, OPTK_BOOL, 0),
	SETTING(OPT_MAX_EXECUTION_TIME, max_execution_time, OPTK_DURATION, 0),
	SETTING(OPT_KILL_SIGNAL, kill_signal, OPTK_SIGNAL, 1),
	SETTING(OPT_KILL_GRACE, kill_grace, OPTK_DURATION, 0),
	SETTING(OPT_NOTIFY_SIGNAL, notify_signal, OPTK_SIGNAL, 0),
	SETTING(OPT_FINISH_ON_CLOSE, finish_on_close, OPTK_BOOL, 0),
	SETTING(OPT_CLIENT_WATCH, client_watch, OPTK_DURATION, 0),
	SETTING_WORD(OPT_CLIENT_FIN, client_fin, [CLIENT_FIN_IGNORE] = "ignore",
	    [CLIENT_FIN_ABORT] = "abort"),
	SETTING_WORD(OPT_ORPHANS, orphans, [ORPHANS_LEAVE] = "leave",
	    [ORPHANS_KILL] = "kill"),
	SETTING(OPT_SCRIPT_CONTROL, script_control, OPTK_BOOL, 0),
	SETTING(OPT_MAX_TIME_LIMIT, max_time_limit, OPTK_DURATION, 0),
	SETTING(OPT_HARD_TIME_LIMIT, hard_time_limit, OPTK_DURATION, 0),
	SETTING(OPT_MAX_HEADER_SIZE, max_header_size, OPTK_NUMBER, 1),
	SETTING_AS(OPT_LIMIT_CPU, "limit_cpu", limit[LIM_CPU], OPTK_NUMBER, 0),
	SETTING_AS(OPT_LIMIT_MEMORY, "limit_memory", limit[LIM_MEMORY],
	    OPTK_NUMBER, 0),
	SETTING_AS(OPT_LIMIT_NPROC, "limit_nproc", limit[LIM_NPROC],
	    OPTK_NUMBER, 0),
	SETTING_AS(OPT_LIMIT_NOFILE, "limit_nofile", limit[LIM_NOFILE],
	    OPTK_NUMBER, 0),
	SETTING_AS(OPT_LIMIT_FSIZE, "limit_fsize", limit[LIM_FSIZE],
	    OPTK_NUMBER, 0),
	SETTING(OPT_ENV_UNSET, env_unset, OPTK_NAMES, 0),
	SETTING(OPT_ENV_SET, env_set, OPTK_ASSIGNS, 0),
	SETTING(OPT_REQUEST_SLOWLOG_TIMEOUT, request_slowlog_timeout,
	    OPTK_DURATION, 0)
};

const struct optdesc config_log_format = { "log_format", OPTK_WORD,
	offsetof(struct config, log_format), sizeof(int), 0,
	(const char *const []){ [LOG_KV] = "kv", [LOG_JSON] = "json" } };

/*
 * The places of the other options in the schema, after the settings
 * (enum opt): convert() takes them by place on every load, where
 * cfg_getopt would copy the name and compare it with every option's.
 */
enum {
	SHUTDOWN = OPT_COUNT,	/* in both levels */
	SCRIPT,			/* the end of a script section */
	ROOTS,
	LOG,
	FASTCGI_TIMEOUT,
	SUEXEC,
	ALIAS_ROOTS,
	SHIM_CHDIR,
	LOG_FORMAT,
	STATUS_PATH,
	TOP_COUNT
};

static const struct settings defaults = {
	.ignore_user_abort = false,
	.max_execution_time = 30000,
	.kill_signal = SIGTERM,
	.kill_grace = 3000,
	.notify_signal = 0,
	.finish_on_close = true,
	.client_watch = 250,
	.client_fin = CLIENT_FIN_ABORT,
	.orphans = ORPHANS_LEAVE,
	.script_control = true,
	.max_time_limit = 0,
	.hard_time_limit = 0,
	.max_header_size = 65536,
	.request_slowlog_timeout = 0
};

/* The value a list callback is about: the last one so far. */
static const char *
last(cfg_opt_t *o)
{
	unsigned	 n = confuse.opt_size(o);

	return n > 0 ? confuse.opt_getnstr(o, n - 1) : NULL;
}

static bool
envname(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static int
duration(int line, const char *name, const char *s, int64_t *ms)
{
	if (parse_duration(s, ms) == -1)
		return cfgfile_report(line, "%s: bad duration '%s'", name, s);
	return 0;
}

/* Add the bit of a status name (as in "when") to *bits. */
static int
status_bit(int line, const char *s, unsigned *bits)
{
	int	 st;

	if ((st = status_parse(s)) == -1)
		return cfgfile_report(line, "when: unknown status '%s'", s);
	*bits |= 1u << st;
	return 0;
}

/*
 * Check value i of a setting and store it at dst if it is a scalar;
 * list values are only checked.  line is where a bad value is reported.
 */
static int
value(int line, const struct optdesc *d, cfg_opt_t *o, unsigned i,
    void *dst)
{
	const char	*s, *eq;
	long		 n;
	int		 w;

	s = d->kind == OPTK_BOOL ? NULL : confuse.opt_getnstr(o, i);
	switch (d->kind) {
	case OPTK_BOOL:
		*(bool *)dst = confuse.opt_getnbool(o, i);
		break;
	case OPTK_DURATION:
		return duration(line, d->name, s, dst);
	case OPTK_SIGNAL:
		if (d->min == 0 && (*s == '\0' || strcasecmp(s, "none") == 0))
			*(int *)dst = 0;
		else if (parse_signal(s, dst) == -1)
			return cfgfile_report(line, "%s: unknown signal '%s'",
			    d->name, s);
		break;
	case OPTK_WORD:
		for (w = 0; w < 2 && strcmp(s, d->words[w]) != 0; w++)
			continue;
		if (w == 2)
			return cfgfile_report(line, "%s: unknown value '%s' "
			    "(%s or %s)", d->name, s, d->words[0], d->words[1]);
		/* An enum of 0 and 1 is stored as an int or unsigned. */
		*(int *)dst = w;
		break;
	case OPTK_NUMBER:
		if (parse_number(s, &n) == -1)
			return cfgfile_report(line, "%s: %s '%s'", d->name,
			    *s == '-' && parse_number(s + 1, &n) == 0 ?
			    "negative value" : "not a number", s);
		if (n < d->min)
			return cfgfile_report(line, "%s: %ld is less than %ld",
			    d->name, n, d->min);
		*(long *)dst = n;
		break;
	case OPTK_NAMES:
		if (!envname(s, strlen(s)))
			return cfgfile_report(line,
			    "%s: bad variable name '%s'", d->name, s);
		break;
	case OPTK_ASSIGNS:
		if ((eq = strchr(s, '=')) == NULL || !envname(s, eq - s))
			return cfgfile_report(line,
			    "%s: '%s' is not NAME=VALUE", d->name, s);
		break;
	}
	return 0;
}

static bool
islist(const struct optdesc *d)
{
	return d->kind == OPTK_NAMES || d->kind == OPTK_ASSIGNS;
}

/*
 * The callbacks report a bad value and let the parse go on, so that -t
 * lists every one: cfgfile_open fails when anything was reported.  Only
 * a failure of cfgfile_seen or cfgfile_closed (memory) ends the parse.
 *
 * Settings come first in every schema, in enum opt order.
 */
static int
settingcb(cfg_t *cfg, cfg_opt_t *o)
{
	const struct optdesc	*d = &config_opts[o - cfg->opts];
	struct settings		 scratch;
	unsigned		 n = confuse.opt_size(o);

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if (n > 0)
		value(cfg->line, d, o, n - 1, (char *)&scratch + d->offset);
	return 0;
}

static int
absolute(cfg_t *cfg, cfg_opt_t *o, const char *s)
{
	if (s != NULL && *s != '/')
		return cfgfile_report(cfg->line,
		    "%s: '%s' is not an absolute path", o->name, s);
	return 0;
}

static int
rootscb(cfg_t *cfg, cfg_opt_t *o)
{
	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	absolute(cfg, o, last(o));
	return 0;
}

/* Only the program, the first word, must be an absolute path. */
static int
commandcb(cfg_t *cfg, cfg_opt_t *o)
{
	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	absolute(cfg, o, confuse.opt_getnstr(o, 0));
	return 0;
}

static int
logcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = confuse.opt_getnstr(o, 0);

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if (strcmp(s, "syslog") != 0 && strcmp(s, "stderr") != 0 &&
	    *s != '/')
		cfgfile_report(cfg->line, "log: '%s' is not syslog, stderr or "
		    "an absolute path", s);
	return 0;
}

static int
logformatcb(cfg_t *cfg, cfg_opt_t *o)
{
	int	 f;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	value(cfg->line, &config_log_format, o, 0, &f);
	return 0;
}

static int
timeoutcb(cfg_t *cfg, cfg_opt_t *o)
{
	int64_t	 ms;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	duration(cfg->line, o->name, confuse.opt_getnstr(o, 0), &ms);
	return 0;
}

/* 0 cannot mean "none" here: a silent peer would hold a worker for ever. */
static int
fastcgicb(cfg_t *cfg, cfg_opt_t *o)
{
	int64_t	 ms;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if (duration(cfg->line, o->name, confuse.opt_getnstr(o, 0), &ms) == 0 &&
	    ms == 0)
		cfgfile_report(cfg->line, "%s: must be more than 0", o->name);
	return 0;
}

/* Compared with SCRIPT_NAME, which always starts with a slash. */
static int
statuscb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = confuse.opt_getnstr(o, 0);

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if (*s != '\0' && *s != '/')
		cfgfile_report(cfg->line, "%s: '%s' does not start with /",
		    o->name, s);
	return 0;
}

static int
whencb(cfg_t *cfg, cfg_opt_t *o)
{
	unsigned	 bits = 0;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	status_bit(cfg->line, last(o), &bits);
	return 0;
}

static int
scriptcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*why;
	cfg_t		*sec;

	if ((sec = cfgfile_closed(cfg, o)) == NULL)
		return -1;
	if ((why = badglob(confuse.title(sec))) != NULL)
		cfgfile_report(cfgfile_secline(sec),
		    "script: bad glob \"%s\": %s", confuse.title(sec), why);
	return 0;
}

static int
shutdowncb(cfg_t *cfg, cfg_opt_t *o)
{
	cfg_t	*sec;

	if ((sec = cfgfile_closed(cfg, o)) == NULL)
		return -1;
	if (confuse.size(sec, "command") == 0)
		cfgfile_report(cfgfile_secline(sec),
		    "command: missing or empty in shutdown \"%s\"",
		    confuse.title(sec));
	return 0;
}

/* The suexec section as a whole: nothing to check but its place. */
static int
suexeccb(cfg_t *cfg, cfg_opt_t *o)
{
	return cfgfile_closed(cfg, o) == NULL ? -1 : 0;
}

static int
suffixcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = confuse.opt_getnstr(o, 0), *p;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	for (p = s; *p != '\0'; p += strcspn(p, "/"), p += *p == '/')
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			break;
	if (*s == '\0' || *s == '/' || *p != '\0')
		cfgfile_report(cfg->line, "%s: '%s' is not a path below a home "
		    "directory", o->name, s);
	return 0;
}

/* User and group names, as the caller and the allowed identities. */
static int
namecb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = last(o);

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if (s != NULL && *s == '\0')
		cfgfile_report(cfg->line, "%s: empty name", o->name);
	return 0;
}

/* A minimum of 0 would let a program run as root. */
static int
idcb(cfg_t *cfg, cfg_opt_t *o)
{
	long	 id;

	if (cfgfile_seen(cfg, o) == -1)
		return -1;
	if ((id = confuse.opt_getnint(o, 0)) < 1 || id > INT32_MAX)
		cfgfile_report(cfg->line, "%s: %ld is not from 1 to %ld",
		    o->name, id, (long)INT32_MAX);
	return 0;
}

/*
 * No option has a libconfuse default, so one left out of a section can
 * be told from one set there; the defaults are ours.  Settings come
 * first, in enum opt order, for settingcb and level().
 */
static void
settings_schema(cfg_opt_t *o)
{
	const struct optdesc	*d;
	enum opt		 i;

	for (i = 0; i < OPT_COUNT; i++) {
		d = &config_opts[i];
		if (d->kind == OPTK_BOOL)
			o[i] = (cfg_opt_t)CFG_BOOL(d->name, cfg_false,
			    CFGF_NODEFAULT);
		else if (islist(d))
			o[i] = (cfg_opt_t)CFG_STR_LIST(d->name, NULL,
			    CFGF_NODEFAULT);
		else
			o[i] = (cfg_opt_t)CFG_STR(d->name, NULL,
			    CFGF_NODEFAULT);
		o[i].validcb = settingcb;
	}
}

static int
strlist_add(struct strlist *l, const char *s)
{
	char	**v;

	if ((v = reallocarray(l->v, l->n + 2, sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	if ((v[l->n] = strdup(s)) == NULL)
		return -1;
	v[++l->n] = NULL;
	return 0;
}

static int
strlist_copy(struct strlist *l, cfg_opt_t *o)
{
	unsigned	 i;

	for (i = 0; i < confuse.opt_size(o); i++)
		if (strlist_add(l, confuse.opt_getnstr(o, i)) == -1)
			return -1;
	return 0;
}

static void
strlist_free(struct strlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
cmd_copy(cfg_t *sec, struct shutdown_cmd *sc)
{
	cfg_opt_t	*when = confuse.getopt(sec, "when");
	unsigned	 i;

	sc->line = cfgfile_secline(sec);
	sc->timeout = DEFAULT_TIMEOUT;
	if ((sc->name = strdup(confuse.title(sec))) == NULL ||
	    strlist_copy(&sc->argv, confuse.getopt(sec, "command")) == -1)
		return -1;
	if (confuse.size(sec, "timeout") > 0 && duration(sc->line, "timeout",
	    confuse.getstr(sec, "timeout"), &sc->timeout) == -1)
		return -1;
	for (i = 0; i < confuse.opt_size(when); i++)
		if (status_bit(sc->line, confuse.opt_getnstr(when, i),
		    &sc->when) == -1)
			return -1;
	return 0;
}

/* Copy what sec sets into lv; lv->set holds the values to keep else. */
static int
level(cfg_t *sec, struct level *lv)
{
	const struct optdesc	*d;
	cfg_opt_t		*o;
	char			*dst;
	enum opt		 i;
	unsigned		 n;

	for (i = 0; i < OPT_COUNT; i++) {
		d = &config_opts[i];
		o = &sec->opts[i];
		if ((lv->origin[i] = cfgfile_origin(o)) == 0)
			continue;
		dst = (char *)&lv->set + d->offset;
		if (islist(d) ? strlist_copy((struct strlist *)dst, o) :
		    value(lv->origin[i], d, o, 0, dst))
			return -1;
	}
	o = &sec->opts[SHUTDOWN];
	if ((n = confuse.opt_size(o)) == 0)
		return 0;
	if ((lv->shutdown = calloc(n, sizeof(*lv->shutdown))) == NULL)
		return -1;
	lv->nshutdown = n;
	for (n = 0; n < lv->nshutdown; n++)
		if (cmd_copy(confuse.opt_getnsec(o, n), &lv->shutdown[n]) == -1)
			return -1;
	return 0;
}

static void
level_free(struct level *lv)
{
	size_t	 i;

	for (i = 0; i < OPT_COUNT; i++)
		if (islist(&config_opts[i]))
			strlist_free((struct strlist *)((char *)&lv->set +
			    config_opts[i].offset));
	for (i = 0; i < lv->nshutdown; i++) {
		free(lv->shutdown[i].name);
		strlist_free(&lv->shutdown[i].argv);
	}
	free(lv->shutdown);
	free(lv->glob);
}

static int
suexec_copy(cfg_t *top, struct suexec_conf *se)
{
	cfg_t	*sec;

	if (confuse.opt_size(&top->opts[SUEXEC]) == 0)
		return 0;
	sec = confuse.opt_getnsec(&top->opts[SUEXEC], 0);
	se->set = true;
	se->min_uid = confuse.getint(sec, "min_uid");
	se->min_gid = confuse.getint(sec, "min_gid");
	if ((se->caller = strdup(confuse.getstr(sec, "caller"))) == NULL ||
	    (se->docroot = strdup(confuse.getstr(sec, "docroot"))) == NULL ||
	    (se->userdir_suffix = strdup(confuse.getstr(sec,
	    "userdir_suffix"))) == NULL ||
	    strlist_copy(&se->allow_users,
	    confuse.getopt(sec, "allow_users")) ||
	    strlist_copy(&se->allow_groups,
	    confuse.getopt(sec, "allow_groups")))
		return -1;
	return 0;
}

static void
suexec_free(struct suexec_conf *se)
{
	free(se->caller);
	free(se->docroot);
	free(se->userdir_suffix);
	strlist_free(&se->allow_users);
	strlist_free(&se->allow_groups);
}

/*
 * The plain copy of a parsed top level, read from path, or empty and
 * with path NULL when there was no file.
 */
static struct config *
convert(cfg_t *top, const char *path)
{
	struct config	*c;
	struct level	*lv;
	cfg_opt_t	*o;
	cfg_t		*sec;
	size_t		 i, n;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->global.set = defaults;
	if (path != NULL && (c->path = strdup(path)) == NULL)
		goto fail;
	o = &top->opts[ROOTS];
	if ((c->roots_line = cfgfile_origin(o)) != 0 ?
	    strlist_copy(&c->roots, o) : strlist_add(&c->roots, DEFAULT_ROOT))
		goto fail;
	o = &top->opts[LOG];
	c->log_line = cfgfile_origin(o);
	if ((c->log = strdup(c->log_line != 0 ? confuse.opt_getnstr(o, 0) :
	    DEFAULT_LOG)) == NULL || level(top, &c->global) == -1)
		goto fail;
	o = &top->opts[LOG_FORMAT];
	if ((c->log_format_line = cfgfile_origin(o)) != 0 &&
	    value(c->log_format_line, &config_log_format, o, 0,
	    &c->log_format) == -1)
		goto fail;
	o = &top->opts[FASTCGI_TIMEOUT];
	c->fastcgi_timeout = DEFAULT_FASTCGI_TIMEOUT;
	if ((c->fastcgi_timeout_line = cfgfile_origin(o)) != 0 &&
	    parse_duration(confuse.opt_getnstr(o, 0),
	    &c->fastcgi_timeout) == -1)
		goto fail;
	o = &top->opts[STATUS_PATH];
	c->status_path_line = cfgfile_origin(o);
	if ((c->status_path = strdup(c->status_path_line != 0 ?
	    confuse.opt_getnstr(o, 0) : "")) == NULL)
		goto fail;
	if (suexec_copy(top, &c->suexec) == -1)
		goto fail;
	o = &top->opts[ALIAS_ROOTS];
	if ((c->alias_roots_line = cfgfile_origin(o)) != 0 &&
	    strlist_copy(&c->alias_roots, o) == -1)
		goto fail;
	o = &top->opts[SHIM_CHDIR];
	c->shim_chdir_line = cfgfile_origin(o);
	c->shim_chdir = confuse.opt_getnbool(o, 0);
	o = &top->opts[SCRIPT];
	if ((n = confuse.opt_size(o)) > 0 &&
	    (c->script = calloc(n, sizeof(*c->script))) == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		sec = confuse.opt_getnsec(o, i);
		lv = &c->script[c->nscript++];
		lv->line = cfgfile_secline(sec);
		if ((lv->glob = strdup(confuse.title(sec))) == NULL ||
		    level(sec, lv) == -1)
			goto fail;
	}
	return c;
fail:
	config_free(c);
	return NULL;
}

/* Option o, checked by cb (every option has a check: cfgfile counts on it). */
static cfg_opt_t
checked(cfg_opt_t o, cfg_validate_callback_t cb)
{
	o.validcb = cb;
	return o;
}

struct config *
config_load(const char *path, bool missing_ok)
{
	const cfg_flag_t multi = CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES;
	cfg_opt_t	 shut[] = {
		checked((cfg_opt_t)CFG_STR_LIST("command", NULL,
		    CFGF_NODEFAULT), commandcb),
		checked((cfg_opt_t)CFG_STR("timeout", NULL, CFGF_NODEFAULT),
		    timeoutcb),
		checked((cfg_opt_t)CFG_STR_LIST("when", NULL, CFGF_NODEFAULT),
		    whencb),
		CFG_END()
	};
	cfg_opt_t	 suexec[] = {
		checked((cfg_opt_t)CFG_STR("caller", "www-data", CFGF_NONE),
		    namecb),
		checked((cfg_opt_t)CFG_STR("docroot", "/var/www", CFGF_NONE),
		    rootscb),
		checked((cfg_opt_t)CFG_STR("userdir_suffix", "public_html",
		    CFGF_NONE), suffixcb),
		checked((cfg_opt_t)CFG_INT("min_uid", 1000, CFGF_NONE), idcb),
		checked((cfg_opt_t)CFG_INT("min_gid", 1000, CFGF_NONE), idcb),
		checked((cfg_opt_t)CFG_STR_LIST("allow_users", NULL,
		    CFGF_NODEFAULT), namecb),
		checked((cfg_opt_t)CFG_STR_LIST("allow_groups", NULL,
		    CFGF_NODEFAULT), namecb),
		CFG_END()
	};
	/* The global level's own, after the settings, shutdown and script. */
	cfg_opt_t	 top[TOP_COUNT + 1] = {
		[ROOTS] = checked((cfg_opt_t)CFG_STR_LIST("roots", NULL,
		    CFGF_NODEFAULT), rootscb),
		[LOG] = checked((cfg_opt_t)CFG_STR("log", NULL, CFGF_NODEFAULT),
		    logcb),
		[FASTCGI_TIMEOUT] = checked((cfg_opt_t)CFG_STR(
		    "fastcgi_timeout", NULL, CFGF_NODEFAULT), fastcgicb),
		[SUEXEC] = checked((cfg_opt_t)CFG_SEC("suexec", suexec,
		    CFGF_NODEFAULT), suexeccb),
		[ALIAS_ROOTS] = checked((cfg_opt_t)CFG_STR_LIST("alias_roots",
		    NULL, CFGF_NODEFAULT), rootscb),
		[SHIM_CHDIR] = checked((cfg_opt_t)CFG_BOOL("shim_chdir",
		    cfg_true, CFGF_NONE), cfgfile_seen),
		[LOG_FORMAT] = checked((cfg_opt_t)CFG_STR("log_format", NULL,
		    CFGF_NODEFAULT), logformatcb),
		[STATUS_PATH] = checked((cfg_opt_t)CFG_STR("status_path", NULL,
		    CFGF_NODEFAULT), statuscb),
		[TOP_COUNT] = CFG_END()
	};
	cfg_opt_t	 script[SCRIPT + 1];
	struct config	*c;
	cfg_t		*cfg;
	bool		 found;

	settings_schema(script);
	script[SHUTDOWN] = checked((cfg_opt_t)CFG_SEC("shutdown", shut, multi),
	    shutdowncb);
	script[SCRIPT] = (cfg_opt_t)CFG_END();
	settings_schema(top);
	top[SHUTDOWN] = script[SHUTDOWN];
	top[SCRIPT] = checked((cfg_opt_t)CFG_SEC("script", script, multi),
	    scriptcb);

	if ((cfg = cfgfile_open(path, missing_ok, top, &found)) == NULL)
		return NULL;
	if ((c = convert(cfg, found ? path : NULL)) == NULL)
		cfgfile_report(0, "%s", strerror(errno));
	else
		c->textsum = cfgfile_textsum();
	cfgfile_close(cfg);
	return c;
}

void
config_free(struct config *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	strlist_free(&c->roots);
	strlist_free(&c->alias_roots);
	free(c->log);
	free(c->status_path);
	level_free(&c->global);
	for (i = 0; i < c->nscript; i++)
		level_free(&c->script[i]);
	free(c->script);
	suexec_free(&c->suexec);
	free(c);
}

const char *
config_optname(enum opt o)
{
	return config_opts[o].name;
}
