/*
 * cgiwrap: PHP-style connection handling for any CGI program.
 * This file only picks the mode and wires the modules together.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfgcache.h"
#include "config.h"
#include "fastcgi.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "request.h"
#include "server_cgi.h"
#include "status.h"
#include "suexec.h"
#include "target.h"

#define VERSION	"0.1"

extern char **environ;

/* With why, a usage error: "cgiwrap: why" first, then the usage. */
static void __attribute__((noreturn))
usage(const char *why)
{
	if (why != NULL)
		log_warnx("%s", why);
	fprintf(why ? stderr : stdout,
	    "usage: cgiwrap [-c file] -- program [argument ...]\n"
	    "       cgiwrap [-c file] [script]       (as a CGI handler)\n"
	    "       cgiwrap -f [-c file] [-s unix:path | -s host:port]"
	    " [-m mode] [-w workers]\n"
	    "       cgiwrap -t [-c file]\n"
	    "       cgiwrap -e path [-c file]\n"
	    "       cgiwrap -V | -h\n");
	exit(why ? 125 : 0);
}

/*
 * 0, 1 and 2 must be taken, or a pipe of ours could land there: one
 * poll(2) finds those that are not.
 */
static void
std_fds(void)
{
	struct pollfd p[3] = { { .fd = 0 }, { .fd = 1 }, { .fd = 2 } };
	int i;

	if (poll(p, 3, 0) == -1)
		fatal(125, "poll");
	for (i = 0; i < 3; i++)
		if ((p[i].revents & POLLNVAL) &&
		    open("/dev/null", O_RDWR) != i)
			fatal(125, "/dev/null");
}

/* -c, else CGIWRAP_CONFIG (set by the server), else the default. */
static const char *
config_path(const char *opt, bool *missing_ok)
{
	const char *env = getenv("CGIWRAP_CONFIG");

	*missing_ok = false;
	if (opt != NULL)
		return opt;
	if (env != NULL && *env != '\0')
		return env;
	*missing_ok = true;
	return CONFIG_DEFAULT;
}

/*
 * The file is parsed, and cached for the requests to come.  A user who
 * may not write the cache has only checked the file.
 */
static int
check(const char *path, bool missing_ok)
{
	struct config	*cfg;

	if ((cfg = config_load(path, missing_ok)) == NULL)
		return 1;
	printf("syntax ok\n");
	if (cfg->path != NULL && cfgcache_save(cfg) == -1 &&
	    errno != EACCES && errno != EPERM && errno != EROFS)
		log_warn("%s.cache", path);
	config_free(cfg);
	return 0;
}

static int
explain(const char *path, bool missing_ok, const char *target)
{
	struct config *cfg;
	char *real;

	if ((cfg = config_load(path, missing_ok)) == NULL)
		return 1;
	/* A path that does not exist yet can still be asked about. */
	real = realpath(target, NULL);
	policy_explain(cfg, real ? real : target, stdout);
	free(real);
	config_free(cfg);
	return 0;
}

static int
refused(struct request *rq, const struct target *t)
{
	sv_warn(rq->sv, 0, "refused: %s", t->why);
	respond(rq->sv, http_for(END_REFUSED, t->code), rq->nph);
	return exit_for(END_REFUSED, t->code);
}

/*
 * Explicit mode when argv holds the program, else a handler mode:
 * arg is the server's argument (lighttpd), words the ISINDEX words.
 */
static int
run(struct request *rq, const char *path, bool missing_ok, char **argv,
    const char *arg, char **words, int nwords)
{
	struct target t = { 0 };
	struct config *cfg;
	char **hargv = NULL;
	int code;

	if ((cfg = cfgcache_load(path, missing_ok)) == NULL) {
		respond(rq->sv, http_for(END_FAILED, 0), rq->nph);
		return exit_for(END_FAILED, 0);
	}
	/* A shim: the server would have run its program in its directory. */
	if (argv != NULL && target_explicit(&t, argv[0], cfg->shim_chdir &&
	    getenv("GATEWAY_INTERFACE") != NULL) == -1) {
		code = exit_for(END_LOOKUP, errno);
		log_warn("%s", argv[0]);
		respond(rq->sv, http_for(END_LOOKUP, 0), rq->nph);
	} else if (argv == NULL && target_handler(&t, cfg, environ, arg) == -1)
		code = refused(rq, &t);
	else if (argv == NULL &&
	    (hargv = target_argv(&t, arg, words, nwords)) == NULL)
		code = request_fail(rq, "argv");
	else {
		log_init(cfg->log, cfg->log_format);
		code = request_start(rq, cfg, &t, environ, argv ? argv : hargv);
	}
	free(hargv);
	target_free(&t);
	config_free(cfg);
	return code;
}

int
main(int argc, char *argv[])
{
	struct request rq = { .sv = &server_cgi };
	struct fastcgi fc = { .mode = 0660 };
	const char *conf = NULL, *explain_path = NULL, *path, *sf;
	bool test = false, fcgi = false, missing_ok, explicit;
	long n;
	char *end, opt[32];
	int ch, nopt;

	clock_gettime(CLOCK_MONOTONIC, &rq.start);
	program_invocation_short_name = (char *)"cgiwrap";
	std_fds();
	/* Set up by Apache and by root: no option, no CGIWRAP_CONFIG. */
	if (suexec_mode(argv[0]))
		return suexec_main(&rq, argc, argv);
	/* Its messages would start with argv[0]; ours are said below. */
	opterr = 0;

	/* Words a server made of an ISINDEX query are never options. */
	nopt = argc - target_isindex(argc, argv, environ);
	while ((ch = getopt(nopt, argv, "+:c:e:fhm:s:tVw:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fcgi = true;
			break;
		case 'm':
			n = strtol(optarg, &end, 8);
			if (*optarg == '\0' || *end != '\0' || n < 0 ||
			    n > 0777)
				fatalx(125, "-m %s: not an octal mode", optarg);
			fc.mode = (mode_t)n;
			break;
		case 's':
			fc.socket = optarg;
			break;
		case 'w':
			if (parse_number(optarg, &n) == -1 || n < 1 || n > 1024)
				fatalx(125, "-w %s: want 1 to 1024 workers",
				    optarg);
			fc.workers = (int)n;
			break;
		case 'e':
			explain_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("cgiwrap %s\n", VERSION);
			return 0;
		case 'h':
			usage(NULL);
		case ':':
			snprintf(opt, sizeof(opt), "-%c: needs an argument",
			    optopt);
			usage(opt);
		default:
			snprintf(opt, sizeof(opt), "-%c: unknown option",
			    optopt);
			usage(opt);
		}
	}
	path = config_path(conf, &missing_ok);
	if (test)
		return check(path, missing_ok);
	if (explain_path != NULL)
		return explain(path, missing_ok, explain_path);

	explicit = optind >= 2 && strcmp(argv[optind - 1], "--") == 0;
	if (fcgi || (!explicit && optind == nopt && fastcgi_inherited())) {
		if (fc.workers == 0 && (fc.workers = (int)sysconf(
		    _SC_NPROCESSORS_ONLN)) < 1)
			fc.workers = 1;
		fc.config = path;
		fc.missing_ok = missing_ok;
		return fastcgi_serve(&fc);
	}
	/* The server decides nph- by the name of what it ran. */
	sf = getenv("SCRIPT_FILENAME");
	if (explicit) {
		if (optind >= argc)
			usage("no program after --");
		rq.nph = target_nph(sf ? sf : argv[optind]);
		return run(&rq, path, missing_ok, argv + optind, NULL, NULL, 0);
	}
	if (optind + 1 < nopt)
		usage("more than one script");
	if (optind == nopt && getenv("GATEWAY_INTERFACE") == NULL)
		usage("no program, and not run by a web server");
	rq.nph = sf != NULL && target_nph(sf);
	return run(&rq, path, missing_ok, NULL,
	    optind < nopt ? argv[optind] : NULL, argv + nopt, argc - nopt);
}
