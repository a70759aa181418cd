/* Matching script sections, resolving the policy and explaining it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "tap.h"

#define GOOD	"tests/unit/conf/good.conf"

static char *
explain(const struct config *c, const char *target)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 len;

	if ((fp = open_memstream(&text, &len)) == NULL) {
		perror("t_policy: open_memstream");
		exit(2);
	}
	policy_explain(c, target, fp);
	if (ferror(fp) || fclose(fp) != 0) {
		perror("t_policy: explain");
		exit(2);
	}
	return text;
}

/* text has line, which is framed by newlines to be a whole line. */
static void
has(const char *text, const char *line)
{
	const char	*name = line + (*line == '\n');

	if (!ok(strstr(text, line) != NULL, "explain has: %.*s",
	    (int)strcspn(name, "\n"), name))
		printf("# in:\n%s", text);
}

static void
matching(const struct config *c)
{
	is_int(policy_match(c, "/usr/lib/cgi-bin/report.cgi") - c->script, 0,
	    "exact path: first section");
	is_int(policy_match(c, "/srv/cgi/deep/dir/report.cgi") - c->script, 1,
	    "*/report.cgi matches a deep path, before /srv/cgi/*");
	is_int(policy_match(c, "/srv/cgi/other.cgi") - c->script, 2,
	    "/srv/cgi/* after the others");
	is_int(policy_match(c, "/srv/cgi/sub/dir/other.cgi") - c->script, 2,
	    "* matches / too");
	ok(policy_match(c, "/usr/lib/cgi-bin/hello.cgi") == NULL,
	    "no section for hello.cgi");
	ok(policy_match(c, "/usr/lib/cgi-bin/report.cgi.bak") == NULL,
	    "report.cgi.bak is not report.cgi");
	ok(policy_match(c, "report.cgi") == NULL, "*/ wants a slash");
}

static void
resolving(const struct config *c)
{
	struct policy	 p;

	policy_resolve(c, "/usr/lib/cgi-bin/report.cgi", &p);
	ok(p.section == &c->script[0], "report.cgi: first section");
	is_int(p.set.ignore_user_abort, false, "section ignore_user_abort");
	is_int(p.set.max_execution_time, 600000, "section 10m");
	is_int(p.set.kill_signal, SIGINT, "global kill_signal");
	is_int(p.set.notify_signal, SIGUSR1, "global notify_signal");
	is_int(p.set.limit[LIM_NPROC], 64, "global limit_nproc");
	is_int(p.set.env_unset.n, 0, "section empties env_unset");
	is_int(p.set.env_set.n, 3, "global env_set");
	ok(p.shutdown[0] == c->global.shutdown && p.nshutdown[0] == 2,
	    "global shutdown commands first");
	ok(p.shutdown[1] == c->script[0].shutdown && p.nshutdown[1] == 1,
	    "then the section's");

	policy_resolve(c, "/srv/cgi/deep/dir/report.cgi", &p);
	ok(p.section == &c->script[1], "deep report.cgi: second section");
	is_int(p.set.hard_time_limit, 7200000, "global hard_time_limit");
	is_int(p.set.kill_signal, SIGKILL, "section kill_signal");
	is_int(p.set.notify_signal, 0, "section turns notify_signal off");
	is_int(p.set.max_execution_time, 120000, "global 2m");
	ok(p.set.env_set.n == 1 && strcmp(p.set.env_set.v[0], "MODE=deep") == 0,
	    "section env_set replaces the global one");
	is_int(p.set.env_unset.n, 2, "global env_unset");
	is_int(p.nshutdown[0], 2, "global shutdown commands");
	is_int(p.nshutdown[1], 0, "none of the section");

	policy_resolve(c, "/usr/lib/cgi-bin/hello.cgi", &p);
	ok(p.section == NULL, "hello.cgi: no section");
	ok(memcmp(&p.set, &c->global.set, sizeof(p.set)) == 0,
	    "hello.cgi: the global settings");
	ok(p.nshutdown[0] == 2 && p.nshutdown[1] == 0,
	    "hello.cgi: global shutdown commands only");
}

static void
explaining(const struct config *c)
{
	const char	*want =
	    "# target /usr/lib/cgi-bin/report.cgi\n"
	    "# config " GOOD "\n"
	    "# section script \"/usr/lib/cgi-bin/report.cgi\" at " GOOD ":33\n"
	    "roots = {\"/usr/lib/cgi-bin\", \"/srv/cgi\"}  # " GOOD ":3 (global)\n"
	    "log = \"stderr\"  # " GOOD ":4 (global)\n"
	    "log_format = json  # " GOOD ":53 (global)\n"
	    "fastcgi_timeout = 1500ms  # " GOOD ":50 (global)\n"
	    "alias_roots = {\"/srv/cgi\"}  # " GOOD ":51 (global)\n"
	    "shim_chdir = false  # " GOOD ":52 (global)\n"
	    "status_path = \"\"  # default\n"
	    "ignore_user_abort = false  # " GOOD ":34 "
	    "(script \"/usr/lib/cgi-bin/report.cgi\")\n"
	    "max_execution_time = 10m  # " GOOD ":35 "
	    "(script \"/usr/lib/cgi-bin/report.cgi\")\n"
	    "kill_signal = INT  # " GOOD ":7 (global)\n"
	    "kill_grace = 500ms  # " GOOD ":8 (global)\n"
	    "notify_signal = USR1  # " GOOD ":9 (global)\n"
	    "finish_on_close = false  # " GOOD ":10 (global)\n"
	    "client_watch = 0  # " GOOD ":11 (global)\n"
	    "client_fin = ignore  # " GOOD ":12 (global)\n"
	    "orphans = kill  # " GOOD ":13 (global)\n"
	    "script_control = false  # " GOOD ":14 (global)\n"
	    "max_time_limit = 1h  # " GOOD ":15 (global)\n"
	    "hard_time_limit = 2h  # " GOOD ":16 (global)\n"
	    "max_header_size = 8192  # " GOOD ":17 (global)\n"
	    "limit_cpu = 10  # " GOOD ":18 (global)\n"
	    "limit_memory = 1073741824  # " GOOD ":19 (global)\n"
	    "limit_nproc = 64  # " GOOD ":20 (global)\n"
	    "limit_nofile = 256  # " GOOD ":21 (global)\n"
	    "limit_fsize = 1048576  # " GOOD ":22 (global)\n"
	    "env_unset = {}  # " GOOD " (script \"/usr/lib/cgi-bin/report.cgi\")\n"
	    "env_set = {\"LANG=C.UTF-8\", \"EMPTY=\", \"PATH=/usr/bin:/bin\"}  # "
	    GOOD ":24 (global)\n"
	    "request_slowlog_timeout = 90s  # " GOOD ":25 (global)\n"
	    "shutdown \"audit\" { command = {\"/usr/local/bin/cgi-audit\"} "
	    "timeout = 30s when = {} }  # " GOOD ":26 (global)\n"
	    "shutdown \"page\" { command = {\"/usr/local/bin/page\", "
	    "\"--urgent\"} timeout = 5s when = {\"ABORTED\", "
	    "\"ABORTED,TIMEOUT\"} }  # " GOOD ":27 (global)\n"
	    "shutdown \"notify\" { command = {\"/usr/local/bin/notify\", "
	    "\"report\"} timeout = 30s when = {\"TIMEOUT\"} }  # " GOOD ":37 "
	    "(script \"/usr/lib/cgi-bin/report.cgi\")\n";
	char		*text;

	text = explain(c, "/usr/lib/cgi-bin/report.cgi");
	is_str(text, want, "explain report.cgi, every line");
	free(text);

	text = explain(c, "/srv/cgi/a/report.cgi");
	has(text, "# section script \"*/report.cgi\" at " GOOD ":43\n");
	has(text, "\nkill_signal = KILL  # " GOOD ":44 "
	    "(script \"*/report.cgi\")\n");
	has(text, "\nnotify_signal = none  # " GOOD ":45 "
	    "(script \"*/report.cgi\")\n");
	has(text, "\nmax_execution_time = 2m  # " GOOD ":6 (global)\n");
	ok(strstr(text, "notify\"") == NULL, "no other section's command");
	free(text);

	text = explain(c, "/srv/cgi/other.cgi");
	has(text, "\nhard_time_limit = 1m  # " GOOD ":49 "
	    "(script \"/srv/cgi/*\")\n");
	has(text, "\nmax_execution_time = 5s  # " GOOD ":49 "
	    "(script \"/srv/cgi/*\")\n");
	free(text);

	text = explain(c, "/usr/lib/cgi-bin/hello.cgi");
	has(text, "# section none: global level only\n");
	has(text, "\nmax_execution_time = 2m  # " GOOD ":6 (global)\n");
	free(text);
}

static void
explaining_defaults(void)
{
	struct config	*c;
	char		*text, *p;
	int		 n;

	if (!ok((c = config_load("tests/unit/conf/missing.conf", true)) != NULL,
	    "built-in defaults"))
		return;
	text = explain(c, "/usr/lib/cgi-bin/x.cgi");
	has(text, "# config none: built-in defaults\n");
	has(text, "# section none: global level only\n");
	has(text, "\nroots = {\"/usr/lib/cgi-bin\"}  # default\n");
	has(text, "\nlog = \"syslog\"  # default\n");
	has(text, "\nlog_format = kv  # default\n");
	has(text, "\nfastcgi_timeout = 1m  # default\n");
	has(text, "\nalias_roots = {}  # default\n");
	has(text, "\nshim_chdir = true  # default\n");
	has(text, "\nstatus_path = \"\"  # default\n");
	has(text, "\nignore_user_abort = false  # default\n");
	has(text, "\nmax_execution_time = 30s  # default\n");
	has(text, "\nkill_signal = TERM  # default\n");
	has(text, "\nkill_grace = 3s  # default\n");
	has(text, "\nnotify_signal = none  # default\n");
	has(text, "\nclient_watch = 250ms  # default\n");
	has(text, "\nclient_fin = abort  # default\n");
	has(text, "\norphans = leave  # default\n");
	has(text, "\nhard_time_limit = 0  # default\n");
	has(text, "\nmax_header_size = 65536  # default\n");
	has(text, "\nenv_set = {}  # default\n");
	for (n = 0, p = text; (p = strstr(p, "  # default\n")) != NULL; p++)
		n++;
	is_int(n, OPT_COUNT + 7, "every setting, roots, log, log_format, "
	    "fastcgi_timeout, alias_roots, shim_chdir and status_path: "
	    "default");
	ok(strstr(text, "shutdown") == NULL, "no shutdown command");
	free(text);
	config_free(c);
}

int
main(void)
{
	struct config	*c;

	if (!ok((c = config_load(GOOD, false)) != NULL, "good.conf loads"))
		return done_testing();
	matching(c);
	resolving(c);
	explaining(c);
	config_free(c);
	explaining_defaults();
	return done_testing();
}
