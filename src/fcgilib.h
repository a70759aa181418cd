/*
 * libfcgi, for FastCGI mode alone.  A dynamic build opens it when that
 * mode starts: CGI mode, one exec per request, spares the dynamic
 * loader its work.  A static build (FCGI_LINKED) has it linked in.
 */
#ifndef CGIWRAP_FCGILIB_H
#define CGIWRAP_FCGILIB_H

#include <fcgiapp.h>

/* The library's file, for dlopen, as Debian's libfcgi0ldbl ships it. */
#define FCGILIB_SONAME	"libfcgi.so.0"

/* The functions of libfcgi that fastcgi.c calls, FCGX_ left off. */
#define FCGILIB_FUNCS(X)						\
	X(Accept_r) X(FFlush) X(FPrintF) X(Finish_r) X(Free) X(GetError)\
	X(GetParam) X(GetStr) X(Init) X(InitRequest) X(PutStr)		\
	X(ShutdownPending)

/* Each with the type fcgiapp.h declares: fcgx.GetStr for FCGX_GetStr. */
struct fcgilib {
#define FCGILIB_MEMBER(f)	__typeof__(FCGX_##f) *f;
	FCGILIB_FUNCS(FCGILIB_MEMBER)
#undef FCGILIB_MEMBER
};

extern struct fcgilib fcgx;

/* Fill fcgx; exits with status 125 and says why when the library fails. */
void	 fcgilib_load(void);

#endif
