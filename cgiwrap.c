/*
 * cgiwrap: PHP-style connection handling for any CGI program.
 * This file only picks the mode and wires the modules together.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "policy.h"
#include "relay.h"
#include "request.h"
#include "target.h"

#define VERSION	"0.1"

extern char **environ;

static void __attribute__((noreturn))
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: cgiwrap [-c file] -- program [argument ...]\n"
	    "       cgiwrap -t [-c file]\n"
	    "       cgiwrap -e path [-c file]\n"
	    "       cgiwrap -V | -h\n");
	exit(code ? 125 : 0);
}

/* 0, 1 and 2 must be taken, or a pipe of ours could land there. */
static void
std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
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

static int
check(const char *path, bool missing_ok)
{
	struct config *cfg;

	if ((cfg = config_load(path, missing_ok)) == NULL)
		return 1;
	printf("syntax ok\n");
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
run(struct request *rq, const char *path, bool missing_ok, char **argv)
{
	struct config *cfg;
	char *target;
	int e, code;

	rq->nph = target_nph(argv[0]);
	if ((cfg = config_load(path, missing_ok)) == NULL) {
		respond(STDOUT_FILENO, 500, rq->nph);
		return 125;
	}
	if ((target = target_explicit(argv[0])) == NULL) {
		e = errno;
		warnx("%s: %s", argv[0], strerror(e));
		respond(STDOUT_FILENO, 500, rq->nph);
		return e == EACCES ? 126 : 127;
	}
	rq->cfg = cfg;
	rq->target = target;
	rq->argv = argv;
	rq->cgi = environ;
	policy_resolve(cfg, target, &rq->pol);
	log_init(cfg->log);
	if (env_child(&rq->env, environ, &rq->pol.set) == -1) {
		warn("%s: environment", target);
		respond(STDOUT_FILENO, 503, rq->nph);
		code = 125;
	} else
		code = request_run(rq);
	env_free(&rq->env);
	free(target);
	config_free(cfg);
	return code;
}

int
main(int argc, char *argv[])
{
	struct request rq = { 0 };
	const char *conf = NULL, *explain_path = NULL, *path;
	bool test = false, missing_ok;
	int ch;

	clock_gettime(CLOCK_MONOTONIC, &rq.start);
	program_invocation_short_name = (char *)"cgiwrap";
	std_fds();

	while ((ch = getopt(argc, argv, "+c:e:htV")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
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
			usage(0);
		default:
			usage(1);
		}
	}
	path = config_path(conf, &missing_ok);
	if (test)
		return check(path, missing_ok);
	if (explain_path != NULL)
		return explain(path, missing_ok, explain_path);
	/* Explicit mode needs the "--": nothing else names a program. */
	if (optind < 2 || strcmp(argv[optind - 1], "--") != 0 ||
	    optind >= argc)
		usage(1);
	return run(&rq, path, missing_ok, argv + optind);
}
