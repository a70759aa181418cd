/*
 * The configuration as `cgiwrap -t` last found it, kept beside the file
 * (FILE.cache), so that a request need not load libconfuse and parse the
 * text again: in CGI mode that was a fifth of cgiwrap's own cost.  The
 * cache is used only while it is certainly the file's: written by this
 * very binary (its build ID), for the file's inode as it was then (size,
 * modification and change times: any write changes the change time), by
 * the file's owner or root, and writable by nobody else.  Anything else
 * and the file is parsed, as if there were no cache.
 */
#ifndef CGIWRAP_CFGCACHE_H
#define CGIWRAP_CFGCACHE_H

#include <sys/stat.h>

#include <stdbool.h>

#include "config.h"

/* From the cache when it holds the file as it is, else config_load. */
struct config	*cfgcache_load(const char *path, bool missing_ok);

/* The cache alone: NULL when there is none that may be used. */
struct config	*cfgcache_read(const char *path);

/*
 * Write the cache of c, parsed from path, which st described before it
 * was read (so a write in between makes the cache stale, never wrong).
 * Returns -1 with errno set when it cannot.
 */
int		 cfgcache_save(const struct config *c, const char *path,
		    const struct stat *st);

#endif
