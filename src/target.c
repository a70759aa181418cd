#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

/* A regular file we may execute, resolved; NULL with errno otherwise. */
static char *
runnable(const char *path)
{
	struct stat st;
	char *real;

	if ((real = realpath(path, NULL)) == NULL)
		return NULL;
	if (stat(real, &st) == -1 || !S_ISREG(st.st_mode) ||
	    access(real, X_OK) == -1) {
		free(real);
		errno = EACCES;
		return NULL;
	}
	return real;
}

char *
target_explicit(const char *program)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX], *found;
	int err = ENOENT;

	if (*program == '\0') {
		errno = ENOENT;
		return NULL;
	}
	if (strchr(program, '/') != NULL)
		return runnable(program);
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; ; p = end + 1) {
		end = strchrnul(p, ':');
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(end - p), p,
		    end > p ? "/" : "", program) < (int)sizeof(buf)) {
			if ((found = runnable(buf)) != NULL)
				return found;
			if (errno == EACCES)
				err = EACCES;
		}
		if (*end == '\0')
			break;
	}
	errno = err;
	return NULL;
}

bool
target_nph(const char *path)
{
	const char *base = strrchr(path, '/');

	return strncmp(base ? base + 1 : path, "nph-", 4) == 0;
}
