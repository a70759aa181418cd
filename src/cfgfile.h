/*
 * The configuration file read and parsed with libconfuse, its quirks
 * kept inside: every problem is reported as "cgiwrap: FILE:LINE: option:
 * reason", and the line each option and section was set on is kept
 * beside the libconfuse tree.  One file at a time.
 */
#ifndef CGIWRAP_CFGFILE_H
#define CGIWRAP_CFGFILE_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Read the file at path, refusing one that others could have written,
 * and parse it with the schema opts; *found tells whether there was a
 * file: a missing one is an error unless missing_ok, and then the tree
 * is empty.  Every problem is reported; any reported while parsing, by
 * libconfuse or a callback, fails the parse, so that one run lists
 * every bad value: then NULL is returned.  The tree and the lines of
 * its options last until cfgfile_close (which takes NULL too).
 */
cfg_t	*cfgfile_open(const char *path, bool missing_ok, cfg_opt_t *opts,
	    bool *found);
void	 cfgfile_close(cfg_t *);

/*
 * Report a problem of the file on stderr, "cgiwrap: FILE:LINE: MESSAGE",
 * or without LINE if it is 0.  The message just reported for the same
 * option is not said again: libconfuse checks the last value of a list
 * again at its '}'.  Returns -1.
 */
int	 cfgfile_report(int line, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Every validation callback starts with one of these: an option's with
 * cfgfile_seen, a section's with cfgfile_closed, which returns the
 * section just parsed.  They note the lines, and count the sections as
 * they appear in the text: every section needs a callback.  -1 or NULL
 * (reported) must end the parse.
 */
int	 cfgfile_seen(cfg_t *cfg, cfg_opt_t *o);
cfg_t	*cfgfile_closed(cfg_t *cfg, cfg_opt_t *o);

/* FNV-1a, 64 bits: the checksum of a file's text, and of its cache. */
uint64_t cfgfile_checksum(const void *p, size_t len);

/* The checksum of the text cfgfile_open read (0 if there was no file). */
uint64_t cfgfile_textsum(void);

/* The line of a section's title, or of its name if it has none. */
int	 cfgfile_secline(cfg_t *sec);

/*
 * The line option o was set on in its section (where its last value
 * ends), -1 if it is set to an empty list ("name = {}" runs no
 * callback), or 0 if it is not set there.
 */
int	 cfgfile_origin(cfg_opt_t *o);

#endif
