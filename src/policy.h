/* The effective policy for one target: script section over global level. */
#ifndef CGIWRAP_POLICY_H
#define CGIWRAP_POLICY_H

#include <stdio.h>

#include "config.h"

struct policy {
	const struct level *section;	/* matching script section or NULL */
	struct settings	  set;
	/* Shutdown commands: global ones first, then the section's. */
	const struct shutdown_cmd *shutdown[2];
	size_t		  nshutdown[2];
};

/* First script section whose glob matches the resolved target path. */
const struct level *policy_match(const struct config *, const char *target);

/* Fill in the effective policy for a resolved target path. */
void		 policy_resolve(const struct config *, const char *target,
		    struct policy *);

/* Print every setting, its value and where it came from (cgiwrap -e). */
void		 policy_explain(const struct config *, const char *target,
		    FILE *);

#endif
