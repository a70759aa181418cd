/*
 * libfcgi's functions, found when FastCGI mode starts (fcgilib.h).
 */
#include <dlfcn.h>

#include "fcgilib.h"
#include "log.h"

struct fcgilib fcgx;

#ifdef FCGI_LINKED

void
fcgilib_load(void)
{
#define FCGILIB_SET(f)	fcgx.f = FCGX_##f;
	FCGILIB_FUNCS(FCGILIB_SET)
}

#else

static void *
sym(void *lib, const char *name)
{
	void *p;

	if ((p = dlsym(lib, name)) == NULL)
		fatalx(125, "FastCGI mode: %s: %s", FCGILIB_SONAME, dlerror());
	return p;
}

/* RTLD_NOW: a library without a function fails here, not mid-request. */
void
fcgilib_load(void)
{
	void *lib;

	if ((lib = dlopen(FCGILIB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		fatalx(125, "FastCGI mode needs libfcgi (Debian: libfcgi0ldbl):"
		    " %s", dlerror());
#define FCGILIB_SET(f)	fcgx.f = sym(lib, "FCGX_" #f);
	FCGILIB_FUNCS(FCGILIB_SET)
}

#endif
