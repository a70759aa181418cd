/* The child's environment, assembled in one pass from its parts. */
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "tap.h"

/* The environment built from p, as "A=1 B=2", or "(fail)". */
static void
build(const struct env_parts *p, const char *want, const char *name)
{
	struct env e = { 0 };
	char got[1024] = "";
	size_t i;

	if (env_build(&e, p) == -1)
		strcpy(got, "(fail)");
	for (i = 0; i < e.n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		    i ? " " : "", e.v[i]);
	is_str(got, want, name);
	ok(e.n == 0 || e.v[e.n] == NULL, "%s: NULL-terminated", name);
	env_free(&e);
}

static void
policy(void)
{
	char *from[] = { "A=1", "HTTP_PROXY=http://evil", "CGIWRAP_STATUS=2",
	    "CGIWRAP_CONFIG=/c", "NOEQ", "GONE=1", "X=one", "X=two",
	    "GONE_NOT=1", NULL };
	char *un[] = { "GONE", NULL }, *set[] = { "X=set", "NEW=1", "NEW=2",
	    NULL };
	struct strlist unset = { un, 1 }, sets = { set, 3 };

	build(&(struct env_parts){ from, NULL, NULL, NULL },
	    "A=1 CGIWRAP_CONFIG=/c GONE=1 X=one X=two GONE_NOT=1",
	    "the server's, less HTTP_PROXY and CGIWRAP_* but CGIWRAP_CONFIG");
	build(&(struct env_parts){ from, &unset, &sets, NULL },
	    "A=1 CGIWRAP_CONFIG=/c GONE_NOT=1 X=set NEW=2",
	    "env_unset by whole name, env_set replaces every copy, the last "
	    "env_set of a name wins");
	build(&(struct env_parts){ NULL, NULL, &sets, NULL }, "X=set NEW=2",
	    "no variables from the server");
}

static void
handler(void)
{
	char *from[] = { "SCRIPT_NAME=/cgi-bin/cgiwrap", "PATH_INFO=/s.cgi/x",
	    "PATH_TRANSLATED=/r/s.cgi/x", "SCRIPT_FILENAME=/usr/bin/cgiwrap",
	    "A=1", NULL };
	char *set[] = { "SCRIPT_NAME=policy", "B=2", NULL };
	struct strlist sets = { set, 2 };
	struct script alias = { .set = true, .name = "/s.cgi",
	    .filename = "/r/s.cgi", .path_info = "/x" };

	build(&(struct env_parts){ from, NULL, &sets, &alias },
	    "A=1 B=2 SCRIPT_NAME=/s.cgi SCRIPT_FILENAME=/r/s.cgi PATH_INFO=/x",
	    "the script's variables replace the server's and env_set's; an "
	    "unset one goes");
	build(&(struct env_parts){ from, NULL, NULL,
	    &(struct script){ .set = false } },
	    "SCRIPT_NAME=/cgi-bin/cgiwrap PATH_INFO=/s.cgi/x "
	    "PATH_TRANSLATED=/r/s.cgi/x SCRIPT_FILENAME=/usr/bin/cgiwrap A=1",
	    "lighttpd's argument: the server's stand");
}

static void
action(void)
{
	char *from[] = { "REDIRECT_STATUS=200", "REDIRECT_URL=/s.cgi",
	    "REDIRECT_HANDLER=cgiwrap-handler",
	    "REDIRECT_REDIRECT_STATUS=404", "REDIRECT_REDIRECT_URL=/e.cgi",
	    "REDIRECT_REDIRECT_REDIRECT_X=3", "REQUEST_URI=/gone?q=1",
	    "REDIRECT_=1", "A=1", "CGIT_CONFIG=/handler",
	    "REDIRECT_CGIT_CONFIG=/script", "REDIRECT_HTTP_PROXY=x",
	    "REDIRECT_CGIWRAP_STATUS=1", "REDIRECT_GONE=1", NULL };
	char *set[] = { "REDIRECT_P=1", "REDIRECT_REDIRECT_Q=2",
	    "REDIRECT_REDIRECT_STATUS=500", NULL };
	char *un[] = { "GONE", NULL };
	struct strlist sets = { set, 3 }, unset = { un, 1 };
	struct script s = { .set = true, .peel = true, .name = "/s.cgi",
	    .filename = "/r/s.cgi" };
	struct script earlier = s;

	build(&(struct env_parts){ from, NULL, NULL, &s },
	    "REDIRECT_STATUS=404 REDIRECT_URL=/e.cgi "
	    "REDIRECT_REDIRECT_X=3 REQUEST_URI=/gone?q=1 A=1 "
	    "CGIT_CONFIG=/script GONE=1 "
	    "SCRIPT_NAME=/s.cgi SCRIPT_FILENAME=/r/s.cgi",
	    "an Action: one redirect peeled, the request's own variables "
	    "under their names, in place of the handler's");
	build(&(struct env_parts){ from, &unset, &sets, &s },
	    "REDIRECT_URL=/e.cgi REDIRECT_REDIRECT_X=3 REQUEST_URI=/gone?q=1 "
	    "A=1 CGIT_CONFIG=/script P=1 REDIRECT_Q=2 REDIRECT_STATUS=500 "
	    "SCRIPT_NAME=/s.cgi SCRIPT_FILENAME=/r/s.cgi",
	    "an Action: env_set is peeled too, and replaces what it names "
	    "before the peeling; env_unset names the peeled variable");
	earlier.redirect_url = "/gone";
	earlier.redirect_query = "q=1";
	build(&(struct env_parts){ from, NULL, NULL, &earlier },
	    "REDIRECT_STATUS=404 REDIRECT_REDIRECT_X=3 "
	    "REQUEST_URI=/gone?q=1 A=1 CGIT_CONFIG=/script GONE=1 "
	    "REDIRECT_URL=/gone REDIRECT_QUERY_STRING=q=1 "
	    "SCRIPT_NAME=/s.cgi SCRIPT_FILENAME=/r/s.cgi",
	    "an Action after a redirect: its URL and query from the target");
}

static void
shutdown_cmds(void)
{
	char *program[] = { "A=1", "CGIWRAP_CONFIG=/c", "CGIWRAP_CONTROL_FD=3",
	    "HTTP_PROXY=x", NULL };
	char *st[] = { "CGIWRAP_STATUS=1", "CGIWRAP_HTTP_STATUS=", NULL };
	struct strlist status = { st, 2 };

	build(&(struct env_parts){ .from = program, .set = &status },
	    "A=1 CGIWRAP_CONFIG=/c CGIWRAP_STATUS=1 CGIWRAP_HTTP_STATUS=",
	    "a shutdown command: the program's, no CGIWRAP_CONTROL_FD, the "
	    "status");
}

int
main(void)
{
	policy();
	handler();
	action();
	shutdown_cmds();
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
