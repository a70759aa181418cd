/*
 * libconfuse's and libfcgi's functions, found when their part of
 * cgiwrap first runs (libs.h).
 */
#include <dlfcn.h>
#include <stddef.h>

#include "libs.h"
#include "log.h"

struct confuse confuse;
struct fcgilib fcgx;

#ifdef LIBS_LINKED

const char *
confuse_load(void)
{
#define CONFUSE_SET(f)	confuse.f = cfg_##f;
	CONFUSE_FUNCS(CONFUSE_SET)
	return NULL;
}

void
fcgilib_load(void)
{
#define FCGILIB_SET(f)	fcgx.f = FCGX_##f;
	FCGILIB_FUNCS(FCGILIB_SET)
}

#else

/* RTLD_NOW: a library without a function it needs fails here, at once. */
static void *
open_lib(const char *soname, const char **why)
{
	void	*lib;

	if ((lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		*why = dlerror();
	return lib;
}

/* Past the first function missing, no more lookups: *why stays its. */
static void *
sym(void *lib, const char *name, const char **why)
{
	void	*p = NULL;

	if (*why == NULL && (p = dlsym(lib, name)) == NULL)
		*why = dlerror();
	return p;
}

const char *
confuse_load(void)
{
	const char	*why = NULL;
	void		*lib;

	if (confuse.init != NULL)
		return NULL;
	if ((lib = open_lib(CONFUSE_SONAME, &why)) == NULL)
		return why;
#define CONFUSE_SET(f)	confuse.f = sym(lib, "cfg_" #f, &why);
	CONFUSE_FUNCS(CONFUSE_SET)
	if (why != NULL)
		confuse.init = NULL;
	return why;
}

void
fcgilib_load(void)
{
	const char	*why = NULL;
	void		*lib;

	if ((lib = open_lib(FCGILIB_SONAME, &why)) == NULL)
		fatalx(125, "FastCGI mode needs libfcgi (Debian: libfcgi0ldbl):"
		    " %s", why);
#define FCGILIB_SET(f)	fcgx.f = sym(lib, "FCGX_" #f, &why);
	FCGILIB_FUNCS(FCGILIB_SET)
	if (why != NULL)
		fatalx(125, "FastCGI mode: %s: %s", FCGILIB_SONAME, why);
}

#endif
