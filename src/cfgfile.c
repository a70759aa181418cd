/*
 * The configuration file as libconfuse 3.3 reads it, made to report as
 * cgiwrap does.  libconfuse miscounts lines, refuses comments in lists,
 * passes a truncated file, expands ${NAME} from the environment, writes
 * its own messages and keeps no line of a value once parsed: the text is
 * prepared before it parses, its lexer and parser are followed again to
 * name the option and line of its errors, and the line of each option
 * and section is kept beside the tree.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgfile.h"
#include "libs.h"
#include "log.h"

#define nitems(a)	 (sizeof(a) / sizeof((a)[0]))

/*
 * libconfuse passes its callbacks no pointer of ours, so the file in
 * progress lives here: one at a time, from cfgfile_open to cfgfile_close.
 * Lines are kept beside the libconfuse tree, keyed by the cfg_opt_t of
 * an option (every section has its own) or by the cfg_t of a section.
 */
static struct {
	const char	*path;
	char		*text;		/* as libconfuse reads it */
	uint64_t	 textsum;	/* of the text as read */
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

int
cfgfile_report(int line, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 rc;

	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		msg = NULL;
	/* libconfuse checks the last value of a list again at its '}' */
	if (msg != NULL && ld.lastmsg != NULL && strcmp(msg, ld.lastmsg) == 0) {
		free(msg);
		return -1;
	}
	if (line > 0)
		log_warnx("%s:%d: %s", ld.path, line, msg != NULL ? msg : fmt);
	else
		log_warnx("%s: %s", ld.path, msg != NULL ? msg : fmt);
	free(ld.lastmsg);
	ld.lastmsg = msg;
	ld.nerr++;
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
markline(const void *key, int line)
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
struct follow {
	int		 upto;
	unsigned	 close;
	const char	*name;		/* the last option named */
	size_t		 namelen;
	const char	*sec;		/* the last section opened */
	size_t		 seclen;
	int		 secline;	/* the title's of the last one closed */
};

static void
follow(struct follow *w)
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
			/* Untitled (suexec): named by its keyword. */
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
	struct follow	 w = { .upto = cfg != NULL ? cfg->line : 0 };
	char		*msg;
	size_t		 i;

	for (i = 0; i < nitems(named); i++)
		if (strcmp(fmt, named[i].fmt) == 0) {
			cfgfile_report(w.upto, "%s: %s",
			    va_arg(ap, const char *), named[i].reason);
			return;
		}
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	follow(&w);
	if (strncmp(fmt, "found duplicate title ", 22) == 0) {
		w.name = w.sec;
		w.namelen = w.seclen;
	}
	if (w.name != NULL)
		cfgfile_report(w.upto, "%.*s: %s", (int)w.namelen, w.name,
		    msg != NULL ? msg : fmt);
	else
		cfgfile_report(w.upto, "%s", msg != NULL ? msg : fmt);
	free(msg);
}

/* An option's line is that of the last callback for it. */
int
cfgfile_seen(cfg_t *cfg, cfg_opt_t *o)
{
	if (o != ld.cur) {
		ld.cur = o;
		free(ld.lastmsg);
		ld.lastmsg = NULL;
	}
	if (markline(o, cfg->line) == -1)
		return cfgfile_report(cfg->line, "%s", strerror(errno));
	return 0;
}

/*
 * The sections closed so far are counted here and in the text by
 * follow(), which gives the line of the title of the last one.
 */
cfg_t *
cfgfile_closed(cfg_t *cfg, cfg_opt_t *o)
{
	struct follow	 w = { .close = ++ld.nclosed };
	cfg_t		*sec = confuse.opt_getnsec(o, confuse.opt_size(o) - 1);

	if (cfgfile_seen(cfg, o) == -1)
		return NULL;
	follow(&w);
	if (markline(sec, w.secline) == -1) {
		cfgfile_report(cfg->line, "%s", strerror(errno));
		return NULL;
	}
	return sec;
}

int
cfgfile_secline(cfg_t *sec)
{
	return lineof(sec);
}

int
cfgfile_origin(cfg_opt_t *o)
{
	int	 line;

	if ((line = lineof(o)) != 0)
		return line;
	/* "name = {}" runs no callback: libconfuse knows it is set, no more */
	return (o->flags & CFGF_MODIFIED) != 0 ? -1 : 0;
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
	rc = confuse.parse_buf(top, text);
	environ = env;
	if (rc != CFG_SUCCESS) {
		/* A failure libconfuse did not explain, as lack of memory. */
		if (ld.nerr == 0)
			cfgfile_report(0, "cannot be parsed");
		return -1;
	}
	if (open != NULL) {
		for (line = 1, p = text; p < open; p++)
			line += *p == '\n';
		cfgfile_report(line, "'{' not closed at the end of the file");
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
			cfgfile_report(0, "contains a NUL byte");
			free(text);
			return NULL;
		} else if (errno != EINTR)
			break;
	}
	cfgfile_report(0, "%s", strerror(errno));
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
		return cfgfile_report(0, "%s", strerror(errno));
	}
	if (fstat(fd, &st) == -1)
		cfgfile_report(0, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		cfgfile_report(0, "not a regular file");
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		cfgfile_report(0, "writable by group or others, refused");
	else
		*text = slurp(fd);
	(void)close(fd);
	return *text != NULL ? 0 : -1;
}

/*
 * libconfuse reads the text of the descriptor we checked, and no
 * include() is offered: every file read must pass that check.
 */
cfg_t *
cfgfile_open(const char *path, bool missing_ok, cfg_opt_t *opts,
    bool *found)
{
	cfg_t		*cfg = NULL;
	const char	*why;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if (readconf(path, missing_ok, &ld.text) == -1)
		goto fail;
	/* Before prepare() blanks the comments libconfuse would refuse. */
	if (ld.text != NULL)
		ld.textsum = cfgfile_checksum(ld.text, strlen(ld.text));
	if ((why = confuse_load()) != NULL) {
		cfgfile_report(0, "reading it needs libconfuse (Debian: "
		    "libconfuse2): %s", why);
		goto fail;
	}
	if ((cfg = confuse.init(opts, CFGF_NONE)) == NULL) {
		cfgfile_report(0, "%s", strerror(errno));
		goto fail;
	}
	(void)confuse.set_error_function(cfg, conferr);
	if (ld.text != NULL && parse(cfg, ld.text) == -1)
		goto fail;
	*found = ld.text != NULL;
	return cfg;
fail:
	cfgfile_close(cfg);
	return NULL;
}

uint64_t
cfgfile_checksum(const void *p, size_t len)
{
	const unsigned char	*b = p;
	uint64_t		 h = 0xcbf29ce484222325u;

	while (len-- > 0)
		h = (h ^ *b++) * 0x100000001b3u;
	return h;
}

uint64_t
cfgfile_textsum(void)
{
	return ld.textsum;
}

void
cfgfile_close(cfg_t *cfg)
{
	if (cfg != NULL)
		confuse.free(cfg);
	free(ld.text);
	free(ld.mark);
	free(ld.lastmsg);
	memset(&ld, 0, sizeof(ld));
}
