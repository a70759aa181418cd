/*
 * The configuration's cache (src/cfgcache.c): what cfgcache_save writes,
 * cfgcache_read gives back whole; any cache that is not certainly the
 * file's own (damaged, of another text, writable by others, of another
 * owner, not a regular file, a symlink) is refused; cfgcache_load then
 * parses the file.  The cache is recognised by the file's text alone: a
 * new inode, times, owner or mode with the same text keep it; any edit,
 * however small and however soon, does not.  Every file lives in a
 * directory of the test's own, never in the repository.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfgcache.h"
#include "config.h"
#include "tap.h"

#define CONF(name)	"tests/unit/conf/" name
#define CHECK_LEN	8	/* the checksum, the cache's last bytes */

/* The cache's header, as src/cfgcache.c lays it out. */
struct ident {
	char		 magic[8];
	uint32_t	 idlen;
	unsigned char	 id[64];	/* the build ID */
	uint64_t	 textsum;	/* of the config's text */
};

static char	 dir[] = "/tmp/t_cfgcache.XXXXXX";
static char	 conf[PATH_MAX], cache[PATH_MAX + 8];

/* A failure of the test's own set-up: nothing after it would mean much. */
static void __attribute__((noreturn))
bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(2);
}

static void
skip(int n, const char *why)
{
	while (n-- > 0)
		printf("ok %d # skip %s\n", ++tap_n, why);
}

/*
 * stderr goes to a file between capture() and captured(), which returns
 * what was written there: the functions under test must say nothing.
 */
static FILE	*cap;
static int	 cap_saved = -1;

static void
capture(void)
{
	fflush(stderr);
	if ((cap = tmpfile()) == NULL || (cap_saved = dup(2)) == -1 ||
	    dup2(fileno(cap), 2) == -1)
		bail("capturing stderr");
}

static char *
captured(void)
{
	char	*text;
	long	 len;

	fflush(stderr);
	if (dup2(cap_saved, 2) == -1 || close(cap_saved) == -1 ||
	    (len = ftell(cap)) == -1 || fseek(cap, 0, SEEK_SET) == -1 ||
	    (text = calloc(1, len + 1)) == NULL ||
	    fread(text, 1, len, cap) != (size_t)len)
		bail("reading stderr");
	fclose(cap);
	cap = NULL;
	cap_saved = -1;
	return text;
}

static void
is_quiet(const char *what)
{
	char	*err = captured();

	is_str(err, "", what);
	free(err);
}

/* --- files */

static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 ||
	    (buf = malloc(st.st_size > 0 ? st.st_size : 1)) == NULL)
		bail(path);
	if ((n = read(fd, buf, st.st_size)) != st.st_size)
		bail(path);
	(void)close(fd);
	*len = (size_t)n;
	return buf;
}

/*
 * FNV-1a, 64 bits: the checksum of a config's text (its textsum), and
 * of the cache, in its last 8 bytes (host order).
 */
static uint64_t
fnv(const unsigned char *p, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325u;

	while (len-- > 0)
		h = (h ^ *p++) * 0x100000001b3u;
	return h;
}

/* Written in place: the inode, owner and mode stay. */
static void
spew(const char *path, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		bail(path);
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			bail(path);
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1)
		bail(path);
}

static void
copy(const char *from, const char *to)
{
	unsigned char	*buf;
	size_t		 len;

	buf = slurp(from, &len);
	spew(to, buf, len);
	free(buf);
}

static void
xstat(const char *path, struct stat *st)
{
	if (stat(path, st) == -1)
		bail(path);
}

/* The inode and the bytes of a file, to see that it was left alone. */
struct snap {
	ino_t		 ino;
	unsigned char	*buf;
	size_t		 len;
};

static void
snap(const char *path, struct snap *sn)
{
	struct stat	 st;

	xstat(path, &st);
	sn->ino = st.st_ino;
	sn->buf = slurp(path, &sn->len);
}

/* path is still the file snapped: the same inode, the same bytes. */
static bool
unchanged(const char *path, struct snap *sn)
{
	struct stat	 st;
	unsigned char	*buf;
	size_t		 len;
	bool		 same;

	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return false;
	buf = slurp(path, &len);
	same = st.st_ino == sn->ino && len == sn->len &&
	    memcmp(buf, sn->buf, len) == 0;
	free(buf);
	return same;
}

/* Entries of dir whose name starts with prefix: temporary files left. */
static int
entries(const char *prefix)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		bail(dir);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	(void)closedir(d);
	return n;
}

static void
cleanup(void)
{
	struct dirent	*e;
	char		 p[PATH_MAX];
	DIR		*d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) == -1)
			(void)rmdir(p);
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

/* --- comparing two configurations, field by field */

/* Differences found; each is printed as a TAP comment unless quiet. */
struct cmp {
	int	 bad;
	bool	 quiet;
};

static void differ(struct cmp *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
differ(struct cmp *k, const char *fmt, ...)
{
	va_list	 ap;

	k->bad++;
	if (k->quiet)
		return;
	printf("#   differs: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void
cmp_int(struct cmp *k, const char *at, const char *field, long long a,
    long long b)
{
	if (a != b)
		differ(k, "%s%s: %lld, %lld", at, field, a, b);
}

static void
cmp_str(struct cmp *k, const char *at, const char *field, const char *a,
    const char *b)
{
	if (a == NULL || b == NULL ? a != b : strcmp(a, b) != 0)
		differ(k, "%s%s: '%s', '%s'", at, field, a ? a : "(null)",
		    b ? b : "(null)");
}

/* Equal lists; both end with NULL (an empty one may have no array). */
static void
cmp_list(struct cmp *k, const char *at, const char *field,
    const struct strlist *a, const struct strlist *b)
{
	char	 f[128];
	size_t	 i;

	if (a->n != b->n) {
		differ(k, "%s%s.n: %zu, %zu", at, field, a->n, b->n);
		return;
	}
	for (i = 0; i < a->n; i++) {
		snprintf(f, sizeof(f), "%s.v[%zu]", field, i);
		cmp_str(k, at, f, a->v[i], b->v[i]);
	}
	if (a->n > 0 && (a->v[a->n] != NULL || b->v[b->n] != NULL))
		differ(k, "%s%s: not ended with NULL", at, field);
}

#define CMP_INT(f)	cmp_int(k, at, #f, a->f, b->f)
#define CMP_STR(f)	cmp_str(k, at, #f, a->f, b->f)
#define CMP_LIST(f)	cmp_list(k, at, #f, &a->f, &b->f)

/* Each field named, rather than walked by config_opts as the cache is. */
static void
cmp_settings(struct cmp *k, const char *at, const struct settings *a,
    const struct settings *b)
{
	int	 i;
	char	 f[32];

	CMP_INT(ignore_user_abort);
	CMP_INT(max_execution_time);
	CMP_INT(kill_signal);
	CMP_INT(kill_grace);
	CMP_INT(notify_signal);
	CMP_INT(finish_on_close);
	CMP_INT(client_watch);
	CMP_INT(client_fin);
	CMP_INT(orphans);
	CMP_INT(script_control);
	CMP_INT(max_time_limit);
	CMP_INT(hard_time_limit);
	CMP_INT(max_header_size);
	for (i = 0; i < LIM_COUNT; i++) {
		snprintf(f, sizeof(f), "limit[%d]", i);
		cmp_int(k, at, f, a->limit[i], b->limit[i]);
	}
	CMP_LIST(env_unset);
	CMP_LIST(env_set);
	CMP_INT(request_slowlog_timeout);
}

static void
cmp_cmd(struct cmp *k, const char *at, const struct shutdown_cmd *a,
    const struct shutdown_cmd *b)
{
	CMP_STR(name);
	CMP_LIST(argv);
	CMP_INT(timeout);
	CMP_INT(when);
	CMP_INT(line);
}

static void
cmp_level(struct cmp *k, const char *where, const struct level *a,
    const struct level *b)
{
	char	 at[128], f[32];
	size_t	 i;

	snprintf(at, sizeof(at), "%s.", where);
	CMP_STR(glob);
	CMP_INT(line);
	snprintf(at, sizeof(at), "%s.set.", where);
	cmp_settings(k, at, &a->set, &b->set);
	snprintf(at, sizeof(at), "%s.", where);
	for (i = 0; i < OPT_COUNT; i++) {
		snprintf(f, sizeof(f), "origin[%s]", config_optname(i));
		cmp_int(k, at, f, a->origin[i], b->origin[i]);
	}
	CMP_INT(nshutdown);
	for (i = 0; i < a->nshutdown && i < b->nshutdown; i++) {
		snprintf(at, sizeof(at), "%s.shutdown[%zu].", where, i);
		cmp_cmd(k, at, &a->shutdown[i], &b->shutdown[i]);
	}
}

static void
cmp_suexec(struct cmp *k, const struct suexec_conf *a,
    const struct suexec_conf *b)
{
	const char	*at = "suexec.";

	CMP_INT(set);
	CMP_STR(caller);
	CMP_STR(docroot);
	CMP_STR(userdir_suffix);
	CMP_INT(min_uid);
	CMP_INT(min_gid);
	CMP_LIST(allow_users);
	CMP_LIST(allow_groups);
}

/* How many fields of a and b differ. */
static int
cmp_config(const struct config *a, const struct config *b, bool quiet)
{
	struct cmp	 cmp = { .quiet = quiet }, *k = &cmp;
	const char	*at = "";
	char		 where[32];
	size_t		 i;

	CMP_STR(path);
	if (a->textsum != b->textsum)
		differ(k, "textsum: %016llx, %016llx",
		    (unsigned long long)a->textsum,
		    (unsigned long long)b->textsum);
	CMP_LIST(roots);
	CMP_INT(roots_line);
	CMP_STR(log);
	CMP_INT(log_line);
	CMP_INT(log_format);
	CMP_INT(log_format_line);
	CMP_INT(fastcgi_timeout);
	CMP_INT(fastcgi_timeout_line);
	CMP_LIST(alias_roots);
	CMP_INT(alias_roots_line);
	CMP_INT(shim_chdir);
	CMP_INT(shim_chdir_line);
	CMP_STR(status_path);
	CMP_INT(status_path_line);
	cmp_level(k, "global", &a->global, &b->global);
	CMP_INT(nscript);
	for (i = 0; i < a->nscript && i < b->nscript; i++) {
		snprintf(where, sizeof(where), "script[%zu]", i);
		cmp_level(k, where, &a->script[i], &b->script[i]);
	}
	cmp_suexec(k, &a->suexec, &b->suexec);
	return cmp.bad;
}

/* --- the functions under test, their stderr captured */

static struct config *
load(const char *path)
{
	struct config	*c;

	capture();
	c = config_load(path, false);
	is_quiet("config_load: nothing on stderr");
	return c;
}

static struct config *
read_quiet(const char *path)
{
	struct config	*c;

	capture();
	c = cfgcache_read(path);
	is_quiet("cfgcache_read: nothing on stderr");
	return c;
}

/* cfgcache_read refuses the cache of path as it is now. */
static void
refused(const char *path, const char *what)
{
	struct config	*c = read_quiet(path);

	if (!ok(c == NULL, "refused: %s", what))
		config_free(c);
}

/* cfgcache_read takes it, and it is want field by field. */
static void
taken(const char *path, const struct config *want, const char *what)
{
	struct config	*c = read_quiet(path);

	if (ok(c != NULL, "taken: %s", what))
		is_int(cmp_config(c, want, false), 0, "... the same config");
	config_free(c);
}

/* conf parsed and cached as cgiwrap -t does: load, then save. */
static struct config *
check(const char *path)
{
	struct config	*c;
	int		 rc;

	if ((c = load(path)) == NULL)
		return NULL;
	capture();
	rc = cfgcache_save(c);
	is_quiet("cfgcache_save: nothing on stderr");
	if (!is_int(rc, 0, "cfgcache_save returns 0"))
		printf("#   errno: %s\n", strerror(errno));
	return c;
}

/*
 * fn(arg) in a child running as uid and gid alone: its exit code (255:
 * the child could not become uid; -1: it did not exit).
 */
static int
as_user(uid_t uid, gid_t gid, int (*fn)(const void *), const void *arg)
{
	pid_t	 pid;
	int	 status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		bail("fork");
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
		    setuid(uid) == -1)
			_exit(255);
		_exit(fn(arg));
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			bail("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* cfgcache_save(c): 0 when it saved, else its errno. */
static int
save_child(const void *c)
{
	errno = 0;
	if (cfgcache_save(c) == 0)
		return 0;
	return errno > 0 && errno < 254 ? errno : 254;
}

/* cfgcache_read(path): 0 when it takes the cache, else 1. */
static int
read_child(const void *path)
{
	struct config	*c = cfgcache_read(path);

	config_free(c);
	return c != NULL ? 0 : 1;
}

/* A cache cfgcache_read takes, counted, with the first place it came at. */
static void
tally(size_t *taken, size_t *first, size_t at)
{
	struct config	*c;

	if ((c = cfgcache_read(conf)) != NULL) {
		if ((*taken)++ == 0)
			*first = at;
		config_free(c);
	}
}

/* --- the tests */

/* What was saved comes back whole; saved again, the same bytes. */
static struct config *
round_trip(void)
{
	struct config	*c, *r;
	unsigned char	*one, *two;
	size_t		 len1, len2;
	struct stat	 st, cst;
	char		*spelled;

	printf("# round trip\n");
	xstat(conf, &st);
	if (!ok((c = check(conf)) != NULL, "cache.conf loads"))
		return NULL;
	/* The test means something only if the file fills every part. */
	ok(c->nscript == 4 && c->global.nshutdown == 2 &&
	    c->script[0].nshutdown == 2 && c->suexec.set &&
	    c->alias_roots.n == 2 && c->global.set.env_set.n == 4 &&
	    c->global.origin[OPT_ENV_SET] > 0 &&
	    c->script[0].origin[OPT_ENV_UNSET] == -1 &&
	    c->script[3].origin[OPT_ENV_SET] == -1 &&
	    c->global.shutdown[1].when != 0 && c->status_path_line != 0,
	    "cache.conf sets every part of the config");
	one = slurp(conf, &len1);
	ok(c->textsum == fnv(one, len1),
	    "config_load's textsum is the FNV-1a of the file's text");
	free(one);
	if (lstat(cache, &cst) == -1)
		bail(cache);
	ok(S_ISREG(cst.st_mode), "the cache is a regular file beside the "
	    "config");
	is_int(cst.st_mode & 07777, st.st_mode & 0644,
	    "with the config's mode, write bits of group and others off");
	is_int(cst.st_uid, geteuid(), "owned by whoever saved it");
	is_int(cst.st_gid, st.st_gid, "of the config's group");
	is_int(cst.st_size > CHECK_LEN, 1, "and holds more than a checksum");
	is_int(entries("cgiwrap.conf.cache."), 0, "no temporary file left");

	if (!ok((r = read_quiet(conf)) != NULL, "cfgcache_read takes it")) {
		config_free(c);
		return NULL;
	}
	is_str(r->path, conf, "its path is the config's");
	ok(r->textsum == c->textsum, "its textsum is the config's");
	is_int(cmp_config(r, c, false), 0,
	    "the cached config equals the parsed one, field by field");

	/* The compare must see a change in any part, or it proves nothing. */
	{
		char	*keep = r->script[1].set.env_set.v[1];

		r->script[1].set.env_set.v[1] = (char *)"DEPTH=4";
		ok(cmp_config(r, c, true) == 1, "compare sees a list value");
		r->script[1].set.env_set.v[1] = keep;
	}
	r->script[0].origin[OPT_ENV_UNSET] = 0;
	ok(cmp_config(r, c, true) == 1, "compare sees an origin");
	r->script[0].origin[OPT_ENV_UNSET] = -1;
	r->global.shutdown[1].when ^= 1;
	ok(cmp_config(r, c, true) == 1, "compare sees a shutdown when");
	r->global.shutdown[1].when ^= 1;
	r->suexec.allow_groups.n--;
	ok(cmp_config(r, c, true) == 1, "compare sees a list's length");
	r->suexec.allow_groups.n++;
	r->script[2].set.hard_time_limit++;
	ok(cmp_config(r, c, true) == 1, "compare sees a section setting");
	r->script[2].set.hard_time_limit--;
	r->status_path_line++;
	ok(cmp_config(r, c, true) == 1, "compare sees a line");
	r->status_path_line--;
	r->textsum ^= 1;
	ok(cmp_config(r, c, true) == 1, "compare sees the textsum");
	r->textsum ^= 1;
	is_int(cmp_config(r, c, true), 0, "compare: all put back");

	/* The reader writes what it read: the same bytes again. */
	one = slurp(cache, &len1);
	capture();
	ok(cfgcache_save(r) == 0, "the cached config saved again");
	is_quiet("cfgcache_save: nothing on stderr");
	two = slurp(cache, &len2);
	ok(len1 == len2 && memcmp(one, two, len1) == 0,
	    "... gives a byte-identical cache");
	free(one);
	free(two);
	config_free(r);

	/* The path is the one asked for, as config_load keeps it. */
	if (asprintf(&spelled, "%s/./cgiwrap.conf", dir) == -1)
		bail("asprintf");
	r = read_quiet(spelled);
	ok(r != NULL && strcmp(r->path, spelled) == 0,
	    "read by another spelling of the path: that spelling kept");
	config_free(r);
	free(spelled);
	return c;
}

/* body (header included) with its checksum after it, as the cache. */
static void
spew_summed(const unsigned char *body, size_t len)
{
	unsigned char	*buf;
	uint64_t	 h = fnv(body, len);

	if ((buf = malloc(len + CHECK_LEN)) == NULL)
		bail("malloc");
	memcpy(buf, body, len);
	memcpy(buf + len, &h, CHECK_LEN);
	spew(cache, buf, len + CHECK_LEN);
	free(buf);
}

/* Damaged on disk: any cut, any byte changed, anything added. */
static void
damage(const struct config *want)
{
	static const unsigned char flips[] = { 0x01, 0x80, 0xff };
	unsigned char	*good, *bad;
	struct config	*c;
	struct ident	 id;
	size_t		 len, i, f, taken_n = 0, first = SIZE_MAX, n = 0;
	size_t		 hdr_taken;

	printf("# damaged caches\n");
	good = slurp(cache, &len);
	if (len <= CHECK_LEN) {
		errno = EINVAL;
		bail("the cache holds no more than a checksum");
	}
	if ((bad = malloc(len * 2)) == NULL)
		bail("malloc");
	memcpy(&id, good, sizeof(id));
	ok(memcmp(id.magic, "cgiwrap", 7) == 0 && id.idlen > 0 &&
	    id.textsum == want->textsum,
	    "the cache's header: its magic, a build ID, the text's checksum");

	capture();
	for (i = 0; i < len; i++) {
		spew(cache, good, i);
		tally(&taken_n, &first, i);
	}
	is_quiet("cut caches: nothing on stderr");
	if (!is_int(taken_n, 0, "a cache cut at any length is refused"))
		printf("#   %zu taken, the first cut at %zu of %zu bytes\n",
		    taken_n, first, len);

	taken_n = 0;
	first = SIZE_MAX;
	capture();
	for (i = 0; i < len; i++)
		for (f = 0; f < sizeof(flips); f++) {
			memcpy(bad, good, len);
			bad[i] ^= flips[f];
			spew(cache, bad, len);
			n++;
			tally(&taken_n, &first, i);
		}
	is_quiet("changed bytes: nothing on stderr");
	if (!is_int(taken_n, 0, "a cache with any one byte changed is refused"))
		printf("#   %zu of %zu taken, the first at offset %zu\n",
		    taken_n, n, first);

	memcpy(bad, good, len);
	bad[len] = '\n';
	spew(cache, bad, len + 1);
	refused(conf, "one byte added at the end");
	memcpy(bad + len, good, len);
	spew(cache, bad, len * 2);
	refused(conf, "the cache twice over");

	/*
	 * The checksum made right again: the parse alone must refuse a body
	 * cut short, or one with bytes after the config.
	 */
	taken_n = 0;
	first = SIZE_MAX;
	capture();
	for (i = 0; i < len - CHECK_LEN; i++) {
		spew_summed(good, i);
		tally(&taken_n, &first, i);
	}
	is_quiet("cut bodies: nothing on stderr");
	if (!is_int(taken_n, 0,
	    "a body cut at any length, its checksum right, is refused"))
		printf("#   %zu taken, the first cut at %zu\n", taken_n, first);
	memcpy(bad, good, len - CHECK_LEN);
	memset(bad + len - CHECK_LEN, 0, 8);
	spew_summed(bad, len);
	refused(conf, "8 bytes after the config, the checksum right");

	/*
	 * Any byte changed, the checksum right: a parse of nonsense (huge
	 * counts and lengths) must end cleanly, taken or not; run under
	 * AddressSanitizer this checks the reader's bounds and its frees.
	 */
	n = taken_n = 0;
	hdr_taken = 0;
	first = SIZE_MAX;
	capture();
	for (i = 0; i < len - CHECK_LEN; i++)
		for (f = 0; f < sizeof(flips); f++) {
			memcpy(bad, good, len - CHECK_LEN);
			bad[i] ^= flips[f];
			spew_summed(bad, len - CHECK_LEN);
			n++;
			if ((c = cfgcache_read(conf)) != NULL) {
				taken_n++;
				if (i < sizeof(struct ident)) {
					hdr_taken++;
					first = first == SIZE_MAX ? i : first;
				}
				config_free(c);
			}
		}
	is_quiet("changed bodies: nothing on stderr");
	ok(taken_n < n, "bodies with a byte changed, checksum right: %zu of "
	    "%zu parsed, the rest refused, none crashed", taken_n, n);
	/* Above all the text's checksum: another text's cache is refused. */
	if (!is_int(hdr_taken, 0, "a header with any byte changed (build ID, "
	    "textsum...), checksum right, is refused"))
		printf("#   %zu taken, the first at offset %zu\n", hdr_taken,
		    first);

	spew(cache, good, len);
	taken(conf, want, "the good cache written back");
	free(good);
	free(bad);
}

/* Only a regular file of the config's owner or root, writable by neither. */
static void
modes(const struct config *want)
{
	struct passwd	*pw;
	unsigned char	*good;
	size_t		 len;

	printf("# the cache's mode and owner\n");
	good = slurp(cache, &len);
	ok(chmod(cache, 0664) == 0, "cache made mode 0664");
	refused(conf, "the cache writable by its group");
	ok(chmod(cache, 0646) == 0, "cache made mode 0646");
	refused(conf, "the cache writable by others");
	ok(chmod(cache, 0666) == 0, "cache made mode 0666");
	refused(conf, "the cache writable by all");
	ok(chmod(cache, 0600) == 0, "cache made mode 0600");
	taken(conf, want, "mode 0600: the owner's alone");
	ok(chmod(cache, 0444) == 0, "cache made mode 0444");
	taken(conf, want, "mode 0444");
	ok(chmod(cache, 0644) == 0, "cache mode 0644 again");

	if (geteuid() == 0 && (pw = getpwnam("nobody")) != NULL &&
	    pw->pw_uid != 0) {
		/* Root's config; a cache of another user is not its. */
		ok(chown(cache, pw->pw_uid, (gid_t)-1) == 0,
		    "cache given to nobody");
		refused(conf, "the cache owned by another user than the config's");
		ok(chown(cache, 0, (gid_t)-1) == 0, "cache given back to root");
		taken(conf, want, "owned by root again");
	} else
		skip(7, "needs root and a user nobody");
	free(good);
}

/* The user nobody and a group of its (nogroup), neither root's: false if none. */
static bool
nobody_ids(uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;
	struct group	*gr;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL ||
	    pw->pw_uid == 0 || pw->pw_uid == 1)
		return false;
	if ((gr = getgrnam("nogroup")) == NULL &&
	    (gr = getgrnam("nobody")) == NULL)
		return false;
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
	return *gid != 0;
}

/*
 * A config of another user than root: its cache may be that user's
 * (cgiwrap -t run by the owner) or root's, nobody else's.
 */
static void
owners(const struct config *want)
{
	struct config	*c;
	uid_t		 nobody, other;
	gid_t		 nogroup;

	printf("# the owners of a config and its cache\n");
	if (!nobody_ids(&nobody, &nogroup)) {
		skip(21, "needs root, a user nobody and its group");
		return;
	}
	other = 1;	/* daemon on Debian: neither root nor nobody */
	ok(chown(conf, nobody, (gid_t)-1) == 0, "config given to nobody");
	taken(conf, want, "root's cache, the config given to nobody: "
	    "its text is the same");
	c = check(conf);
	taken(conf, c, "a cache of root's for nobody's config");
	ok(chown(cache, nobody, (gid_t)-1) == 0, "cache given to nobody");
	taken(conf, c, "a cache of the config's owner");
	ok(chown(cache, other, (gid_t)-1) == 0, "cache given to uid 1");
	refused(conf, "a cache of a third user");
	ok(chown(conf, 0, (gid_t)-1) == 0 && chown(cache, 0, (gid_t)-1) == 0,
	    "both given back to root");
	taken(conf, want, "root's config, root's cache");
	config_free(c);
}

/*
 * The cache is read by whoever may read the file: the config's group
 * too.  Only the config's owner or root saves it; an owner who may not
 * give it the config's group keeps its group from reading it.
 */
static void
groups(const struct config *want)
{
	struct config	*c;
	struct snap	 sn;
	struct stat	 st;
	uid_t		 nobody;
	gid_t		 nogroup;
	int		 rc;

	printf("# the cache's group, and saves by others than root\n");
	if (!nobody_ids(&nobody, &nogroup)) {
		skip(58, "needs root, a user nobody and its group");
		return;
	}
	ok(chown(conf, 0, nogroup) == 0 && chmod(conf, 0640) == 0,
	    "config 0640, root's, of nobody's group");
	taken(conf, want, "its cache, of the text it still has");
	c = check(conf);
	xstat(cache, &st);
	is_int(st.st_uid, 0, "the cache saved by root is root's");
	is_int(st.st_gid, nogroup, "... of the config's group");
	is_int(st.st_mode & 07777, 0640, "... of the config's mode, 0640");
	taken(conf, c, "root's cache of the config 0640 root:nogroup");
	ok(chmod(conf, 0600) == 0, "config 0600");
	config_free(check(conf));
	xstat(cache, &st);
	is_int(st.st_mode & 07777, 0600, "the cache saved again: 0600 too");

	/* Another user, though it may write the directory: no save. */
	ok(chown(conf, 0, 0) == 0 && chmod(conf, 0644) == 0 &&
	    chmod(dir, 0777) == 0,
	    "config 0644, root's; its directory writable by all");
	config_free(check(conf));
	snap(cache, &sn);
	capture();
	rc = as_user(nobody, nogroup, save_child, c);
	is_quiet("cfgcache_save as nobody: nothing on stderr");
	is_int(rc, EPERM, "cfgcache_save as nobody, not the config's owner: "
	    "-1, EPERM");
	ok(unchanged(cache, &sn), "... root's cache left as it was: the same "
	    "inode, the same bytes");
	is_int(entries("cgiwrap.conf.cache."), 0, "... no temporary file");
	taken(conf, c, "root's cache, after nobody's attempt");
	free(sn.buf);

	/* The owner, in the config's group: the cache is as root's. */
	ok(chown(conf, nobody, nogroup) == 0 && chmod(conf, 0640) == 0 &&
	    unlink(cache) == 0, "config 0640, nobody's, of its group; "
	    "no cache");
	capture();
	rc = as_user(nobody, nogroup, save_child, c);
	is_quiet("cfgcache_save as nobody: nothing on stderr");
	is_int(rc, 0, "cfgcache_save as nobody, the config's owner: 0");
	xstat(cache, &st);
	ok(st.st_uid == nobody && st.st_gid == nogroup &&
	    (st.st_mode & 07777) == 0640,
	    "... the cache is nobody's, of its group, 0640");
	taken(conf, c, "nobody's cache of its config 0640 nobody:nogroup");

	/* Not in the config's group: the cache is not the group's to read. */
	ok(chown(conf, nobody, 0) == 0 && unlink(cache) == 0,
	    "config 0640, nobody's, of root's group; no cache");
	capture();
	rc = as_user(nobody, nogroup, save_child, c);
	is_quiet("cfgcache_save as nobody: nothing on stderr");
	is_int(rc, 0, "cfgcache_save as nobody, the config's owner: 0");
	xstat(cache, &st);
	is_int(st.st_uid, nobody, "... the cache is nobody's");
	is_int(st.st_gid, nogroup, "... of its own group, the config's "
	    "being none of its");
	is_int(st.st_mode & 07777, 0600, "... and that group may not read "
	    "it: 0600");
	taken(conf, c, "nobody's cache of its config 0640 nobody:root");
	is_int(entries("cgiwrap.conf.cache."), 0, "no temporary file left");

	/* Root's save of nobody's config: nobody's requests should take it. */
	ok(chown(conf, nobody, nogroup) == 0 && chmod(conf, 0600) == 0,
	    "config 0600, nobody's, of its group");
	config_free(check(conf));
	rc = as_user(nobody, nogroup, read_child, conf);
	ok(rc == 0, "nobody's requests take root's cache of nobody's config "
	    "0600: root gives the cache to the config's owner");

	ok(chown(conf, 0, 0) == 0 && chmod(conf, 0644) == 0 &&
	    chmod(dir, 0700) == 0, "config 0644, root's again; directory "
	    "0700");
	config_free(check(conf));
	taken(conf, want, "root's cache again");
	config_free(c);
}

static void
kinds(const struct config *want)
{
	unsigned char	*good;
	size_t		 len;
	char		 p[PATH_MAX];

	printf("# not a regular file\n");
	good = slurp(cache, &len);

	ok(unlink(cache) == 0, "cache removed");
	refused(conf, "no cache");
	ok(mkdir(cache, 0755) == 0, "a directory in its place");
	refused(conf, "a directory");
	ok(rmdir(cache) == 0 && symlink("/dev/zero", cache) == 0,
	    "a symlink to /dev/zero in its place");
	refused(conf, "a symlink to /dev/zero");
	ok(unlink(cache) == 0 && symlink(dir, cache) == 0,
	    "a symlink to a directory in its place");
	refused(conf, "a symlink to a directory");
	/* O_NONBLOCK: a FIFO with no writer must not hang the reader. */
	ok(unlink(cache) == 0 && mkfifo(cache, 0644) == 0,
	    "a FIFO in its place");
	refused(conf, "a FIFO (and the reader did not hang)");
	snprintf(p, sizeof(p), "%s/elsewhere", dir);
	spew(p, "", 0);
	ok(unlink(cache) == 0 && symlink(p, cache) == 0,
	    "a symlink to an empty file in its place");
	refused(conf, "a symlink to an empty file");

	/* O_NOFOLLOW: not even to a good cache. */
	spew(p, good, len);
	ok(unlink(cache) == 0 && symlink(p, cache) == 0,
	    "a symlink to a copy of the good cache in its place");
	refused(conf, "a symlink to a good cache");
	ok(unlink(cache) == 0 && symlink("elsewhere", cache) == 0,
	    "a relative symlink to it in its place");
	refused(conf, "a relative symlink to a good cache");
	ok(unlink(cache) == 0 && rename(p, cache) == 0,
	    "the file it pointed to renamed in its place");
	taken(conf, want, "that file itself");

	ok(unlink(cache) == 0, "cache removed");
	spew(cache, good, len);
	taken(conf, want, "the good cache written back");
	free(good);
}

/* cfgcache_load of conf, edited to 46s: parsed, as config_load has it. */
static void
parsed_edit(const char *what)
{
	struct config	*a, *b;

	capture();
	a = cfgcache_load(conf, false);
	is_quiet("cfgcache_load: nothing on stderr");
	if (ok(a != NULL, "cfgcache_load %s", what))
		is_int(a->global.set.max_execution_time, 46000,
		    "... gives the new value, 46s: the file was parsed");
	b = load(conf);
	if (a != NULL && b != NULL)
		is_int(cmp_config(a, b, false), 0,
		    "... and config_load's config, field by field");
	config_free(a);
	config_free(b);
}

/* A config others may write is refused, its cache or not, as parsed. */
static void
writable(mode_t mode, const char *what)
{
	struct config	*a;
	char		*err, *want;

	ok(chmod(conf, mode) == 0, "config made mode %04o", (unsigned)mode);
	refused(conf, what);
	capture();
	a = config_load(conf, false);
	want = captured();
	ok(a == NULL && strstr(want, "writable by group or others") != NULL,
	    "config_load refuses it, and says so");
	config_free(a);
	capture();
	a = cfgcache_load(conf, false);
	err = captured();
	ok(a == NULL, "cfgcache_load: NULL");
	is_str(err, want, "... with config_load's message");
	config_free(a);
	free(err);
	free(want);
}

/*
 * The cache is the text's: any edit of it is seen at once; a new inode,
 * new times or mode with the same text keep the cache; another file's
 * cache is taken only for the very same text.
 */
static void
stale(void)
{
	struct config	*c, *a;
	unsigned char	*text, *edited;
	struct timespec	 times[2];
	struct stat	 st;
	size_t		 len;
	char		 other[PATH_MAX], ocache[PATH_MAX + 8], *hit;
	char		*keep;

	printf("# stale caches\n");
	text = slurp(conf, &len);
	if ((edited = malloc(len)) == NULL)
		bail("malloc");
	memcpy(edited, text, len);
	/* The same size, in place. */
	if ((hit = memmem(edited, len, "max_execution_time = 45s",
	    24)) == NULL)
		bail("cache.conf: no max_execution_time = 45s");
	hit[22] = '6';

	/* Edited between the load and the save: not that text's cache. */
	c = load(conf);
	spew(conf, edited, len);
	capture();
	ok(c != NULL && cfgcache_save(c) == 0,
	    "config edited (45s to 46s) after its load, before the save");
	is_quiet("cfgcache_save: nothing on stderr");
	refused(conf, "the cache of the text as it was loaded");
	parsed_edit("of the edited config");
	spew(conf, text, len);
	taken(conf, c, "the text as it was loaded written back: its cache "
	    "taken");
	config_free(c);

	c = check(conf);
	taken(conf, c, "saved again");
	spew(conf, text, len);
	taken(conf, c, "the config written again in place, the same text");

	/* At once, no clock tick waited for: the times may not show it. */
	xstat(conf, &st);
	spew(conf, edited, len);
	refused(conf, "the config edited at once after the save: 45s to 46s, "
	    "its size the same");
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	ok(utimensat(AT_FDCWD, conf, times, 0) == 0,
	    "the edited config's times put back as they were");
	refused(conf, "the config edited, its size and mtime the same");
	parsed_edit("of the edited config");
	spew(conf, text, len);
	taken(conf, c, "the text put back: the cache is its again");

	/* Its mode, if no one else may write it: the same text. */
	ok(chmod(conf, 0640) == 0, "config made mode 0640");
	taken(conf, c, "the config 0640");
	ok(chmod(conf, 0400) == 0, "config made mode 0400");
	taken(conf, c, "the config 0400");
	writable(0664, "the config writable by its group");
	writable(0646, "the config writable by others");
	ok(chmod(conf, 0644) == 0, "config mode 0644 again");
	taken(conf, c, "the config 0644 again");

	/* Replaced whole by a new file, as editors do. */
	snprintf(other, sizeof(other), "%s/new.conf", dir);
	spew(other, text, len);
	ok(rename(other, conf) == 0, "config replaced by a rename, the same "
	    "text");
	taken(conf, c, "a new file of the same text");
	spew(other, edited, len);
	ok(rename(other, conf) == 0, "config replaced by a rename, 45s to "
	    "46s");
	refused(conf, "a new file of another text, the same size");
	parsed_edit("of the new file");
	spew(conf, text, len);
	taken(conf, c, "the text put back");

	/* The cache of another file beside b.conf. */
	snprintf(other, sizeof(other), "%s/b.conf", dir);
	snprintf(ocache, sizeof(ocache), "%s.cache", other);
	spew(other, "kill_grace = 2s\n", 16);
	copy(cache, ocache);
	refused(other, "cgiwrap.conf.cache copied to b.conf.cache, another "
	    "text");
	capture();
	a = cfgcache_load(other, false);
	is_quiet("cfgcache_load: nothing on stderr");
	ok(a != NULL && a->global.set.kill_grace == 2000 && a->nscript == 0,
	    "... cfgcache_load parses b.conf");
	config_free(a);
	spew(other, edited, len);
	refused(other, "... b.conf of cgiwrap.conf's text edited");
	spew(other, text, len);
	a = read_quiet(other);
	if (ok(a != NULL, "... b.conf of cgiwrap.conf's very text: taken")) {
		is_str(a->path, other, "... its path b.conf's");
		keep = a->path;
		a->path = c->path;
		is_int(cmp_config(a, c, false), 0,
		    "... the rest cgiwrap.conf's config, field by field");
		a->path = keep;
	}
	config_free(a);
	taken(conf, c, "cgiwrap.conf's own cache still taken");

	/*
	 * A cache that is not what a parse gives, of the text: cfgcache_load
	 * takes it rather than parse the file.
	 */
	c->global.set.kill_grace = 1234;
	capture();
	ok(cfgcache_save(c) == 0, "a config of kill_grace 1234ms saved as the "
	    "cache of the text of 750ms");
	is_quiet("cfgcache_save: nothing on stderr");
	capture();
	a = cfgcache_load(conf, false);
	is_quiet("cfgcache_load: nothing on stderr");
	ok(a != NULL && a->global.set.kill_grace == 1234,
	    "cfgcache_load takes the cache rather than parse the file");
	config_free(a);
	c->global.set.kill_grace = 750;
	config_free(check(conf));
	taken(conf, c, "the parse's cache saved again");

	/* An empty file is a text too: the built-in defaults, its path. */
	spew(other, "", 0);
	a = check(other);
	if (ok(a != NULL && a->path != NULL, "an empty b.conf loads"))
		taken(other, a, "the cache of an empty config");
	config_free(a);
	spew(other, "\n", 1);
	refused(other, "... not once a newline is added");

	ok(unlink(ocache) == 0, "b.conf.cache removed");
	spew(other, "kill_grace = 2s\n", 16);
	capture();
	a = cfgcache_load(other, false);
	is_quiet("cfgcache_load: nothing on stderr");
	ok(a != NULL && a->global.set.kill_grace == 2000,
	    "no cache: cfgcache_load parses the file");
	config_free(a);

	/* The config gone, its cache left behind. */
	ok(unlink(other) == 0, "b.conf removed");
	copy(cache, ocache);
	refused(other, "a cache whose config is gone");
	capture();
	a = cfgcache_load(other, true);
	is_quiet("cfgcache_load, missing_ok: nothing on stderr");
	ok(a != NULL && a->path == NULL && a->global.set.kill_grace == 3000,
	    "cfgcache_load, missing_ok: the built-in defaults");
	config_free(a);
	capture();
	a = cfgcache_load(other, false);
	hit = captured();
	ok(a == NULL, "cfgcache_load, not missing_ok: NULL");
	ok(strstr(hit, "b.conf: No such file or directory") != NULL,
	    "... and config_load's message on stderr");
	free(hit);
	config_free(a);
	ok(unlink(ocache) == 0, "b.conf.cache removed");

	/* The save's failures: its errno, and no temporary file left. */
	ok(unlink(cache) == 0 && mkdir(cache, 0755) == 0,
	    "a directory where the cache goes");
	capture();
	errno = 0;
	ok(cfgcache_save(c) == -1 && errno == EISDIR,
	    "cfgcache_save onto a directory: -1, EISDIR");
	is_quiet("cfgcache_save: nothing on stderr");
	is_int(entries("cgiwrap.conf.cache."), 0, "no temporary file left");
	ok(rmdir(cache) == 0, "the directory removed");
	snprintf(other, sizeof(other), "%s/no/such.conf", dir);
	keep = c->path;
	c->path = other;
	capture();
	errno = 0;
	ok(cfgcache_save(c) == -1 && errno == ENOENT,
	    "cfgcache_save of a config whose file is gone: -1, ENOENT");
	is_quiet("cfgcache_save: nothing on stderr");
	c->path = keep;
	config_free(c);
	free(text);
	free(edited);
}

/*
 * An edit after cgiwrap -t's parse, before its save, of the same size,
 * in place, in the same clock tick as like as not: the cache saved is
 * of the text parsed, never taken for the text there now.
 */
static void
racy(void)
{
	static const char a[] = "kill_grace = 1s\n", b[] = "kill_grace = 2s\n";
	struct config	*c, *r;
	char		 path[PATH_MAX];
	int		 i, wrong = 0, failed = 0, parsed = 0;

	printf("# an edit during cgiwrap -t\n");
	snprintf(path, sizeof(path), "%s/racy.conf", dir);
	capture();
	for (i = 0; i < 50; i++) {
		spew(path, a, sizeof(a) - 1);
		if ((c = config_load(path, false)) == NULL) {
			failed++;
			continue;
		}
		spew(path, b, sizeof(b) - 1);
		if (cfgcache_save(c) == -1)
			failed++;
		config_free(c);
		if ((r = cfgcache_read(path)) != NULL)
			wrong++;
		config_free(r);
		if ((r = cfgcache_load(path, false)) != NULL &&
		    r->global.set.kill_grace == 2000)
			parsed++;
		config_free(r);
	}
	is_quiet("nothing on stderr");
	is_int(failed, 0, "50 loads and saves");
	if (!is_int(wrong, 0, "an edit between the parse and the save: the "
	    "cache never taken"))
		printf("#   the old text's cache taken %d times of 50\n", wrong);
	is_int(parsed, 50, "... cfgcache_load gives the new text's value");
}

int
main(void)
{
	struct config	*c;

	if (mkdtemp(dir) == NULL)
		bail("mkdtemp");
	snprintf(conf, sizeof(conf), "%s/cgiwrap.conf", dir);
	snprintf(cache, sizeof(cache), "%s.cache", conf);
	copy(CONF("cache.conf"), conf);
	if ((c = round_trip()) != NULL) {
		damage(c);
		modes(c);
		owners(c);
		groups(c);
		kinds(c);
		config_free(c);
	}
	stale();
	racy();
	cleanup();
	return done_testing();
}
