/* The effective policy for one target: script section over global level. */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "parse.h"
#include "policy.h"
#include "status.h"

/* No FNM_PATHNAME: a star matches slashes too (cgiwrap.conf(5)). */
const struct level *
policy_match(const struct config *c, const char *target)
{
	size_t	 i;

	for (i = 0; i < c->nscript; i++)
		if (fnmatch(c->script[i].glob, target, 0) == 0)
			return &c->script[i];
	return NULL;
}

/* The lists in p->set stay those of the config. */
void
policy_resolve(const struct config *c, const char *target, struct policy *p)
{
	const struct level	*sec = policy_match(c, target);
	const struct optdesc	*d;
	enum opt		 i;

	memset(p, 0, sizeof(*p));
	p->section = sec;
	p->set = c->global.set;
	p->shutdown[0] = c->global.shutdown;
	p->nshutdown[0] = c->global.nshutdown;
	if (sec == NULL)
		return;
	for (i = 0; i < OPT_COUNT; i++) {
		d = &config_opts[i];
		if (sec->origin[i] != 0)
			memcpy((char *)&p->set + d->offset,
			    (const char *)&sec->set + d->offset, d->size);
	}
	p->shutdown[1] = sec->shutdown;
	p->nshutdown[1] = sec->nshutdown;
}

/* A string in double quotes, escaped as the file would have it. */
static void
quoted(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

static void
list(FILE *fp, const struct strlist *l)
{
	size_t	 i;

	putc('{', fp);
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			fputs(", ", fp);
		quoted(fp, l->v[i]);
	}
	putc('}', fp);
}

static void
print_value(FILE *fp, const struct optdesc *d, const struct settings *set)
{
	const void	*p = (const char *)set + d->offset;
	char		 buf[DURATION_MAX];
	int		 sig;

	switch (d->kind) {
	case OPTK_BOOL:
		fputs(*(const bool *)p ? "true" : "false", fp);
		break;
	case OPTK_DURATION:
		fputs(format_duration(*(const int64_t *)p, buf, sizeof(buf)),
		    fp);
		break;
	case OPTK_SIGNAL:
		sig = *(const int *)p;
		fputs(sig != 0 ? signal_name(sig) : "none", fp);
		break;
	case OPTK_WORD:
		fputs(d->words[*(const int *)p], fp);
		break;
	case OPTK_NUMBER:
		fprintf(fp, "%ld", *(const long *)p);
		break;
	case OPTK_NAMES:
	case OPTK_ASSIGNS:
		list(fp, p);
		break;
	}
}

/* Where a value comes from, and the end of its line. */
static void
origin(FILE *fp, const struct config *c, const struct level *lv, int line)
{
	fputs("  # ", fp);
	if (line == 0) {
		fputs("default\n", fp);
		return;
	}
	fputs(c->path, fp);
	if (line > 0)
		fprintf(fp, ":%d", line);
	if (lv->glob != NULL) {
		fputs(" (script ", fp);
		quoted(fp, lv->glob);
		fputs(")\n", fp);
	} else
		fputs(" (global)\n", fp);
}

static void
shutdowns(FILE *fp, const struct config *c, const struct level *lv)
{
	const struct shutdown_cmd	*sc;
	const char			*sep;
	char				 buf[DURATION_MAX];
	size_t				 i;
	int				 st;

	for (i = 0; i < lv->nshutdown; i++) {
		sc = &lv->shutdown[i];
		fputs("shutdown ", fp);
		quoted(fp, sc->name);
		fputs(" { command = ", fp);
		list(fp, &sc->argv);
		fprintf(fp, " timeout = %s when = {",
		    format_duration(sc->timeout, buf, sizeof(buf)));
		for (st = 0, sep = ""; st <= ST_MAX; st++)
			if (sc->when & (1u << st)) {
				fprintf(fp, "%s\"%s\"", sep, status_name(st));
				sep = ", ";
			}
		fputs("} }", fp);
		origin(fp, c, lv, sc->line);
	}
}

/*
 * The output reads as a config file: "# " lines say what was looked at,
 * then "name = value  # origin" for each setting.  Errors writing are
 * for the caller to find with ferror(fp).
 */
void
policy_explain(const struct config *c, const char *target, FILE *fp)
{
	const struct level	*lv;
	struct policy		 p;
	enum opt		 i;
	char			 buf[DURATION_MAX];

	policy_resolve(c, target, &p);
	fprintf(fp, "# target %s\n", target);
	if (c->path != NULL)
		fprintf(fp, "# config %s\n", c->path);
	else
		fputs("# config none: built-in defaults\n", fp);
	if (p.section != NULL) {
		fputs("# section script ", fp);
		quoted(fp, p.section->glob);
		fprintf(fp, " at %s:%d\n", c->path, p.section->line);
	} else
		fputs("# section none: global level only\n", fp);

	fputs("roots = ", fp);
	list(fp, &c->roots);
	origin(fp, c, &c->global, c->roots_line);
	fputs("log = ", fp);
	quoted(fp, c->log);
	origin(fp, c, &c->global, c->log_line);
	fprintf(fp, "log_format = %s",
	    config_log_format.words[c->log_format]);
	origin(fp, c, &c->global, c->log_format_line);
	fprintf(fp, "fastcgi_timeout = %s", format_duration(c->fastcgi_timeout,
	    buf, sizeof(buf)));
	origin(fp, c, &c->global, c->fastcgi_timeout_line);
	fputs("alias_roots = ", fp);
	list(fp, &c->alias_roots);
	origin(fp, c, &c->global, c->alias_roots_line);
	fprintf(fp, "shim_chdir = %s", c->shim_chdir ? "true" : "false");
	origin(fp, c, &c->global, c->shim_chdir_line);
	fputs("status_path = ", fp);
	quoted(fp, c->status_path);
	origin(fp, c, &c->global, c->status_path_line);
	for (i = 0; i < OPT_COUNT; i++) {
		lv = p.section != NULL && p.section->origin[i] != 0 ?
		    p.section : &c->global;
		fprintf(fp, "%s = ", config_opts[i].name);
		print_value(fp, &config_opts[i], &p.set);
		origin(fp, c, lv, lv->origin[i]);
	}
	shutdowns(fp, c, &c->global);
	if (p.section != NULL)
		shutdowns(fp, c, p.section);
}
