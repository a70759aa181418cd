/* The server side of a CGI: descriptors 0, 1 and 2, and signals. */
#ifndef CGIWRAP_SERVER_CGI_H
#define CGIWRAP_SERVER_CGI_H

#include "server.h"

/* One CGI request per process: its state is the process's. */
extern const struct server server_cgi;

#endif
