/* The supervisor of one child. */
#ifndef CGIWRAP_SUPERVISE_H
#define CGIWRAP_SUPERVISE_H

#include "request.h"

/* Runs in the process forked by the front; never returns. */
void	 supervise(struct request *) __attribute__((noreturn));

#endif
