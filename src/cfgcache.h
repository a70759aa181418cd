/*
 * The configuration as `cgiwrap -t` last found it, kept beside the file
 * (FILE.cache), so that a request need not load libconfuse and parse the
 * text again.  The cache is used only while it is certainly the file's:
 * written by this very binary (its build ID) from the text the file
 * holds now (its checksum), by the file's owner or root, and writable
 * by nobody else.  Anything else and the file is parsed, as if there
 * were no cache.
 */
#ifndef CGIWRAP_CFGCACHE_H
#define CGIWRAP_CFGCACHE_H

#include <stdbool.h>

#include "config.h"

/* From the cache when it holds the file as it is, else config_load. */
struct config	*cfgcache_load(const char *path, bool missing_ok);

/* The cache alone: NULL when there is none that may be used. */
struct config	*cfgcache_read(const char *path);

/*
 * Write the cache of c, as config_load returned it, beside its file.
 * Only the file's owner or root does (EPERM for anyone else: a cache
 * of theirs would be refused).  Returns -1 with errno set when it cannot.
 */
int		 cfgcache_save(const struct config *c);

#endif
