/* Finding the program to run. */
#ifndef CGIWRAP_TARGET_H
#define CGIWRAP_TARGET_H

#include <stdbool.h>

/*
 * Explicit mode: PROGRAM as execvp(3) finds it (along PATH when it has
 * no slash), resolved with realpath(3).  Returns a malloc'd path, or
 * NULL with errno ENOENT or EACCES.
 */
char	*target_explicit(const char *program);

/* Does the response come from an nph- program (a whole HTTP response)? */
bool	 target_nph(const char *path);

#endif
