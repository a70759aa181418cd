/*
 * The supervisor's decisions as data: a phase of the child's tree and an
 * event give the next phase, the status bits to add and the actions to
 * carry out, as in s6-supervise's state x event table.  Pure: no process,
 * descriptor or clock is touched here; the supervisor carries out the
 * actions.
 */
#ifndef CGIWRAP_VERDICT_H
#define CGIWRAP_VERDICT_H

#include <stdbool.h>

enum vphase {
	VP_RUNNING,	/* the child runs */
	VP_STOPPING,	/* the child runs, its tree is being stopped */
	VP_EXITED,	/* the child is reaped, what it left may run */
	VP_CLEARING,	/* the child is reaped, the rest is being stopped */
	VP_EMPTY,	/* no process of the tree is left */
	VP_MAX
};

enum vevent {
	VE_HANGUP,	/* the server side left before the response ended */
	VE_HANGUP_DONE,	/* the server side left after it ended */
	VE_ABORT,	/* after VA_DRAIN: the client is gone */
	VE_TERM,	/* SIGTERM or SIGINT to the supervisor */
	VE_DEADLINE,	/* the time limit's timer fired */
	VE_GRACE,	/* the kill_grace (or retry) timer fired */
	VE_REAPED,	/* the child was reaped */
	VE_REAPED_CPU,	/* the child was reaped, dead of its CPU limit */
	VE_EMPTY,	/* wait says no child is left */
	VE_TIME_LIMIT,	/* control: time_limit */
	VE_IGNORE_ON,	/* control: ignore_user_abort 1 */
	VE_IGNORE_OFF,	/* control: ignore_user_abort 0 */
	VE_FINISH,	/* control: finish */
	VE_FAULT,	/* the front says the response broke */
	VE_FAULT_EXITING, /* the same, with the child on its way out */
	VE_ENDED,	/* the front ended the response, or exited */
	VE_IDLE,	/* front and output gone, the child reaped */
	VE_MAX
};

/* Actions, to be carried out in this order. */
#define VA_DRAIN	0x001	/* read the queued control lines, then
				   step VE_ABORT */
#define VA_TELL_TIMEOUT	0x002	/* M_TIMEOUT to the front: 504, cut, 124 */
#define VA_STOP		0x004	/* kill_signal to the tree, then the grace
				   timer at kill_grace (at least 1 ms) */
#define VA_KILL		0x008	/* SIGKILL to the tree, grace timer again */
#define VA_NOTIFY	0x010	/* notify_signal to the child alone */
#define VA_EXITED	0x020	/* disarm the deadline; M_EXITED to the
				   front with the wait status and status */
#define VA_ARM		0x040	/* take the new time limit, arm the deadline */
#define VA_TELL_FINISH	0x080	/* M_FINISH to the front */
#define VA_LET_GO	0x100	/* close the copy of the front's stdout */
#define VA_DONE		0x200	/* over: log line, shutdown commands */

struct verdict {
	enum vphase	 phase;
	int		 status;	/* ST_* bits, only ever added */
	bool		 ignore;	/* ignore_user_abort, as now set */
	bool		 notify;	/* a notify_signal is configured */
	bool		 notified;	/* and was sent */
	bool		 orphans_kill;	/* orphans kill */
};

void	 verdict_init(struct verdict *, bool ignore, bool notify,
	    bool orphans_kill);

/* Apply an event; returns the VA_* actions to carry out. */
int	 verdict_step(struct verdict *, enum vevent);

#endif
