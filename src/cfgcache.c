/*
 * The configuration's cache (cfgcache.h).  One walk of struct config,
 * xfer_config, both writes the cache and reads it back, so the two
 * cannot drift apart.  The layout is this binary's own (host order, the
 * structures' sizes): its build ID in the header keeps any other binary
 * from reading it.  The file is recognised by its text, not its inode
 * or times: a time stamp a write leaves unchanged (a coarse clock, a
 * restored backup) cannot make an old cache pass for a new text.
 */
#include <sys/auxv.h>
#include <sys/stat.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgcache.h"
#include "cfgfile.h"
#include "io.h"

#define CACHE_MAX	(16 << 20)	/* bytes; a bigger one is not ours */
#define NOSTR		UINT64_MAX	/* a NULL string's length */

/* What a cache is for: this binary, and the text it was parsed from. */
struct ident {
	char		 magic[8];
	uint32_t	 idlen;
	unsigned char	 id[64];	/* the build ID */
	uint64_t	 textsum;
};

struct io {
	bool		 out;		/* writing the cache, else reading */
	bool		 bad;		/* out of memory, or not a cache */
	unsigned char	*buf;
	size_t		 len;		/* written, or read so far */
	size_t		 size;		/* allocated, or there to read */
};

#define ALIGN(n, a)	(((n) + (a) - 1) & ~(size_t)((a) - 1))

#if UINTPTR_MAX == UINT64_MAX
typedef Elf64_Phdr	Phdr;
typedef Elf64_Nhdr	Nhdr;
#else
typedef Elf32_Phdr	Phdr;
typedef Elf32_Nhdr	Nhdr;
#endif

/* The program's build ID, from its notes as loaded (as ld.so finds them). */
static void
buildid(struct ident *id)
{
	const Phdr	*ph0 = (const Phdr *)getauxval(AT_PHDR), *ph;
	size_t		 n = getauxval(AT_PHNUM), al;
	uintptr_t	 base = 0;
	const char	*p, *end, *desc;
	Nhdr		 nh;

	for (ph = ph0; ph != NULL && ph < ph0 + n; ph++)
		if (ph->p_type == PT_PHDR)
			base = (uintptr_t)ph0 - ph->p_vaddr;
	for (ph = ph0; ph != NULL && ph < ph0 + n; ph++) {
		if (ph->p_type != PT_NOTE)
			continue;
		al = ph->p_align == 8 ? 8 : 4;
		p = (const char *)(base + ph->p_vaddr);
		end = p + ph->p_memsz;
		while ((size_t)(end - p) >= sizeof(nh)) {
			memcpy(&nh, p, sizeof(nh));
			desc = p + ALIGN(sizeof(nh) + nh.n_namesz, al);
			if (desc > end || (size_t)(end - desc) < nh.n_descsz)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(p + sizeof(nh), "GNU", 4) == 0 &&
			    nh.n_descsz <= sizeof(id->id)) {
				memcpy(id->id, desc, nh.n_descsz);
				id->idlen = nh.n_descsz;
				return;
			}
			p = desc + ALIGN(nh.n_descsz, al);
		}
	}
}

/* Fills *id; -1 for a binary linked without a build ID: no cache then. */
static int
ident(struct ident *id, uint64_t textsum)
{
	memset(id, 0, sizeof(*id));
	memcpy(id->magic, "cgiwrap\2", sizeof(id->magic));
	buildid(id);
	id->textsum = textsum;
	return id->idlen > 0 ? 0 : -1;
}

static void
xfer(struct io *io, void *p, size_t n)
{
	unsigned char	*b;
	size_t		 size;

	if (io->bad)
		return;
	if (!io->out) {
		if (n > io->size - io->len) {
			io->bad = true;
			return;
		}
		memcpy(p, io->buf + io->len, n);
		io->len += n;
		return;
	}
	if (n > io->size - io->len) {
		size = io->size != 0 ? io->size : 4096;
		while (size - io->len < n)
			size *= 2;
		if ((b = realloc(io->buf, size)) == NULL) {
			io->bad = true;
			return;
		}
		io->buf = b;
		io->size = size;
	}
	memcpy(io->buf + io->len, p, n);
	io->len += n;
}

/* A count read back must fit in what is left: 8 bytes or more each. */
static uint64_t
xfer_count(struct io *io, uint64_t n)
{
	xfer(io, &n, sizeof(n));
	if (!io->out && !io->bad && n > (io->size - io->len) / sizeof(n))
		io->bad = true;
	return io->bad ? 0 : n;
}

static void
xfer_str(struct io *io, char **s)
{
	uint64_t	 n = *s != NULL ? strlen(*s) : NOSTR;

	xfer(io, &n, sizeof(n));
	if (io->out) {
		if (*s != NULL)
			xfer(io, *s, n);
		return;
	}
	if (io->bad || n == NOSTR)
		return;
	if (n > io->size - io->len || (*s = malloc(n + 1)) == NULL) {
		io->bad = true;
		return;
	}
	xfer(io, *s, n);
	(*s)[n] = '\0';
	if (memchr(*s, '\0', n) != NULL)
		io->bad = true;
}

/*
 * An array's count, then (reading) the array itself, zeroed, with extra
 * elements more: its count is set only once it is there, so config_free
 * frees what was read of it.  Returns the array.
 */
static void *
xfer_array(struct io *io, void *a, size_t *count, size_t size, size_t extra)
{
	uint64_t	 n = xfer_count(io, *count);

	if (io->out || n == 0)
		return a;
	if ((a = calloc(n + extra, size)) == NULL)
		io->bad = true;
	else
		*count = n;
	return a;
}

static void
xfer_list(struct io *io, struct strlist *l)
{
	size_t	 i;

	/* One more: v[n] is NULL, so v can be an argv. */
	l->v = xfer_array(io, l->v, &l->n, sizeof(*l->v), 1);
	for (i = 0; i < l->n && !io->bad; i++) {
		xfer_str(io, &l->v[i]);
		if (l->v[i] == NULL)
			io->bad = true;	/* would end an argv early */
	}
}

static void
xfer_cmd(struct io *io, struct shutdown_cmd *sc)
{
	xfer_str(io, &sc->name);
	xfer_list(io, &sc->argv);
	xfer(io, &sc->timeout, sizeof(sc->timeout));
	xfer(io, &sc->when, sizeof(sc->when));
	xfer(io, &sc->line, sizeof(sc->line));
}

static void
xfer_level(struct io *io, struct level *lv)
{
	const struct optdesc	*d;
	char			*p;
	size_t			 i;

	xfer_str(io, &lv->glob);
	xfer(io, &lv->line, sizeof(lv->line));
	for (d = config_opts; d < config_opts + OPT_COUNT; d++) {
		p = (char *)&lv->set + d->offset;
		if (d->kind == OPTK_NAMES || d->kind == OPTK_ASSIGNS)
			xfer_list(io, (struct strlist *)p);
		else
			xfer(io, p, d->size);
	}
	xfer(io, lv->origin, sizeof(lv->origin));
	lv->shutdown = xfer_array(io, lv->shutdown, &lv->nshutdown,
	    sizeof(*lv->shutdown), 0);
	for (i = 0; i < lv->nshutdown; i++)
		xfer_cmd(io, &lv->shutdown[i]);
}

static void
xfer_suexec(struct io *io, struct suexec_conf *se)
{
	xfer(io, &se->set, sizeof(se->set));
	xfer_str(io, &se->caller);
	xfer_str(io, &se->docroot);
	xfer_str(io, &se->userdir_suffix);
	xfer(io, &se->min_uid, sizeof(se->min_uid));
	xfer(io, &se->min_gid, sizeof(se->min_gid));
	xfer_list(io, &se->allow_users);
	xfer_list(io, &se->allow_groups);
}

/* Everything but the path, which is the file's own. */
static void
xfer_config(struct io *io, struct config *c)
{
	size_t	 i;

	xfer_list(io, &c->roots);
	xfer(io, &c->roots_line, sizeof(c->roots_line));
	xfer_str(io, &c->log);
	xfer(io, &c->log_line, sizeof(c->log_line));
	xfer(io, &c->log_format, sizeof(c->log_format));
	xfer(io, &c->log_format_line, sizeof(c->log_format_line));
	xfer(io, &c->fastcgi_timeout, sizeof(c->fastcgi_timeout));
	xfer(io, &c->fastcgi_timeout_line, sizeof(c->fastcgi_timeout_line));
	xfer_list(io, &c->alias_roots);
	xfer(io, &c->alias_roots_line, sizeof(c->alias_roots_line));
	xfer(io, &c->shim_chdir, sizeof(c->shim_chdir));
	xfer(io, &c->shim_chdir_line, sizeof(c->shim_chdir_line));
	xfer_str(io, &c->status_path);
	xfer(io, &c->status_path_line, sizeof(c->status_path_line));
	xfer_level(io, &c->global);
	c->script = xfer_array(io, c->script, &c->nscript, sizeof(*c->script),
	    0);
	for (i = 0; i < c->nscript; i++)
		xfer_level(io, &c->script[i]);
	xfer_suexec(io, &c->suexec);
}

static char *
cache_path(const char *path)
{
	char	*p;

	return asprintf(&p, "%s.cache", path) == -1 ? NULL : p;
}

/*
 * The whole of a regular file, in *len bytes; NULL if it is anything
 * else, or writable by group or others (as cfgfile.c refuses a
 * configuration).  *st describes it.
 */
static unsigned char *
slurp_file(const char *path, int flags, struct stat *st, size_t *len)
{
	unsigned char	*buf = NULL;
	int		 fd;

	flags |= O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	if ((fd = open(path, flags)) == -1)
		return NULL;
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) &&
	    (st->st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
	    st->st_size <= CACHE_MAX &&
	    (buf = malloc(st->st_size + 1)) != NULL &&	/* + 1: "" too */
	    read_all(fd, buf, st->st_size) == -1) {
		free(buf);
		buf = NULL;
	}
	*len = buf != NULL ? (size_t)st->st_size : 0;
	(void)close(fd);
	return buf;
}

/*
 * The cache is opened first: without one (no -t yet), a request pays a
 * failed open, not a read of the file on top of its parse.
 */
struct config *
cfgcache_read(const char *path)
{
	struct ident	 want, got;
	struct config	*c = NULL;
	struct stat	 st, cst;
	struct io	 io = { 0 };
	unsigned char	*text = NULL;
	uint64_t	 check;
	size_t		 len;
	char		*cpath;

	if ((cpath = cache_path(path)) == NULL)
		return NULL;
	io.buf = slurp_file(cpath, O_NOFOLLOW, &cst, &io.size);
	free(cpath);
	if (io.buf == NULL ||
	    (text = slurp_file(path, 0, &st, &len)) == NULL ||
	    ident(&want, cfgfile_checksum(text, len)) == -1)
		goto done;
	/* Its owner could write the file itself: the cache gives no more. */
	if ((cst.st_uid != st.st_uid && cst.st_uid != 0) ||
	    io.size < sizeof(got) + sizeof(check))
		goto done;
	memcpy(&check, io.buf + io.size - sizeof(check), sizeof(check));
	io.size -= sizeof(check);
	xfer(&io, &got, sizeof(got));
	if (memcmp(&got, &want, sizeof(got)) != 0 ||
	    check != cfgfile_checksum(io.buf, io.size) ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		goto done;
	xfer_config(&io, c);
	c->textsum = want.textsum;
	if (io.bad || io.len != io.size || (c->path = strdup(path)) == NULL) {
		config_free(c);
		c = NULL;
	}
done:
	free(text);
	free(io.buf);
	return c;
}

struct config *
cfgcache_load(const char *path, bool missing_ok)
{
	struct config	*c;

	if ((c = cfgcache_read(path)) != NULL)
		return c;
	return config_load(path, missing_ok);
}

/*
 * Written whole under another name, then renamed: readers see one.  It
 * is read by whoever may read the file, and written by no one else.
 */
static int
put_file(const char *cpath, const struct stat *conf, const void *buf,
    size_t len)
{
	mode_t	 mode = conf->st_mode & 0644;
	char	*tmp;
	int	 fd, rc, saved;

	if (asprintf(&tmp, "%s.XXXXXX", cpath) == -1)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		free(tmp);
		return -1;
	}
	/*
	 * The file's owner and group (root's -t gives the cache away); a
	 * group we are not in: then the group does not read it.
	 */
	if (fchown(fd, conf->st_uid, conf->st_gid) == -1)
		mode &= ~(mode_t)S_IRGRP;
	rc = fchmod(fd, mode) == -1 || write_all(fd, buf, len) == -1 ? -1 : 0;
	if (close(fd) == -1 || rc == -1 || rename(tmp, cpath) == -1) {
		saved = errno;
		(void)unlink(tmp);
		errno = saved;
		rc = -1;
	}
	free(tmp);
	return rc;
}

int
cfgcache_save(const struct config *c)
{
	struct ident	 id;
	struct stat	 st;
	struct io	 io = { .out = true };
	uint64_t	 check;
	char		*cpath = NULL;
	int		 rc = -1;

	/* A cache of anyone else's would be refused: keep the one there. */
	if (stat(c->path, &st) == -1)
		return -1;
	if (geteuid() != st.st_uid && geteuid() != 0) {
		errno = EPERM;
		return -1;
	}
	if (ident(&id, c->textsum) == -1) {
		errno = ENOTSUP;
		return -1;
	}
	xfer(&io, &id, sizeof(id));
	/* Written from, not into: the walk only reads c when io.out. */
	xfer_config(&io, (struct config *)c);
	check = cfgfile_checksum(io.buf, io.len);
	xfer(&io, &check, sizeof(check));
	if (io.bad)
		errno = ENOMEM;
	else if ((cpath = cache_path(c->path)) != NULL)
		rc = put_file(cpath, &st, io.buf, io.len);
	free(cpath);
	free(io.buf);
	return rc;
}
