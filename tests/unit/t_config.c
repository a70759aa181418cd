/* Loading the configuration: values, lines, defaults, each kind of error. */
#include <sys/stat.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "status.h"
#include "tap.h"

#define CONF(name)	"tests/unit/conf/" name

/* config_load with fd 2 sent to a file; returns what was written there. */
static char *
load(const char *path, bool missing_ok, struct config **c)
{
	FILE	*tmp;
	char	*text;
	long	 len;
	int	 saved;

	if ((tmp = tmpfile()) == NULL || (saved = dup(2)) == -1 ||
	    dup2(fileno(tmp), 2) == -1) {
		perror("t_config: capturing stderr");
		exit(2);
	}
	*c = config_load(path, missing_ok);
	fflush(stderr);
	if (dup2(saved, 2) == -1 || close(saved) == -1 ||
	    (len = ftell(tmp)) == -1 || fseek(tmp, 0, SEEK_SET) == -1 ||
	    (text = calloc(1, len + 1)) == NULL ||
	    fread(text, 1, len, tmp) != (size_t)len) {
		perror("t_config: reading stderr");
		exit(2);
	}
	fclose(tmp);
	return text;
}

static void
is_list(const struct strlist *l, const char *const *want, size_t n,
    const char *name)
{
	size_t	 i;

	if (!is_int(l->n, n, name))
		return;
	for (i = 0; i < n; i++)
		is_str(l->v[i], want[i], name);
	ok(n == 0 ? l->v == NULL || l->v[0] == NULL : l->v[n] == NULL,
	    "%s ends with NULL", name);
}

static void
is_defaults(const struct settings *s, const char *what)
{
	int	 i;

	printf("# defaults: %s\n", what);
	is_int(s->ignore_user_abort, false, "ignore_user_abort");
	is_int(s->max_execution_time, 30000, "max_execution_time");
	is_int(s->kill_signal, SIGTERM, "kill_signal");
	is_int(s->kill_grace, 3000, "kill_grace");
	is_int(s->notify_signal, 0, "notify_signal");
	is_int(s->finish_on_close, true, "finish_on_close");
	is_int(s->client_watch, 250, "client_watch");
	is_int(s->client_fin, CLIENT_FIN_ABORT, "client_fin");
	is_int(s->orphans, ORPHANS_LEAVE, "orphans");
	is_int(s->script_control, true, "script_control");
	is_int(s->max_time_limit, 0, "max_time_limit");
	is_int(s->hard_time_limit, 0, "hard_time_limit");
	is_int(s->request_slowlog_timeout, 0, "request_slowlog_timeout");
	is_int(s->max_header_size, 65536, "max_header_size");
	for (i = 0; i < LIM_COUNT; i++)
		is_int(s->limit[i], 0, "limit");
	is_int(s->env_unset.n, 0, "env_unset");
	is_int(s->env_set.n, 0, "env_set");
}

static void
is_default_config(const struct config *c, const char *what)
{
	static const char *const roots[] = { "/usr/lib/cgi-bin" };
	enum opt	 i;

	is_defaults(&c->global.set, what);
	is_list(&c->roots, roots, 1, "default roots");
	is_int(c->roots_line, 0, "roots not set");
	is_str(c->log, "syslog", "default log");
	is_int(c->log_line, 0, "log not set");
	is_int(c->log_format, LOG_KV, "default log_format");
	is_int(c->log_format_line, 0, "log_format not set");
	is_int(c->fastcgi_timeout, 60000, "default fastcgi_timeout");
	is_int(c->fastcgi_timeout_line, 0, "fastcgi_timeout not set");
	is_int(c->alias_roots.n, 0, "no alias_roots: the URL walk is off");
	is_int(c->alias_roots_line, 0, "alias_roots not set");
	is_int(c->shim_chdir, true, "shim_chdir on");
	is_int(c->shim_chdir_line, 0, "shim_chdir not set");
	is_str(c->status_path, "", "no status_path by default");
	is_int(c->status_path_line, 0, "status_path not set");
	for (i = 0; i < OPT_COUNT; i++)
		if (c->global.origin[i] != 0)
			break;
	is_int(i, OPT_COUNT, "no origin set");
	is_int(c->global.nshutdown, 0, "no shutdown command");
	is_int(c->nscript, 0, "no script section");
}

static void
good(void)
{
	static const char *const roots[] = { "/usr/lib/cgi-bin", "/srv/cgi" };
	static const char *const unset[] = { "HTTP_COOKIE", "PERL5LIB" };
	static const char *const set[] = { "LANG=C.UTF-8", "EMPTY=",
	    "PATH=/usr/bin:/bin" };
	static const char *const audit[] = { "/usr/local/bin/cgi-audit" };
	static const char *const page[] = { "/usr/local/bin/page", "--urgent" };
	static const char *const notify[] = { "/usr/local/bin/notify",
	    "report" };
	static const char *const deep[] = { "MODE=deep" };
	const struct settings	*s;
	const struct level	*lv;
	struct config		*c;
	char			*err;
	enum opt		 i;

	err = load(CONF("good.conf"), false, &c);
	is_str(err, "", "good.conf: nothing on stderr");
	free(err);
	if (!ok(c != NULL, "good.conf loads"))
		return;
	is_str(c->path, CONF("good.conf"), "path kept");
	is_list(&c->roots, roots, 2, "roots");
	is_int(c->roots_line, 3, "roots line");
	is_str(c->log, "stderr", "log");
	is_int(c->log_line, 4, "log line");
	is_int(c->log_format, LOG_JSON, "log_format json");
	is_int(c->log_format_line, 53, "log_format line");
	is_int(c->fastcgi_timeout, 1500, "fastcgi_timeout 1500ms");
	is_int(c->fastcgi_timeout_line, 50, "fastcgi_timeout line");
	is_list(&c->alias_roots, roots + 1, 1, "alias_roots");
	is_int(c->alias_roots_line, 51, "alias_roots line");
	is_int(c->shim_chdir, false, "shim_chdir false");
	is_int(c->shim_chdir_line, 52, "shim_chdir line");

	s = &c->global.set;
	is_int(s->ignore_user_abort, true, "ignore_user_abort");
	is_int(s->max_execution_time, 120000, "max_execution_time 2m");
	is_int(s->kill_signal, SIGINT, "kill_signal SIGINT");
	is_int(s->kill_grace, 500, "kill_grace 500ms");
	is_int(s->notify_signal, SIGUSR1, "notify_signal usr1");
	is_int(s->finish_on_close, false, "finish_on_close");
	is_int(s->client_watch, 0, "client_watch 0");
	is_int(s->client_fin, CLIENT_FIN_IGNORE, "client_fin ignore");
	is_int(s->orphans, ORPHANS_KILL, "orphans kill");
	is_int(s->script_control, false, "script_control no");
	is_int(s->max_time_limit, 3600000, "max_time_limit 1h");
	is_int(s->hard_time_limit, 7200000, "hard_time_limit 2h");
	is_int(s->max_header_size, 8192, "max_header_size");
	is_int(s->limit[LIM_CPU], 10, "limit_cpu");
	is_int(s->limit[LIM_MEMORY], 1073741824, "limit_memory");
	is_int(s->limit[LIM_NPROC], 64, "limit_nproc");
	is_int(s->limit[LIM_NOFILE], 256, "limit_nofile");
	is_int(s->limit[LIM_FSIZE], 1048576, "limit_fsize");
	is_int(s->request_slowlog_timeout, 90000,
	    "request_slowlog_timeout 90s");
	is_list(&s->env_unset, unset, 2, "env_unset");
	is_list(&s->env_set, set, 3, "env_set");
	for (i = 0; i < OPT_COUNT; i++)
		if (c->global.origin[i] != (int)i + 5)
			break;
	is_int(i, OPT_COUNT, "each global option has its line, 5 to 25");

	lv = &c->global;
	ok(lv->glob == NULL, "global level has no glob");
	if (is_int(lv->nshutdown, 2, "two global shutdown commands")) {
		is_str(lv->shutdown[0].name, "audit", "first is audit");
		is_list(&lv->shutdown[0].argv, audit, 1, "audit argv");
		is_int(lv->shutdown[0].timeout, 30000, "default timeout 30s");
		is_int(lv->shutdown[0].when, 0, "audit runs on every status");
		is_int(lv->shutdown[0].line, 26, "audit line");
		is_str(lv->shutdown[1].name, "page", "second is page");
		is_list(&lv->shutdown[1].argv, page, 2, "page argv");
		is_int(lv->shutdown[1].timeout, 5000, "page timeout 5s");
		is_int(lv->shutdown[1].when, 1 << ST_ABORTED | 1 << ST_MAX,
		    "page when ABORTED and ABORTED,TIMEOUT");
		is_int(lv->shutdown[1].line, 27, "page starts on line 27");
	}

	if (!is_int(c->nscript, 3, "three script sections"))
		goto out;
	lv = &c->script[0];
	is_str(lv->glob, "/usr/lib/cgi-bin/report.cgi", "first glob");
	is_int(lv->line, 33, "first section line");
	is_int(lv->origin[OPT_IGNORE_USER_ABORT], 34, "ignore_user_abort line");
	is_int(lv->set.ignore_user_abort, false, "section ignore_user_abort");
	is_int(lv->origin[OPT_MAX_EXECUTION_TIME], 35, "section time line");
	is_int(lv->set.max_execution_time, 600000, "section 10m");
	is_int(lv->origin[OPT_ENV_UNSET], -1, "env_unset = {} is set, no line");
	is_int(lv->set.env_unset.n, 0, "section env_unset empty");
	is_int(lv->origin[OPT_KILL_SIGNAL], 0, "kill_signal not set here");
	is_int(lv->origin[OPT_ENV_SET], 0, "env_set not set here");
	if (is_int(lv->nshutdown, 1, "one section shutdown command")) {
		is_str(lv->shutdown[0].name, "notify", "section command name");
		is_list(&lv->shutdown[0].argv, notify, 2, "notify argv");
		is_int(lv->shutdown[0].when, 1 << ST_TIMEOUT, "when TIMEOUT");
		is_int(lv->shutdown[0].line, 37, "notify starts on line 37");
	}

	lv = &c->script[1];
	is_str(lv->glob, "*/report.cgi", "second glob");
	is_int(lv->line, 43, "second section line");
	is_int(lv->set.kill_signal, SIGKILL, "kill_signal = 9");
	is_int(lv->origin[OPT_KILL_SIGNAL], 44, "kill_signal line");
	is_int(lv->set.notify_signal, 0, "notify_signal \"\" is none");
	is_int(lv->origin[OPT_NOTIFY_SIGNAL], 45, "notify_signal \"\" is set");
	is_list(&lv->set.env_set, deep, 1, "section env_set");
	is_int(lv->nshutdown, 0, "no shutdown command in section two");

	lv = &c->script[2];
	is_str(lv->glob, "/srv/cgi/*", "third glob");
	is_int(lv->line, 49, "one-line section");
	is_int(lv->set.max_execution_time, 5000, "bare 5 is seconds");
	is_int(lv->origin[OPT_MAX_EXECUTION_TIME], 49, "its line");
	is_int(lv->set.hard_time_limit, 60000, "section hard_time_limit 1m");
	is_int(lv->origin[OPT_HARD_TIME_LIMIT], 49, "on the same line");
	is_int(lv->origin[OPT_IGNORE_USER_ABORT], 0, "the rest unset");
out:
	config_free(c);
}

static void
comments(void)
{
	static const char *const roots[] = { "/usr/lib/cgi-bin", "/srv/cgi" };
	static const char *const set[] = { "HOME=/nonexistent",
	    "A=#not a comment", "B=//nor this" };
	struct config	*c;
	char		*err;

	/* The environment is the request's: it must not reach the policy. */
	if (setenv("HOME", "/from/the/request", 1) == -1)
		return;
	err = load(CONF("comments.conf"), false, &c);
	is_str(err, "", "comments.conf: nothing on stderr");
	free(err);
	if (!ok(c != NULL, "comments in lists are fine"))
		return;
	is_list(&c->roots, roots, 2, "roots around comments");
	is_int(c->roots_line, 4, "a list's line is where it ends");
	is_int(c->log_line, 5, "comment lines count once");
	is_str(c->log, "/var/log/cgiwrap.log", "log path");
	is_list(&c->global.set.env_set, set, 3,
	    "no ${} expansion from the environment, # and // in strings kept");
	config_free(c);
}

static void
defaults(void)
{
	struct config	*c;
	char		*err;

	err = load(CONF("missing.conf"), true, &c);
	is_str(err, "", "missing file allowed: silent");
	free(err);
	if (ok(c != NULL, "missing file allowed: defaults")) {
		ok(c->path == NULL, "no path for built-in defaults");
		is_default_config(c, "missing file");
		config_free(c);
	}
	err = load(CONF("empty.conf"), false, &c);
	is_str(err, "", "empty file: silent");
	free(err);
	if (ok(c != NULL, "empty file: defaults")) {
		is_str(c->path, CONF("empty.conf"), "empty file path kept");
		is_default_config(c, "empty file");
		config_free(c);
	}
}

/* The file is refused with exactly one line on stderr: "cgiwrap: " want. */
static void
bad(const char *path, bool missing_ok, const char *want)
{
	struct config	*c;
	char		*err, line[PATH_MAX + 256];

	snprintf(line, sizeof(line), "cgiwrap: %s\n", want);
	err = load(path, missing_ok, &c);
	ok(c == NULL, "%s refused", path);
	is_str(err, line, want);
	free(err);
	config_free(c);
}

static void
bad_files(void)
{
	static const struct {
		const char	*file;
		const char	*line;
	} t[] = {
	    { "bad-unknown.conf", "3: kill_singal: no such option" },
	    { "bad-duration.conf",
		"4: max_execution_time: bad duration '1.5s'" },
	    { "bad-fastcgi.conf", "2: fastcgi_timeout: must be more than 0" },
	    { "bad-statuspath.conf",
		"1: status_path: 'status' does not start with /" },
	    { "bad-signal.conf", "7: kill_signal: unknown signal 'FOO'" },
	    { "bad-hard.conf", "3: hard_time_limit: bad duration 'soon'" },
	    { "bad-limit.conf", "2: limit_nofile: negative value '-1'" },
	    { "bad-header.conf", "1: max_header_size: 0 is less than 1" },
	    { "bad-glob.conf", "3: script: bad glob "
		"\"/usr/lib/cgi-bin/[ab.cgi\": unbalanced '['" },
	    { "bad-relglob.conf", "1: script: bad glob \"report.cgi\": "
		"does not start with '/' or '*'" },
	    { "bad-orphans.conf",
		"1: orphans: unknown value 'bury' (leave or kill)" },
	    { "bad-logformat.conf",
		"2: log_format: unknown value 'xml' (kv or json)" },
	    { "bad-clientfin.conf",
		"1: client_fin: unknown value 'close' (ignore or abort)" },
	    { "bad-when.conf", "3: when: unknown status 'TIMEDOUT'" },
	    { "bad-nocommand.conf",
		"3: command: missing or empty in shutdown \"audit\"" },
	    { "bad-relcommand.conf",
		"2: command: 'cgi-audit' is not an absolute path" },
	    { "bad-envset.conf", "1: env_set: '1X=y' is not NAME=VALUE" },
	    { "bad-envunset.conf",
		"1: env_unset: bad variable name 'NOT-A-NAME'" },
	    { "bad-dupscript.conf",
		"2: script: found duplicate title '/a/*'" },
	    { "bad-twoeq.conf", "1: kill_grace: unexpected token '='" },
	    { "bad-globline.conf", "2: script: bad glob "
		"\"/usr/lib/cgi-bin/[ab.cgi\": unbalanced '['" },
	    { "bad-roots.conf", "1: roots: 'cgi-bin' is not an absolute path" },
	    { "bad-aliasroots.conf",
		"1: alias_roots: 'legacy' is not an absolute path" },
	    { "bad-shimchdir.conf",
		"1: shim_chdir: not a boolean (true or false)" },
	    { "bad-log.conf", "1: log: 'syslog:daemon' is not syslog, "
		"stderr or an absolute path" },
	    { "bad-bool.conf",
		"1: ignore_user_abort: not a boolean (true or false)" },
	    { "bad-eof.conf", "2: '{' not closed at the end of the file" }
	};
	char	 path[PATH_MAX], want[PATH_MAX + 128];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), CONF("%s"), t[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, t[i].line);
		bad(path, false, want);
	}
}

/*
 * Every bad value is listed, each at its line, up to a syntax error,
 * which ends the parse: the bad limit after it is not reached.
 */
static void
bad_many(void)
{
	static const char *const lines[] = {
	    "1: kill_signal: unknown signal 'FOO'",
	    "2: script: bad glob \"/a/[b\": unbalanced '['",
	    "5: orphans: unknown value 'bury' (leave or kill)",
	    "10: env_set: '1X=2' is not NAME=VALUE",
	    "12: command: missing or empty in shutdown \"audit\"",
	    "16: fastcgi_timeout: must be more than 0",
	    "18: min_uid: 0 is not from 1 to 2147483647",
	    "20: script: bad glob \"x\": does not start with '/' or '*'",
	    "21: kill_grace: unexpected token '='"
	};
	struct config	*c;
	char		*err, want[1024];
	size_t		 i, len = 0;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		len += snprintf(want + len, sizeof(want) - len,
		    "cgiwrap: " CONF("bad-many.conf") ":%s\n", lines[i]);
	err = load(CONF("bad-many.conf"), false, &c);
	ok(c == NULL, "bad-many.conf refused");
	is_str(err, want, "every error listed, up to the syntax error");
	free(err);
	config_free(c);
}

static void
bad_mode(const char *path, mode_t mode)
{
	char	 want[PATH_MAX + 64];

	ok(chmod(path, mode) == 0, "mode %04o", (unsigned)mode);
	snprintf(want, sizeof(want), "%s: writable by group or others, "
	    "refused", path);
	bad(path, true, want);
}

static void
modes(void)
{
	char		 dir[] = "/tmp/t_config.XXXXXX", path[PATH_MAX];
	struct config	*c;
	char		*err;
	FILE		*fp;

	bad(CONF("missing.conf"),
	    false, CONF("missing.conf") ": No such file or directory");
	bad(CONF(""), true, CONF("") ": not a regular file");
	if (!ok(mkdtemp(dir) != NULL, "temporary directory"))
		return;
	snprintf(path, sizeof(path), "%s/cgiwrap.conf", dir);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("kill_grace = 1s\n", fp);
		fclose(fp);
	}
	bad_mode(path, 0664);
	bad_mode(path, 0646);
	ok(chmod(path, 0644) == 0, "mode 0644");
	err = load(path, false, &c);
	is_str(err, "", "mode 0644: silent");
	ok(c != NULL && c->global.set.kill_grace == 1000, "mode 0644: loaded");
	free(err);
	config_free(c);
	unlink(path);
	rmdir(dir);
}

static void
names(void)
{
	enum opt	 i, j;

	for (i = 0; i < OPT_COUNT; i++) {
		if (config_optname(i) == NULL)
			break;
		for (j = 0; j < i; j++)
			if (strcmp(config_optname(i), config_optname(j)) == 0)
				break;
		if (j < i)
			break;
	}
	is_int(i, OPT_COUNT, "every option has a name of its own");
	is_str(config_optname(OPT_IGNORE_USER_ABORT), "ignore_user_abort",
	    "first name");
	is_str(config_optname(OPT_KILL_SIGNAL), "kill_signal", "kill_signal");
	is_str(config_optname(OPT_LIMIT_NOFILE), "limit_nofile", "a limit");
	is_str(config_optname(OPT_ENV_SET), "env_set", "last name");
}

int
main(void)
{
	good();
	comments();
	defaults();
	bad_files();
	bad_many();
	modes();
	names();
	return done_testing();
}
