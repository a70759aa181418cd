/* The configuration file, loaded with libconfuse into plain structures. */
#ifndef CGIWRAP_CONFIG_H
#define CGIWRAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT	"/etc/cgiwrap.conf"

enum orphans { ORPHANS_LEAVE, ORPHANS_KILL };

enum client_fin { CLIENT_FIN_IGNORE, CLIENT_FIN_ABORT };

enum limit { LIM_CPU, LIM_MEMORY, LIM_NPROC, LIM_NOFILE, LIM_FSIZE, LIM_COUNT };

/* Options a script section may override; the order of struct settings. */
enum opt {
	OPT_IGNORE_USER_ABORT,
	OPT_MAX_EXECUTION_TIME,
	OPT_KILL_SIGNAL,
	OPT_KILL_GRACE,
	OPT_NOTIFY_SIGNAL,
	OPT_FINISH_ON_CLOSE,
	OPT_CLIENT_WATCH,
	OPT_CLIENT_FIN,
	OPT_ORPHANS,
	OPT_SCRIPT_CONTROL,
	OPT_MAX_TIME_LIMIT,
	OPT_HARD_TIME_LIMIT,
	OPT_MAX_HEADER_SIZE,
	OPT_LIMIT_CPU,
	OPT_LIMIT_MEMORY,
	OPT_LIMIT_NPROC,
	OPT_LIMIT_NOFILE,
	OPT_LIMIT_FSIZE,
	OPT_ENV_UNSET,
	OPT_ENV_SET,
	OPT_REQUEST_SLOWLOG_TIMEOUT,
	OPT_COUNT
};

/* v[n] is NULL (v may be NULL itself when n is 0), so v can be an argv. */
struct strlist {
	char		**v;
	size_t		  n;
};

struct shutdown_cmd {
	char		 *name;
	struct strlist	  argv;
	int64_t		  timeout;	/* ms */
	unsigned	  when;		/* bits 1 << status; 0 = every one */
	int		  line;
};

/* Durations are in milliseconds, sizes in bytes, 0 means none/unlimited. */
struct settings {
	bool		  ignore_user_abort;
	int64_t		  max_execution_time;
	int		  kill_signal;
	int64_t		  kill_grace;
	int		  notify_signal;	/* 0 = none */
	bool		  finish_on_close;
	int64_t		  client_watch;
	enum client_fin	  client_fin;
	enum orphans	  orphans;
	bool		  script_control;
	int64_t		  max_time_limit;
	int64_t		  hard_time_limit;	/* from the start */
	long		  max_header_size;
	long		  limit[LIM_COUNT];
	struct strlist	  env_unset;
	struct strlist	  env_set;	/* "NAME=VALUE" */
	int64_t		  request_slowlog_timeout;	/* from the start */
};

/*
 * One level of the file: the global level or a script section.  The
 * global level holds every setting (defaults filled in); a script
 * section only those with an origin.  An origin of -1 is an option set
 * to an empty list: libconfuse reports no line for "name = {}".
 */
struct level {
	char		 *glob;		/* NULL for the global level */
	int		  line;		/* where the section starts */
	struct settings	  set;
	int		  origin[OPT_COUNT];	/* its line, 0 = not set */
	struct shutdown_cmd *shutdown;
	size_t		  nshutdown;
};

/* The suexec section: who may call the suexec mode, for whom, where. */
struct suexec_conf {
	bool		  set;		/* the file has the section */
	char		 *caller;	/* the web server's user */
	char		 *docroot;
	char		 *userdir_suffix;	/* of ~user requests */
	long		  min_uid, min_gid;
	struct strlist	  allow_users;	/* below min_uid all the same */
	struct strlist	  allow_groups;	/* below min_gid all the same */
};

struct config {
	char		 *path;		/* NULL: built-in defaults */
	uint64_t	  textsum;	/* of the text it was read from */
	struct strlist	  roots;
	int		  roots_line;
	char		 *log;		/* "syslog", "stderr" or a path */
	int		  log_line;
	int		  log_format;	/* enum log_format (log.h) */
	int		  log_format_line;
	int64_t		  fastcgi_timeout;	/* ms, more than 0 */
	int		  fastcgi_timeout_line;
	struct strlist	  alias_roots;	/* walked for a URL; none: off */
	int		  alias_roots_line;
	bool		  shim_chdir;	/* a shim's program runs in its dir */
	int		  shim_chdir_line;
	char		 *status_path;	/* FastCGI status page; "" = none */
	int		  status_path_line;
	struct level	  global;
	struct level	 *script;
	size_t		  nscript;
	struct suexec_conf suexec;
};

/*
 * Load a configuration file.  A missing file is an error unless
 * missing_ok, in which case the built-in defaults are returned.  Every
 * problem is reported on stderr as "cgiwrap: FILE:LINE: option: reason";
 * then NULL is returned.
 */
struct config	*config_load(const char *path, bool missing_ok);
void		 config_free(struct config *);

/* Name of an option as written in the file. */
const char	*config_optname(enum opt);

/* How the value of a setting is written and stored. */
enum optkind {
	OPTK_BOOL,		/* bool */
	OPTK_DURATION,		/* int64_t, milliseconds */
	OPTK_SIGNAL,		/* int; 0 (none, "") allowed if min is 0 */
	OPTK_WORD,		/* an enum, written as one of two words */
	OPTK_NUMBER,		/* long, at least min */
	OPTK_NAMES,		/* struct strlist of variable names */
	OPTK_ASSIGNS		/* struct strlist of "NAME=VALUE" */
};

/* One setting: its name, kind and place in struct settings. */
struct optdesc {
	const char	*name;
	enum optkind	 kind;
	size_t		 offset;
	size_t		 size;
	long		 min;
	const char *const *words;	/* OPTK_WORD: the words of 0 and 1 */
};

/* Indexed by enum opt. */
extern const struct optdesc config_opts[OPT_COUNT];

/* log_format: global only, a word like a setting's. */
extern const struct optdesc config_log_format;

#endif
