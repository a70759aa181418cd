/* FastCGI mode: a pool of workers, one request at a time each. */
#ifndef CGIWRAP_FASTCGI_H
#define CGIWRAP_FASTCGI_H

#include <stdbool.h>
#include <sys/types.h>

struct fastcgi {
	const char	*socket;	/* unix:PATH, HOST:PORT, NULL = fd 0 */
	mode_t		 mode;		/* of a unix socket */
	int		 workers;
	const char	*config;
	bool		 missing_ok;
};

/* Is descriptor 0 a listening socket (spawn-fcgi, systemd)? */
bool	 fastcgi_inherited(void);

/* Serve until SIGTERM; returns the exit status. */
int	 fastcgi_serve(const struct fastcgi *);

#endif
