/*
 * The configuration file, loaded with libconfuse.  Values are checked
 * while libconfuse parses, where the line is known, then copied into the
 * plain structures of config.h; the libconfuse tree is freed before
 * config_load returns.
 */
#include <sys/stat.h>

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "status.h"

#define DEFAULT_ROOT	 "/usr/lib/cgi-bin"
#define DEFAULT_LOG	 "syslog"
#define DEFAULT_TIMEOUT	 30000		/* ms, of a shutdown command */
#define DEFAULT_FASTCGI_TIMEOUT 60000	/* ms, to read a FastCGI request */

#define nitems(a)	 (sizeof(a) / sizeof((a)[0]))

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
	SETTING(OPT_ENV_SET, env_set, OPTK_ASSIGNS, 0)
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
	.max_header_size = 65536
};

/*
 * libconfuse passes its callbacks no pointer of ours, so the load in
 * progress lives here: config_load is not reentrant, and need not be.
 * Lines are kept beside the libconfuse tree, keyed by the cfg_opt_t of
 * an option (every section has its own) or by the cfg_t of a section.
 */
static struct {
	const char	*path;
	const char	*text;		/* as libconfuse reads it */
	struct mark {
		const void	*key;
		int		 line;
	}		*mark;
	size_t		 nmark;
	size_t		 size;
	size_t		 nerr;
	unsigned	 nclosed;	/* sections parsed so far */
	const void	*cur;		/* the option whose callback runs */
	char		*lastmsg;	/* its last error */
} ld;

/* One line on stderr, "cgiwrap: FILE:LINE: MESSAGE". */
static void __attribute__((format(printf, 2, 0)))
vreport(int line, const char *fmt, va_list ap)
{
	char	*msg;

	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	/* libconfuse checks the last value of a list again at its '}' */
	if (msg != NULL && ld.lastmsg != NULL && strcmp(msg, ld.lastmsg) == 0) {
		free(msg);
		return;
	}
	if (line > 0)
		log_warnx("%s:%d: %s", ld.path, line, msg != NULL ? msg : fmt);
	else
		log_warnx("%s: %s", ld.path, msg != NULL ? msg : fmt);
	free(ld.lastmsg);
	ld.lastmsg = msg;
	ld.nerr++;
}

static int __attribute__((format(printf, 2, 3)))
report(int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vreport(line, fmt, ap);
	va_end(ap);
	return -1;
}

static struct mark *
findmark(const void *key)
{
	size_t	 i;

	for (i = 0; i < ld.nmark; i++)
		if (ld.mark[i].key == key)
			return &ld.mark[i];
	return NULL;
}

/* The line noted for key; 0 if none. */
static int
lineof(const void *key)
{
	struct mark	*m = findmark(key);

	return m != NULL ? m->line : 0;
}

static int
note(const void *key, int line)
{
	struct mark	*m;
	size_t		 size;

	if ((m = findmark(key)) != NULL) {
		m->line = line;
		return 0;
	}
	if (ld.nmark == ld.size) {
		size = ld.size != 0 ? ld.size * 2 : 64;
		if ((m = reallocarray(ld.mark, size, sizeof(*m))) == NULL)
			return -1;
		ld.mark = m;
		ld.size = size;
	}
	ld.mark[ld.nmark].key = key;
	ld.mark[ld.nmark++].line = line;
	return 0;
}

/*
 * A token of the text as libconfuse's lexer reads it, comments blanked
 * out: 'S' for a string, quoted or not (its text with the quotes at s,
 * len bytes), one of "{}()=,", '+' for "+=", or 0 at the end.  The
 * characters the lexer drops (a lone '+' or '*') are skipped.
 */
struct lex {
	const char	*p;
	int		 line;		/* of p */
	const char	*s;
	size_t		 len;
	int		 tokline;	/* of s */
};

static int
lex(struct lex *lx)
{
	const char	*p = lx->p, *e;
	char		 q;
	int		 tok = 'S';

	for (;; p++) {
		if (*p == '\n')
			lx->line++;
		else if (*p == '\0' || strchr(" \t\r*+", *p) == NULL ||
		    (p[0] == '+' && p[1] == '='))
			break;
	}
	lx->s = p;
	lx->tokline = lx->line;
	if (*p == '\0')
		tok = 0;
	else if (*p == '"' || *p == '\'') {
		for (q = *p++; *p != '\0' && *p != q; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			lx->line += *p == '\n';
		}
		if (*p != '\0')
			p++;
	} else if (*p == '+') {
		tok = '+';
		p += 2;
	} else if (strchr("{}()=,", *p) != NULL)
		tok = *p++;
	else if (p[0] == '$' && p[1] == '{' && (e = strchr(p, '}')) != NULL)
		p = e + 1;
	else
		p += strcspn(p, " \t\r\n*\"'={}()+,");
	lx->len = p - lx->s;
	lx->p = p;
	return tok;
}

/*
 * The statements of the text followed as libconfuse parses them, up to
 * the end of line upto (if not 0), the close of section number close (if
 * not 0) or the first token out of place, where libconfuse stops too.
 */
struct walk {
	int		 upto;
	unsigned	 close;
	const char	*name;		/* the last option named */
	size_t		 namelen;
	const char	*sec;		/* the last section opened */
	size_t		 seclen;
	int		 secline;	/* the title's of the last one closed */
};

static void
walk(struct walk *w)
{
	enum { W_NAME, W_AFTER, W_TITLE, W_VALUE, W_LIST } st = W_NAME;
	struct lex	 lx = { .p = ld.text, .line = 1 };
	int		 title[4], nameline = 0, tok;
	size_t		 depth = 0;
	unsigned	 nclosed = 0;

	while ((tok = lex(&lx)) != 0 &&
	    (w->upto == 0 || lx.tokline <= w->upto)) {
		if (st == W_NAME && tok == 'S') {
			w->name = lx.s;
			w->namelen = lx.len;
			nameline = lx.tokline;
			st = W_AFTER;
		} else if (st == W_NAME && tok == '}' && depth > 0) {
			depth--;
			w->secline = depth < nitems(title) ? title[depth] : 0;
			if (++nclosed == w->close)
				return;
		} else if (st == W_AFTER && (tok == '=' || tok == '+'))
			st = W_VALUE;
		else if (st == W_AFTER && tok == 'S') {
			w->sec = w->name;
			w->seclen = w->namelen;
			if (depth < nitems(title))
				title[depth] = lx.tokline;
			st = W_TITLE;
		} else if (st == W_AFTER && tok == '{') {
			/* A section without a title (suexec): named at its name. */
			w->sec = w->name;
			w->seclen = w->namelen;
			if (depth < nitems(title))
				title[depth] = nameline;
			depth++;
			st = W_NAME;
		} else if (st == W_TITLE && tok == '{') {
			depth++;
			st = W_NAME;
		} else if (st == W_VALUE && (tok == 'S' || tok == '{'))
			st = tok == 'S' ? W_NAME : W_LIST;
		else if (st == W_LIST && tok == '}')
			st = W_NAME;
		else if (!(st == W_LIST && (tok == 'S' || tok == ',')))
			return;
	}
}

/*
 * libconfuse's own messages take our form, "OPTION: reason".  Those that
 * name the option are reworded; for the others the option is the one
 * libconfuse was parsing when it stopped (for a duplicate title, the
 * section).  The parse ends there.
 */
static const struct {
	const char	*fmt;
	const char	*reason;
} named[] = {
	{ "no such option '%s'", "no such option" },
	{ "invalid boolean value for option '%s'",
	    "not a boolean (true or false)" },
	{ "missing equal sign after option '%s'", "missing '='" },
	{ "attempt to append to non-list option '%s'",
	    "'+=' on an option that is not a list" },
	{ "missing opening brace for section '%s'", "missing '{'" },
	{ "missing title for section '%s'", "missing title" }
};

static void __attribute__((format(printf, 2, 0)))
conferr(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct walk	 w = { .upto = cfg != NULL ? cfg->line : 0 };
	char		*msg;
	size_t		 i;

	for (i = 0; i < nitems(named); i++)
		if (strcmp(fmt, named[i].fmt) == 0) {
			report(w.upto, "%s: %s", va_arg(ap, const char *),
			    named[i].reason);
			return;
		}
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	walk(&w);
	if (strncmp(fmt, "found duplicate title ", 22) == 0) {
		w.name = w.sec;
		w.namelen = w.seclen;
	}
	if (w.name != NULL)
		report(w.upto, "%.*s: %s", (int)w.namelen, w.name,
		    msg != NULL ? msg : fmt);
	else
		report(w.upto, "%s", msg != NULL ? msg : fmt);
	free(msg);
}

/*
 * Every callback starts here.  An option's line is that of the last
 * callback for it: where its last assignment ends.
 */
static int
seen(cfg_t *cfg, cfg_opt_t *o)
{
	if (o != ld.cur) {
		ld.cur = o;
		free(ld.lastmsg);
		ld.lastmsg = NULL;
	}
	if (note(o, cfg->line) == -1)
		return report(cfg->line, "%s", strerror(errno));
	return 0;
}

/* The value a list callback is about: the last one so far. */
static const char *
last(cfg_opt_t *o)
{
	unsigned	 n = cfg_opt_size(o);

	return n > 0 ? cfg_opt_getnstr(o, n - 1) : NULL;
}

static bool
envname(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static int
duration(int line, const char *name, const char *s, int64_t *ms)
{
	if (parse_duration(s, ms) == -1)
		return report(line, "%s: bad duration '%s'", name, s);
	return 0;
}

/* Add the bit of a status name (as in "when") to *bits. */
static int
status_bit(int line, const char *s, unsigned *bits)
{
	int	 st;

	if ((st = status_parse(s)) == -1)
		return report(line, "when: unknown status '%s'", s);
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

	s = d->kind == OPTK_BOOL ? NULL : cfg_opt_getnstr(o, i);
	switch (d->kind) {
	case OPTK_BOOL:
		*(bool *)dst = cfg_opt_getnbool(o, i);
		break;
	case OPTK_DURATION:
		return duration(line, d->name, s, dst);
	case OPTK_SIGNAL:
		if (d->min == 0 && (*s == '\0' || strcasecmp(s, "none") == 0))
			*(int *)dst = 0;
		else if (parse_signal(s, dst) == -1)
			return report(line, "%s: unknown signal '%s'", d->name,
			    s);
		break;
	case OPTK_WORD:
		for (w = 0; w < 2 && strcmp(s, d->words[w]) != 0; w++)
			continue;
		if (w == 2)
			return report(line, "%s: unknown value '%s' "
			    "(%s or %s)", d->name, s, d->words[0], d->words[1]);
		/* An enum of 0 and 1 is stored as an int or unsigned. */
		*(int *)dst = w;
		break;
	case OPTK_NUMBER:
		if (parse_number(s, &n) == -1)
			return report(line, "%s: %s '%s'", d->name,
			    *s == '-' && parse_number(s + 1, &n) == 0 ?
			    "negative value" : "not a number", s);
		if (n < d->min)
			return report(line, "%s: %ld is less than %ld",
			    d->name, n, d->min);
		*(long *)dst = n;
		break;
	case OPTK_NAMES:
		if (!envname(s, strlen(s)))
			return report(line, "%s: bad variable name '%s'",
			    d->name, s);
		break;
	case OPTK_ASSIGNS:
		if ((eq = strchr(s, '=')) == NULL || !envname(s, eq - s))
			return report(line, "%s: '%s' is not NAME=VALUE",
			    d->name, s);
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
 * lists every one: parse() fails when anything was reported.  Only a
 * failure of seen() (memory) ends the parse.
 *
 * Settings come first in every schema, in enum opt order.
 */
static int
settingcb(cfg_t *cfg, cfg_opt_t *o)
{
	const struct optdesc	*d = &config_opts[o - cfg->opts];
	struct settings		 scratch;
	unsigned		 n = cfg_opt_size(o);

	if (seen(cfg, o) == -1)
		return -1;
	if (n > 0)
		value(cfg->line, d, o, n - 1, (char *)&scratch + d->offset);
	return 0;
}

static int
absolute(cfg_t *cfg, cfg_opt_t *o, const char *s)
{
	if (s != NULL && *s != '/')
		return report(cfg->line, "%s: '%s' is not an absolute path",
		    o->name, s);
	return 0;
}

static int
rootscb(cfg_t *cfg, cfg_opt_t *o)
{
	if (seen(cfg, o) == -1)
		return -1;
	absolute(cfg, o, last(o));
	return 0;
}

/* Only the program, the first word, must be an absolute path. */
static int
commandcb(cfg_t *cfg, cfg_opt_t *o)
{
	if (seen(cfg, o) == -1)
		return -1;
	absolute(cfg, o, cfg_opt_getnstr(o, 0));
	return 0;
}

static int
logcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = cfg_opt_getnstr(o, 0);

	if (seen(cfg, o) == -1)
		return -1;
	if (strcmp(s, "syslog") != 0 && strcmp(s, "stderr") != 0 &&
	    *s != '/')
		report(cfg->line, "log: '%s' is not syslog, stderr or "
		    "an absolute path", s);
	return 0;
}

static int
timeoutcb(cfg_t *cfg, cfg_opt_t *o)
{
	int64_t	 ms;

	if (seen(cfg, o) == -1)
		return -1;
	duration(cfg->line, o->name, cfg_opt_getnstr(o, 0), &ms);
	return 0;
}

/* 0 cannot mean "none" here: a silent peer would hold a worker for ever. */
static int
fastcgicb(cfg_t *cfg, cfg_opt_t *o)
{
	int64_t	 ms;

	if (seen(cfg, o) == -1)
		return -1;
	if (duration(cfg->line, o->name, cfg_opt_getnstr(o, 0), &ms) == 0 &&
	    ms == 0)
		report(cfg->line, "%s: must be more than 0", o->name);
	return 0;
}

static int
whencb(cfg_t *cfg, cfg_opt_t *o)
{
	unsigned	 bits = 0;

	if (seen(cfg, o) == -1)
		return -1;
	status_bit(cfg->line, last(o), &bits);
	return 0;
}

/*
 * The section a section callback is about: the one just parsed, noted
 * with the line of its title.  Every section has a callback, so that
 * they are counted as walk() counts them.
 */
static cfg_t *
closed(cfg_t *cfg, cfg_opt_t *o)
{
	struct walk	 w = { .close = ++ld.nclosed };
	cfg_t		*sec = cfg_opt_getnsec(o, cfg_opt_size(o) - 1);

	if (seen(cfg, o) == -1)
		return NULL;
	walk(&w);
	if (note(sec, w.secline) == -1) {
		report(cfg->line, "%s", strerror(errno));
		return NULL;
	}
	return sec;
}

static int
scriptcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*why;
	cfg_t		*sec;

	if ((sec = closed(cfg, o)) == NULL)
		return -1;
	if ((why = badglob(cfg_title(sec))) != NULL)
		report(lineof(sec), "script: bad glob \"%s\": %s",
		    cfg_title(sec), why);
	return 0;
}

static int
shutdowncb(cfg_t *cfg, cfg_opt_t *o)
{
	cfg_t	*sec;

	if ((sec = closed(cfg, o)) == NULL)
		return -1;
	if (cfg_size(sec, "command") == 0)
		report(lineof(sec), "command: missing or empty in "
		    "shutdown \"%s\"", cfg_title(sec));
	return 0;
}

/* The suexec section as a whole: nothing to check but its place. */
static int
suexeccb(cfg_t *cfg, cfg_opt_t *o)
{
	return closed(cfg, o) == NULL ? -1 : 0;
}

static int
suffixcb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = cfg_opt_getnstr(o, 0), *p;

	if (seen(cfg, o) == -1)
		return -1;
	for (p = s; *p != '\0'; p += strcspn(p, "/"), p += *p == '/')
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			break;
	if (*s == '\0' || *s == '/' || *p != '\0')
		report(cfg->line, "%s: '%s' is not a path below a home "
		    "directory", o->name, s);
	return 0;
}

/* User and group names, as the caller and the allowed identities. */
static int
namecb(cfg_t *cfg, cfg_opt_t *o)
{
	const char	*s = last(o);

	if (seen(cfg, o) == -1)
		return -1;
	if (s != NULL && *s == '\0')
		report(cfg->line, "%s: empty name", o->name);
	return 0;
}

/* A minimum of 0 would let a program run as root. */
static int
idcb(cfg_t *cfg, cfg_opt_t *o)
{
	if (seen(cfg, o) == -1)
		return -1;
	if (cfg_opt_getnint(o, 0) < 1 || cfg_opt_getnint(o, 0) > INT32_MAX)
		report(cfg->line, "%s: %ld is not from 1 to %ld",
		    o->name, cfg_opt_getnint(o, 0), (long)INT32_MAX);
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

	for (i = 0; i < cfg_opt_size(o); i++)
		if (strlist_add(l, cfg_opt_getnstr(o, i)) == -1)
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

/* The line option o was set on in its section, -1 if unknown, or 0. */
static int
origin(cfg_opt_t *o)
{
	int	 line;

	if ((line = lineof(o)) != 0)
		return line;
	/* "name = {}" runs no callback: libconfuse knows it is set, no more */
	return (o->flags & CFGF_MODIFIED) != 0 ? -1 : 0;
}

static int
command(cfg_t *sec, struct shutdown_cmd *sc)
{
	cfg_opt_t	*when = cfg_getopt(sec, "when");
	unsigned	 i;

	sc->line = lineof(sec);
	sc->timeout = DEFAULT_TIMEOUT;
	if ((sc->name = strdup(cfg_title(sec))) == NULL ||
	    strlist_copy(&sc->argv, cfg_getopt(sec, "command")) == -1)
		return -1;
	if (cfg_size(sec, "timeout") > 0 && duration(sc->line, "timeout",
	    cfg_getstr(sec, "timeout"), &sc->timeout) == -1)
		return -1;
	for (i = 0; i < cfg_opt_size(when); i++)
		if (status_bit(sc->line, cfg_opt_getnstr(when, i),
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
		if ((lv->origin[i] = origin(o)) == 0)
			continue;
		dst = (char *)&lv->set + d->offset;
		if (islist(d) ? strlist_copy((struct strlist *)dst, o) :
		    value(lv->origin[i], d, o, 0, dst))
			return -1;
	}
	o = cfg_getopt(sec, "shutdown");
	if ((n = cfg_opt_size(o)) == 0)
		return 0;
	if ((lv->shutdown = calloc(n, sizeof(*lv->shutdown))) == NULL)
		return -1;
	lv->nshutdown = n;
	for (n = 0; n < lv->nshutdown; n++)
		if (command(cfg_opt_getnsec(o, n), &lv->shutdown[n]) == -1)
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

	if (cfg_size(top, "suexec") == 0)
		return 0;
	sec = cfg_getsec(top, "suexec");
	se->set = true;
	se->min_uid = cfg_getint(sec, "min_uid");
	se->min_gid = cfg_getint(sec, "min_gid");
	if ((se->caller = strdup(cfg_getstr(sec, "caller"))) == NULL ||
	    (se->docroot = strdup(cfg_getstr(sec, "docroot"))) == NULL ||
	    (se->userdir_suffix = strdup(cfg_getstr(sec,
	    "userdir_suffix"))) == NULL ||
	    strlist_copy(&se->allow_users, cfg_getopt(sec, "allow_users")) ||
	    strlist_copy(&se->allow_groups, cfg_getopt(sec, "allow_groups")))
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

/* The plain copy of a parsed (or, without a file, empty) top level. */
static struct config *
convert(cfg_t *top, bool file)
{
	struct config	*c;
	struct level	*lv;
	cfg_opt_t	*o;
	cfg_t		*sec;
	size_t		 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->global.set = defaults;
	if (file && (c->path = strdup(ld.path)) == NULL)
		goto fail;
	o = cfg_getopt(top, "roots");
	if ((c->roots_line = origin(o)) != 0 ? strlist_copy(&c->roots, o) :
	    strlist_add(&c->roots, DEFAULT_ROOT))
		goto fail;
	o = cfg_getopt(top, "log");
	c->log_line = origin(o);
	if ((c->log = strdup(c->log_line != 0 ? cfg_opt_getnstr(o, 0) :
	    DEFAULT_LOG)) == NULL || level(top, &c->global) == -1)
		goto fail;
	o = cfg_getopt(top, "fastcgi_timeout");
	c->fastcgi_timeout = DEFAULT_FASTCGI_TIMEOUT;
	if ((c->fastcgi_timeout_line = origin(o)) != 0 &&
	    parse_duration(cfg_opt_getnstr(o, 0), &c->fastcgi_timeout) == -1)
		goto fail;
	if (suexec_copy(top, &c->suexec) == -1)
		goto fail;
	o = cfg_getopt(top, "script");
	if (cfg_opt_size(o) > 0 &&
	    (c->script = calloc(cfg_opt_size(o), sizeof(*c->script))) == NULL)
		goto fail;
	for (i = 0; i < cfg_opt_size(o); i++) {
		sec = cfg_opt_getnsec(o, i);
		lv = &c->script[c->nscript++];
		lv->line = lineof(sec);
		if ((lv->glob = strdup(cfg_title(sec))) == NULL ||
		    level(sec, lv) == -1)
			goto fail;
	}
	return c;
fail:
	config_free(c);
	return NULL;
}

/*
 * Make the text fit for libconfuse 3.3, skipping strings as its lexer
 * does.  Comments are blanked out, newlines kept: it counts two lines
 * too many for each "#" or "//" comment and one for each block comment,
 * and refuses a comment in a list.  It also takes the end of the file
 * for the end of an open section, so a truncated file would pass for a
 * whole one: the outermost '{' left open is returned, or NULL.
 */
static const char *
prepare(char *s)
{
	const char	*open = NULL;
	char		*end, q;
	int		 depth = 0;

	while (*s != '\0') {
		if (*s == '"' || *s == '\'') {
			for (q = *s++; *s != '\0' && *s != q; s++)
				if (*s == '\\' && s[1] != '\0')
					s++;
			if (*s != '\0')
				s++;
		} else if (*s == '#' || (s[0] == '/' && s[1] == '/')) {
			for (; *s != '\0' && *s != '\n'; s++)
				*s = ' ';
		} else if (s[0] == '/' && s[1] == '*' &&
		    (end = strstr(s + 2, "*/")) != NULL) {
			for (; s < end + 2; s++)
				if (*s != '\n')
					*s = ' ';
		} else {
			if (*s == '{' && depth++ == 0)
				open = s;
			else if (*s == '}' && depth > 0)
				depth--;
			s++;
		}
	}
	return depth > 0 ? open : NULL;
}

static int
parse(cfg_t *top, char *text)
{
	static char	*noenv[] = { NULL };
	char		**env = environ;
	const char	*open, *p;
	int		 rc, line;

	open = prepare(text);
	/*
	 * libconfuse expands ${NAME} from the environment, which is the
	 * request's: HTTP_* variables are the client's to choose.  The
	 * policy must not depend on the request, so give it none.
	 */
	environ = noenv;
	ld.text = text;
	rc = cfg_parse_buf(top, text);
	environ = env;
	if (rc != CFG_SUCCESS) {
		/* A failure libconfuse did not explain, as lack of memory. */
		if (ld.nerr == 0)
			report(0, "cannot be parsed");
		return -1;
	}
	if (open != NULL) {
		for (line = 1, p = text; p < open; p++)
			line += *p == '\n';
		report(line, "'{' not closed at the end of the file");
	}
	return ld.nerr == 0 ? 0 : -1;
}

/* The rest of the file at fd, NUL-terminated. */
static char *
slurp(int fd)
{
	char	*text = NULL, *p;
	size_t	 len = 0, size = 0;
	ssize_t	 n;

	for (;;) {
		if (size - len < 2) {
			size = size != 0 ? size * 2 : 4096;
			if ((p = realloc(text, size)) == NULL)
				break;
			text = p;
		}
		if ((n = read(fd, text + len, size - len - 1)) > 0)
			len += n;
		else if (n == 0) {
			text[len] = '\0';
			if (memchr(text, '\0', len) == NULL)
				return text;
			report(0, "contains a NUL byte");
			free(text);
			return NULL;
		} else if (errno != EINTR)
			break;
	}
	report(0, "%s", strerror(errno));
	free(text);
	return NULL;
}

/*
 * Read the whole file, refusing one that others could have written.
 * *text stays NULL for a missing file when that is allowed.
 */
static int
readconf(const char *path, bool missing_ok, char **text)
{
	struct stat	 st;
	int		 fd;

	*text = NULL;
	/* O_NONBLOCK: a FIFO must not hang us before it is refused. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return report(0, "%s", strerror(errno));
	}
	if (fstat(fd, &st) == -1)
		report(0, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		report(0, "not a regular file");
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		report(0, "writable by group or others, refused");
	else
		*text = slurp(fd);
	(void)close(fd);
	return *text != NULL ? 0 : -1;
}

/*
 * libconfuse reads the text of the descriptor we checked, and no
 * include() is offered: every file read must pass that check.
 */
struct config *
config_load(const char *path, bool missing_ok)
{
	cfg_opt_t	 shut[] = {
		CFG_STR_LIST("command", NULL, CFGF_NODEFAULT),
		CFG_STR("timeout", NULL, CFGF_NODEFAULT),
		CFG_STR_LIST("when", NULL, CFGF_NODEFAULT),
		CFG_END()
	};
	cfg_opt_t	 suexec[] = {
		CFG_STR("caller", "www-data", CFGF_NONE),
		CFG_STR("docroot", "/var/www", CFGF_NONE),
		CFG_STR("userdir_suffix", "public_html", CFGF_NONE),
		CFG_INT("min_uid", 1000, CFGF_NONE),
		CFG_INT("min_gid", 1000, CFGF_NONE),
		CFG_STR_LIST("allow_users", NULL, CFGF_NODEFAULT),
		CFG_STR_LIST("allow_groups", NULL, CFGF_NODEFAULT),
		CFG_END()
	};
	cfg_opt_t	 script[OPT_COUNT + 2], top[OPT_COUNT + 7];
	const cfg_flag_t multi = CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES;
	struct config	*c = NULL;
	cfg_t		*cfg;
	char		*text;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if (readconf(path, missing_ok, &text) == -1)
		goto out;

	shut[0].validcb = commandcb;
	shut[1].validcb = timeoutcb;
	shut[2].validcb = whencb;
	settings_schema(script);
	script[OPT_COUNT] = (cfg_opt_t)CFG_SEC("shutdown", shut, multi);
	script[OPT_COUNT].validcb = shutdowncb;
	script[OPT_COUNT + 1] = (cfg_opt_t)CFG_END();
	settings_schema(top);
	top[OPT_COUNT] = script[OPT_COUNT];
	top[OPT_COUNT + 1] = (cfg_opt_t)CFG_SEC("script", script, multi);
	top[OPT_COUNT + 1].validcb = scriptcb;
	top[OPT_COUNT + 2] = (cfg_opt_t)CFG_STR_LIST("roots", NULL,
	    CFGF_NODEFAULT);
	top[OPT_COUNT + 2].validcb = rootscb;
	top[OPT_COUNT + 3] = (cfg_opt_t)CFG_STR("log", NULL, CFGF_NODEFAULT);
	top[OPT_COUNT + 3].validcb = logcb;
	top[OPT_COUNT + 4] = (cfg_opt_t)CFG_STR("fastcgi_timeout", NULL,
	    CFGF_NODEFAULT);
	top[OPT_COUNT + 4].validcb = fastcgicb;
	top[OPT_COUNT + 5] = (cfg_opt_t)CFG_SEC("suexec", suexec,
	    CFGF_NODEFAULT);
	top[OPT_COUNT + 5].validcb = suexeccb;
	top[OPT_COUNT + 6] = (cfg_opt_t)CFG_END();
	suexec[0].validcb = suexec[5].validcb = suexec[6].validcb = namecb;
	suexec[1].validcb = rootscb;
	suexec[2].validcb = suffixcb;
	suexec[3].validcb = suexec[4].validcb = idcb;

	if ((cfg = cfg_init(top, CFGF_NONE)) == NULL)
		report(0, "%s", strerror(errno));
	else {
		(void)cfg_set_error_function(cfg, conferr);
		if ((text == NULL || parse(cfg, text) == 0) &&
		    (c = convert(cfg, text != NULL)) == NULL)
			report(0, "%s", strerror(errno));
		cfg_free(cfg);
	}
	free(text);
out:
	free(ld.mark);
	free(ld.lastmsg);
	memset(&ld, 0, sizeof(ld));
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
	free(c->log);
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
