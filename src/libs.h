/*
 * The libraries that one part of cgiwrap needs alone: libconfuse reads
 * the configuration file, libfcgi serves FastCGI mode.  A dynamic build
 * opens each when its part first runs, so that CGI mode (an exec per
 * request) with a fresh cache of the configuration (cfgcache.h) spares
 * the dynamic loader both.  A static build (LIBS_LINKED) has them
 * linked in.
 */
#ifndef CGIWRAP_LIBS_H
#define CGIWRAP_LIBS_H

#include <confuse.h>
#include <fcgiapp.h>

/* The libraries' files, for dlopen, as Debian ships them. */
#define CONFUSE_SONAME	"libconfuse.so.2"
#define FCGILIB_SONAME	"libfcgi.so.0"

/* The functions of libconfuse that config.c and cfgfile.c call, cfg_ off. */
#define CONFUSE_FUNCS(X)						\
	X(free) X(getint) X(getopt) X(getstr) X(init) X(opt_getnbool)	\
	X(opt_getnint) X(opt_getnsec) X(opt_getnstr) X(opt_size)	\
	X(parse_buf) X(set_error_function) X(size) X(title)

/* The functions of libfcgi that fastcgi.c calls, FCGX_ left off. */
#define FCGILIB_FUNCS(X)						\
	X(Accept_r) X(Detach) X(FFlush) X(FPrintF) X(Finish_r) X(Free)	\
	X(GetError) X(GetParam) X(GetStr) X(Init) X(InitRequest)	\
	X(PutStr) X(ShutdownPending)

/* Each with the type confuse.h declares: confuse.size for cfg_size. */
struct confuse {
#define CONFUSE_MEMBER(f)	__typeof__(cfg_##f) *f;
	CONFUSE_FUNCS(CONFUSE_MEMBER)
#undef CONFUSE_MEMBER
};

/* fcgx.GetStr for FCGX_GetStr. */
struct fcgilib {
#define FCGILIB_MEMBER(f)	__typeof__(FCGX_##f) *f;
	FCGILIB_FUNCS(FCGILIB_MEMBER)
#undef FCGILIB_MEMBER
};

extern struct confuse confuse;
extern struct fcgilib fcgx;

/* Fill confuse, once; NULL, else what the dynamic loader says is wrong. */
const char	*confuse_load(void);

/* Fill fcgx; exits with status 125 and says why when the library fails. */
void		 fcgilib_load(void);

#endif
