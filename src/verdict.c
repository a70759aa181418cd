/*
 * The connection status and what to do about each event, decided in one
 * table (cgiwrap.8: Connection status, Abort policy, Time limit,
 * Leftover processes).  A cell names a guard on the verdict's flags and
 * what follows when it holds and when it does not.
 */
#include "status.h"
#include "verdict.h"

enum guard {
	G_ALWAYS,
	G_NOT_ABORTED,	/* a second hangup changes nothing */
	G_NOT_TIMEOUT,	/* a timed-out script gets no new time limit */
	G_NOT_IGNORED,	/* ignore_user_abort off */
	G_ABORTED,	/* the client left while ignored */
	G_ORPHANS_KILL,	/* what the child left is stopped */
};

struct then {
	unsigned char	 next;
	unsigned char	 bits;
	short		 actions;
};

struct cell {
	unsigned char	 guard;
	struct then	 yes, no;
};

#define RUN	VP_RUNNING
#define STOP	VP_STOPPING
#define EXIT	VP_EXITED
#define CLEAR	VP_CLEARING
#define EMPTY	VP_EMPTY
#define AB	ST_ABORTED
#define TO	ST_TIMEOUT

/* The same whatever the guard. */
#define DO(p, b, a)		{ G_ALWAYS, { p, b, a }, { p, b, a } }
#define IF(g, p, b, a, q, c, d)	{ g, { p, b, a }, { q, c, d } }
#define STAY(p)			DO(p, 0, 0)

/* A hangup counts once, and only before the response ended. */
#define HANGUP(p)	IF(G_NOT_ABORTED, p, 0, VA_DRAIN, p, 0, 0)
#define ARM(p)		IF(G_NOT_TIMEOUT, p, 0, VA_ARM, p, 0, 0)

static const struct cell table[VP_MAX][VE_MAX] = {
	[VP_RUNNING] = {
		[VE_HANGUP] = HANGUP(RUN),
		[VE_HANGUP_DONE] = STAY(RUN),
		[VE_ABORT] = IF(G_NOT_IGNORED, STOP, AB, VA_STOP,
		    RUN, AB, VA_NOTIFY),
		[VE_TERM] = DO(STOP, AB, VA_STOP),
		[VE_DEADLINE] = DO(STOP, TO, VA_TELL_TIMEOUT | VA_STOP),
		/* Not armed yet; as in any phase, a tree left is killed. */
		[VE_GRACE] = DO(RUN, 0, VA_KILL),
		[VE_REAPED] = DO(EXIT, 0, VA_EXITED),
		[VE_REAPED_CPU] = DO(EXIT, TO, VA_EXITED),
		/* The child is in the tree: cannot be. */
		[VE_EMPTY] = STAY(RUN),
		[VE_TIME_LIMIT] = ARM(RUN),
		[VE_IGNORE_ON] = STAY(RUN),
		[VE_IGNORE_OFF] = IF(G_ABORTED, STOP, 0, VA_STOP, RUN, 0, 0),
		[VE_FINISH] = DO(RUN, 0, VA_TELL_FINISH),
		/* A broken script is not let run on, as by a server. */
		[VE_FAULT] = DO(STOP, 0, VA_STOP),
		[VE_FAULT_EXITING] = STAY(RUN),
		[VE_ENDED] = DO(RUN, 0, VA_LET_GO),
		[VE_IDLE] = STAY(RUN),
	},
	[VP_STOPPING] = {
		[VE_HANGUP] = HANGUP(STOP),
		[VE_HANGUP_DONE] = STAY(STOP),
		/* Ignored, the script still hears of it while it stops. */
		[VE_ABORT] = IF(G_NOT_IGNORED, STOP, AB, 0,
		    STOP, AB, VA_NOTIFY),
		[VE_TERM] = DO(STOP, AB, 0),
		/* A tree already stopping is no timeout. */
		[VE_DEADLINE] = STAY(STOP),
		[VE_GRACE] = DO(STOP, 0, VA_KILL),
		[VE_REAPED] = DO(CLEAR, 0, VA_EXITED),
		[VE_REAPED_CPU] = DO(CLEAR, TO, VA_EXITED),
		[VE_EMPTY] = STAY(STOP),
		[VE_TIME_LIMIT] = ARM(STOP),
		[VE_IGNORE_ON] = STAY(STOP),
		[VE_IGNORE_OFF] = STAY(STOP),
		[VE_FINISH] = DO(STOP, 0, VA_TELL_FINISH),
		[VE_FAULT] = STAY(STOP),
		[VE_FAULT_EXITING] = STAY(STOP),
		[VE_ENDED] = DO(STOP, 0, VA_LET_GO),
		[VE_IDLE] = STAY(STOP),
	},
	[VP_EXITED] = {
		[VE_HANGUP] = HANGUP(EXIT),
		[VE_HANGUP_DONE] = STAY(EXIT),
		/* Too late to stop or tell, not to count. */
		[VE_ABORT] = DO(EXIT, AB, 0),
		[VE_TERM] = DO(EXIT, AB, 0),
		[VE_DEADLINE] = STAY(EXIT),
		/* Not armed; as in any phase, a tree left is killed. */
		[VE_GRACE] = DO(EXIT, 0, VA_KILL),
		[VE_REAPED] = STAY(EXIT),
		[VE_REAPED_CPU] = STAY(EXIT),
		[VE_EMPTY] = STAY(EMPTY),
		/* Armed for nothing: a deadline now changes nothing. */
		[VE_TIME_LIMIT] = ARM(EXIT),
		[VE_IGNORE_ON] = STAY(EXIT),
		[VE_IGNORE_OFF] = STAY(EXIT),
		[VE_FINISH] = DO(EXIT, 0, VA_TELL_FINISH),
		[VE_FAULT] = STAY(EXIT),
		[VE_FAULT_EXITING] = STAY(EXIT),
		[VE_ENDED] = DO(EXIT, 0, VA_LET_GO),
		[VE_IDLE] = IF(G_ORPHANS_KILL, CLEAR, 0, VA_STOP,
		    EXIT, 0, VA_DONE),
	},
	[VP_CLEARING] = {
		[VE_HANGUP] = HANGUP(CLEAR),
		[VE_HANGUP_DONE] = STAY(CLEAR),
		[VE_ABORT] = DO(CLEAR, AB, 0),
		[VE_TERM] = DO(CLEAR, AB, 0),
		[VE_DEADLINE] = STAY(CLEAR),
		[VE_GRACE] = DO(CLEAR, 0, VA_KILL),
		[VE_REAPED] = STAY(CLEAR),
		[VE_REAPED_CPU] = STAY(CLEAR),
		[VE_EMPTY] = STAY(EMPTY),
		[VE_TIME_LIMIT] = ARM(CLEAR),
		[VE_IGNORE_ON] = STAY(CLEAR),
		[VE_IGNORE_OFF] = STAY(CLEAR),
		[VE_FINISH] = DO(CLEAR, 0, VA_TELL_FINISH),
		[VE_FAULT] = STAY(CLEAR),
		[VE_FAULT_EXITING] = STAY(CLEAR),
		[VE_ENDED] = DO(CLEAR, 0, VA_LET_GO),
		/* Over once the tree is empty. */
		[VE_IDLE] = STAY(CLEAR),
	},
	[VP_EMPTY] = {
		[VE_HANGUP] = HANGUP(EMPTY),
		[VE_HANGUP_DONE] = STAY(EMPTY),
		[VE_ABORT] = DO(EMPTY, AB, 0),
		[VE_TERM] = DO(EMPTY, AB, 0),
		[VE_DEADLINE] = STAY(EMPTY),
		[VE_GRACE] = STAY(EMPTY),
		[VE_REAPED] = STAY(EMPTY),
		[VE_REAPED_CPU] = STAY(EMPTY),
		[VE_EMPTY] = STAY(EMPTY),
		[VE_TIME_LIMIT] = ARM(EMPTY),
		[VE_IGNORE_ON] = STAY(EMPTY),
		[VE_IGNORE_OFF] = STAY(EMPTY),
		[VE_FINISH] = DO(EMPTY, 0, VA_TELL_FINISH),
		[VE_FAULT] = STAY(EMPTY),
		[VE_FAULT_EXITING] = STAY(EMPTY),
		[VE_ENDED] = DO(EMPTY, 0, VA_LET_GO),
		[VE_IDLE] = DO(EMPTY, 0, VA_DONE),
	},
};

void
verdict_init(struct verdict *v, bool ignore, bool notify, bool orphans_kill)
{
	*v = (struct verdict){ .phase = VP_RUNNING, .status = ST_NORMAL,
	    .ignore = ignore, .notify = notify,
	    .orphans_kill = orphans_kill };
}

static bool
holds(const struct verdict *v, enum guard g)
{
	switch (g) {
	case G_NOT_ABORTED:
		return !(v->status & ST_ABORTED);
	case G_NOT_TIMEOUT:
		return !(v->status & ST_TIMEOUT);
	case G_NOT_IGNORED:
		return !v->ignore;
	case G_ABORTED:
		return v->status & ST_ABORTED;
	case G_ORPHANS_KILL:
		return v->orphans_kill;
	case G_ALWAYS:
		break;
	}
	return true;
}

int
verdict_step(struct verdict *v, enum vevent ev)
{
	const struct cell *c;
	const struct then *t;
	int actions;

	if (v->phase >= VP_MAX || ev >= VE_MAX)
		return 0;
	if (ev == VE_IGNORE_ON || ev == VE_IGNORE_OFF)
		v->ignore = ev == VE_IGNORE_ON;
	c = &table[v->phase][ev];
	t = holds(v, c->guard) ? &c->yes : &c->no;
	v->phase = t->next;
	v->status |= t->bits;
	actions = t->actions;
	/* The script is told once, and only if a signal is configured. */
	if (actions & VA_NOTIFY) {
		if (!v->notify || v->notified)
			actions &= ~VA_NOTIFY;
		else
			v->notified = true;
	}
	return actions;
}
