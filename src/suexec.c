/*
 * Apache's suEXEC helper.  With mod_suexec (SuexecUserGroup) or a ~user
 * URL of mod_userdir, Apache runs SUEXEC_BIN USER GROUP PROGRAM [ARG ...]
 * as its own user, from the program's directory, with the CGI
 * environment, and keeps all of its own CGI handling; it does so only
 * when that file is setuid root.  Here cgiwrap makes every check of
 * Apache's support/suexec.c, in its order and with its exit statuses,
 * then runs the program through the whole engine.
 *
 * As root only the root-owned configuration, the arguments and the
 * user and group databases are read; the request's environment is set
 * aside untouched until the process is the target user, and the
 * supervisor, the program and the shutdown commands are all started
 * after that switch.
 */
#include <sys/auxv.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgcache.h"
#include "config.h"
#include "log.h"
#include "suexec.h"
#include "target.h"

#define PASSWD		"/etc/passwd"
#define GROUP		"/etc/group"
#define SAFE_PATH	"/usr/local/bin:/usr/bin:/bin"
#define SAFE_UMASK	022

/* Apache's suexec's exit statuses, one per check. */
enum {
	SX_CONFIG = 1,		/* its log could not be opened: our config */
	SX_ARGS = 101,
	SX_CALLER_UID = 102,
	SX_CALLER = 103,
	SX_COMMAND = 104,
	SX_USER = 105,
	SX_GROUP = 106,
	SX_UID = 107,
	SX_GID = 108,
	SX_SETGID = 109,
	SX_SETUID = 110,
	SX_CWD = 111,
	SX_USERDIR = 112,
	SX_DOCROOT = 113,
	SX_OUTSIDE = 114,
	SX_DIR = 115,
	SX_DIR_WRITABLE = 116,
	SX_PROGRAM = 117,
	SX_PROG_WRITABLE = 118,
	SX_PROG_SETID = 119,
	SX_OWNER = 120,
	SX_NOEXEC = 121
};

/* Apache's suexec's safe list: what may pass, exactly these names. */
static const char *const safe_env[] = {
	"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE",
	"CONTEXT_DOCUMENT_ROOT", "CONTEXT_PREFIX", "DATE_GMT", "DATE_LOCAL",
	"DOCUMENT_ARGS", "DOCUMENT_NAME", "DOCUMENT_PATH_INFO",
	"DOCUMENT_ROOT", "DOCUMENT_URI", "GATEWAY_INTERFACE", "HTTPS",
	"LAST_MODIFIED", "PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING",
	"QUERY_STRING_UNESCAPED", "REMOTE_ADDR", "REMOTE_HOST",
	"REMOTE_IDENT", "REMOTE_PORT", "REMOTE_USER", "REDIRECT_ERROR_NOTES",
	"REDIRECT_HANDLER", "REDIRECT_QUERY_STRING", "REDIRECT_REMOTE_USER",
	"REDIRECT_SCRIPT_FILENAME", "REDIRECT_STATUS", "REDIRECT_URL",
	"REQUEST_METHOD", "REQUEST_SCHEME", "REQUEST_URI", "SCRIPT_FILENAME",
	"SCRIPT_NAME", "SCRIPT_URI", "SCRIPT_URL", "SERVER_ADMIN",
	"SERVER_ADDR", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
	"SERVER_SIGNATURE", "SERVER_SOFTWARE", "TZ", "UNIQUE_ID", "USER_NAME",
	NULL
};

/* ... and these prefixes: the client's headers, mod_ssl's variables. */
static const char *const safe_prefix[] = { "HTTP_", "SSL_", NULL };

/* Who the program runs as, and where. */
struct ident {
	uid_t	 uid;
	gid_t	 gid;
	char	*user;		/* the target's login name */
	char	*home;
	bool	 userdir;	/* a ~user request */
	char	*cwd;
};

bool
suexec_mode(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	return getauxval(AT_SECURE) != 0 ||
	    strcmp(base != NULL ? base + 1 : argv0, "suexec") == 0;
}

/*
 * One line naming the check, on stderr: Apache's error log.  What the
 * request named (the command) is escaped as in every message.
 */
static int __attribute__((format(printf, 3, 4)))
deny(int code, const char *check, const char *fmt, ...)
{
	char	 why[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("suexec: refused (%s): %s", check, why);
	return code;
}

/*
 * The configuration is root's to write: the file and every directory
 * above it owned by root and writable by nobody else, so nobody else
 * can change or replace it between this check and the read.
 */
static int
trusted(const char *path)
{
	struct stat	 st;
	char		*p, *slash;
	const char	*at;
	bool		 file;
	int		 code = 0;

	if ((p = strdup(path)) == NULL)
		return deny(SX_CONFIG, "config", "%s", strerror(errno));
	for (file = true; code == 0; file = false) {
		at = *p != '\0' ? p : "/";
		if (lstat(at, &st) == -1)
			code = deny(SX_CONFIG, "config", "%s: %s", at,
			    strerror(errno));
		else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
		    !(file ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode)))
			code = deny(SX_CONFIG, "config", "%s: not a %s owned "
			    "and writable only by root", at,
			    file ? "regular file" : "directory");
		else if (*p == '\0' || (slash = strrchr(p, '/')) == NULL)
			break;
		else
			*slash = '\0';
	}
	free(p);
	return code;
}

/* A uid or gid written in digits, "#" first or not; -1 if not one. */
static int
number(const char *s, unsigned long *n)
{
	char	*end;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*n = strtoul(s, &end, 10);
	return *end != '\0' || errno != 0 || *n >= UINT32_MAX ? -1 : 0;
}

/*
 * The entry of /etc/passwd named name, or of uid when name is NULL; it
 * lives until the next call.  The files are read directly: no NSS module
 * is loaded into a setuid process (a static binary cannot even load one
 * safely).
 */
static struct passwd *
pw_find(const char *name, uid_t uid)
{
	struct passwd	*pw;
	FILE		*f;

	if ((f = fopen(PASSWD, "re")) == NULL)
		return NULL;
	while ((pw = fgetpwent(f)) != NULL)
		if (name != NULL ? strcmp(pw->pw_name, name) == 0 :
		    pw->pw_uid == uid)
			break;
	(void)fclose(f);
	return pw;
}

/* The same for /etc/group. */
static struct group *
gr_find(const char *name, gid_t gid)
{
	struct group	*gr;
	FILE		*f;

	if ((f = fopen(GROUP, "re")) == NULL)
		return NULL;
	while ((gr = fgetgrent(f)) != NULL)
		if (name != NULL ? strcmp(gr->gr_name, name) == 0 :
		    gr->gr_gid == gid)
			break;
	(void)fclose(f);
	return gr;
}

/* initgroups(3) from /etc/group alone: gid and the groups naming user. */
static int
groups_set(const char *user, gid_t gid)
{
	struct group	*gr;
	gid_t		*v, *nv;
	char		**m;
	size_t		 n = 1;
	FILE		*f;
	int		 rc = -1;

	if ((v = malloc(sizeof(*v))) == NULL)
		return -1;
	v[0] = gid;
	if ((f = fopen(GROUP, "re")) == NULL)
		goto out;
	while ((gr = fgetgrent(f)) != NULL)
		for (m = gr->gr_mem; gr->gr_gid != gid && *m != NULL; m++)
			if (strcmp(*m, user) == 0) {
				if ((nv = reallocarray(v, n + 1,
				    sizeof(*v))) == NULL)
					goto out;
				v = nv;
				v[n++] = gr->gr_gid;
				break;
			}
	rc = setgroups(n, v);
out:
	if (f != NULL)
		(void)fclose(f);
	free(v);
	return rc;
}

static bool
listed(const struct strlist *l, const char *name)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static int
caller(const struct config *cfg)
{
	struct passwd	*pw;
	uid_t		 uid = getuid();

	if ((pw = pw_find(NULL, uid)) == NULL)
		return deny(SX_CALLER_UID, "caller", "uid %ld has no user",
		    (long)uid);
	if (strcmp(pw->pw_name, cfg->suexec.caller) != 0)
		return deny(SX_CALLER, "caller", "%s (uid %ld) is not %s",
		    pw->pw_name, (long)uid, cfg->suexec.caller);
	return 0;
}

/* A program named in the directory Apache started us in, no way out. */
static int
safe_cmd(const char *cmd)
{
	const char	*p;

	if (*cmd == '\0' || *cmd == '/')
		return deny(SX_COMMAND, "command", "'%s' is not a relative "
		    "path", cmd);
	for (p = cmd; *p != '\0'; p += strcspn(p, "/"), p += *p == '/')
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return deny(SX_COMMAND, "command", "'%s' holds '..'",
			    cmd);
	return 0;
}

/* USER ("~" first for mod_userdir), GROUP: names, uids or "#uid"s. */
static int
identity(const struct config *cfg, const char *user, const char *group,
    struct ident *id)
{
	const struct suexec_conf *se = &cfg->suexec;
	struct passwd	*pw;
	struct group	*gr;
	unsigned long	 n;

	if ((id->userdir = *user == '~'))
		user++;
	if ((pw = number(user, &n) == 0 ? pw_find(NULL, (uid_t)n) :
	    pw_find(user, 0)) == NULL)
		return deny(SX_USER, "user", "no user '%s'", user);
	if ((id->user = strdup(pw->pw_name)) == NULL ||
	    (id->home = strdup(pw->pw_dir)) == NULL)
		return deny(SX_USER, "user", "%s", strerror(errno));
	id->uid = pw->pw_uid;
	if ((gr = number(group, &n) == 0 ? gr_find(NULL, (gid_t)n) :
	    gr_find(group, 0)) == NULL)
		return deny(SX_GROUP, "group", "no group '%s'", group);
	id->gid = gr->gr_gid;
	if (id->uid == 0 || (id->uid < (uid_t)se->min_uid &&
	    !listed(&se->allow_users, id->user)))
		return deny(SX_UID, "min_uid", "user %s (uid %ld) is below "
		    "%ld", id->user, (long)id->uid, se->min_uid);
	if (id->gid == 0 || (id->gid < (gid_t)se->min_gid &&
	    !listed(&se->allow_groups, gr->gr_name)))
		return deny(SX_GID, "min_gid", "group %s (gid %ld) is below "
		    "%ld", gr->gr_name, (long)id->gid, se->min_gid);
	return 0;
}

/* Become the target for good, and make sure of it. */
static int
become(const struct ident *id)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	errno = 0;
	if (setgid(id->gid) == -1 || groups_set(id->user, id->gid) == -1 ||
	    getresgid(&rg, &eg, &sg) == -1 ||
	    rg != id->gid || eg != id->gid || sg != id->gid)
		return deny(SX_SETGID, "setgid", "gid %ld: %s", (long)id->gid,
		    errno != 0 ? strerror(errno) : "not in effect");
	if (setuid(id->uid) == -1 || getresuid(&ru, &eu, &su) == -1 ||
	    ru != id->uid || eu != id->uid || su != id->uid)
		return deny(SX_SETUID, "setuid", "uid %ld: %s", (long)id->uid,
		    errno != 0 ? strerror(errno) : "not in effect");
	if (setuid(0) != -1 || setgid(0) != -1)
		return deny(SX_SETUID, "setuid", "root can be regained");
	return 0;
}

/* Is path dir itself or below it? */
static bool
inside(const char *path, const char *dir)
{
	size_t	 len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, len) == 0 &&
	    (path[len] == '\0' || path[len] == '/');
}

/* The working directory is in the document root (the user's, for ~user). */
static int
docroot(const struct config *cfg, struct ident *id)
{
	char	*root, *real;

	if ((id->cwd = getcwd(NULL, 0)) == NULL)
		return deny(SX_CWD, "cwd", "%s", strerror(errno));
	if (id->userdir) {
		if (asprintf(&root, "%s/%s", id->home,
		    cfg->suexec.userdir_suffix) == -1)
			return deny(SX_USERDIR, "userdir", "%s",
			    strerror(errno));
		real = realpath(root, NULL);
		if (real == NULL)
			(void)deny(SX_USERDIR, "userdir", "%s: %s", root,
			    strerror(errno));
		free(root);
		if (real == NULL)
			return SX_USERDIR;
	} else if ((real = realpath(cfg->suexec.docroot, NULL)) == NULL)
		return deny(SX_DOCROOT, "docroot", "%s: %s",
		    cfg->suexec.docroot, strerror(errno));
	if (!inside(id->cwd, real)) {
		(void)deny(SX_OUTSIDE, "docroot", "%s is not below %s",
		    id->cwd, real);
		free(real);
		return SX_OUTSIDE;
	}
	free(real);
	return 0;
}

/* The directory and the program: the target's, and only the target's. */
static int
files(const struct ident *id, const char *cmd)
{
	struct stat	 dir, prog;

	errno = 0;
	if (lstat(id->cwd, &dir) == -1 || !S_ISDIR(dir.st_mode))
		return deny(SX_DIR, "directory", "cannot stat %s", id->cwd);
	if (dir.st_mode & (S_IWGRP | S_IWOTH))
		return deny(SX_DIR_WRITABLE, "directory", "%s is writable "
		    "by group or others", id->cwd);
	if (lstat(cmd, &prog) == -1 || !S_ISREG(prog.st_mode))
		return deny(SX_PROGRAM, "program", "%s/%s: %s", id->cwd, cmd,
		    errno != 0 ? strerror(errno) : "not a regular file");
	if (prog.st_mode & (S_IWGRP | S_IWOTH))
		return deny(SX_PROG_WRITABLE, "program", "%s/%s is writable "
		    "by group or others", id->cwd, cmd);
	if (prog.st_mode & (S_ISUID | S_ISGID))
		return deny(SX_PROG_SETID, "program", "%s/%s is setuid or "
		    "setgid", id->cwd, cmd);
	if (dir.st_uid != id->uid || dir.st_gid != id->gid ||
	    prog.st_uid != id->uid || prog.st_gid != id->gid)
		return deny(SX_OWNER, "owner", "target %ld/%ld, directory "
		    "%ld/%ld, program %ld/%ld", (long)id->uid, (long)id->gid,
		    (long)dir.st_uid, (long)dir.st_gid, (long)prog.st_uid,
		    (long)prog.st_gid);
	if (!(prog.st_mode & S_IXUSR))
		return deny(SX_NOEXEC, "program", "%s/%s is not executable",
		    id->cwd, cmd);
	return 0;
}

static bool
safe(const char *entry)
{
	size_t	 i, len;

	for (i = 0; safe_prefix[i] != NULL; i++)
		if (strncmp(entry, safe_prefix[i], strlen(safe_prefix[i])) == 0)
			return true;
	for (i = 0; safe_env[i] != NULL; i++) {
		len = strlen(safe_env[i]);
		if (strncmp(entry, safe_env[i], len) == 0 && entry[len] == '=')
			return true;
	}
	return false;
}

/* The request's variables of the safe list, and the fixed PATH. */
static char **
clean_env(char **from)
{
	static char	 path[] = "PATH=" SAFE_PATH;
	char		**v;
	size_t		 n, i;

	for (n = 0; from[n] != NULL; n++)
		;
	if ((v = calloc(n + 2, sizeof(*v))) == NULL)
		return NULL;
	v[0] = path;
	for (i = 0, n = 1; from[i] != NULL; i++)
		if (safe(from[i]))
			v[n++] = from[i];
	return v;
}

static int
checks(const struct config *cfg, char **argv, struct ident *id)
{
	int	 code;

	if ((code = caller(cfg)) != 0 || (code = safe_cmd(argv[3])) != 0 ||
	    (code = identity(cfg, argv[1], argv[2], id)) != 0 ||
	    (code = become(id)) != 0 || (code = docroot(cfg, id)) != 0)
		return code;
	return files(id, argv[3]);
}

int
suexec_main(struct request *rq, int argc, char **argv)
{
	static char	*none[] = { NULL };
	char		**cgi = environ, **env = NULL;
	struct ident	 id = { 0 };
	struct target	 t = { 0 };
	struct config	*cfg = NULL;
	int		 code;

	/* Nothing of the request's may steer libc while we are root. */
	environ = none;
	if (argc < 4)
		code = deny(SX_ARGS, "arguments", "want USER GROUP PROGRAM "
		    "[ARG ...]");
	else if ((code = trusted(SUEXEC_CONFIG)) != 0)
		;
	else if ((cfg = cfgcache_load(SUEXEC_CONFIG, false)) == NULL)
		code = SX_CONFIG;
	else if (!cfg->suexec.set)
		code = deny(SX_CONFIG, "config", "%s has no suexec section",
		    SUEXEC_CONFIG);
	else
		code = checks(cfg, argv, &id);
	if (code != 0)
		goto out;

	(void)umask(SAFE_UMASK);
	if ((env = clean_env(cgi)) == NULL ||
	    asprintf(&t.path, "%s/%s", id.cwd, argv[3]) == -1) {
		t.path = NULL;
		code = deny(SX_CONFIG, "memory", "%s", strerror(errno));
		goto out;
	}
	environ = env;
	rq->nph = target_nph(argv[3]);
	log_init(cfg->log, cfg->log_format);
	code = request_start(rq, cfg, &t, env, argv + 3);
out:
	target_free(&t);
	free(env);
	free(id.user);
	free(id.home);
	free(id.cwd);
	config_free(cfg);
	return code;
}
