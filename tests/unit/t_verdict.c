/*
 * The verdict table, cell by cell: every phase x event pair against the
 * behaviour cgiwrap.8 describes and the integration tests assert, then
 * the guards, invariants over every flag combination, and whole requests.
 */
#include <stdbool.h>
#include <stdio.h>

#include "status.h"
#include "verdict.h"
#include "tap.h"

#define RUN	VP_RUNNING
#define STOP	VP_STOPPING
#define EXIT	VP_EXITED
#define CLEAR	VP_CLEARING
#define EMPTY	VP_EMPTY
#define AB	ST_ABORTED
#define TO	ST_TIMEOUT
#define ALL_ACTIONS (VA_DRAIN | VA_TELL_TIMEOUT | VA_STOP | VA_KILL | \
	VA_NOTIFY | VA_EXITED | VA_ARM | VA_TELL_FINISH | VA_LET_GO | VA_DONE)

static const char *const phase[VP_MAX] = {
	"running", "stopping", "exited", "clearing", "empty"
};

static const char *const event[VE_MAX] = {
	"hangup", "hangup_done", "abort", "term", "deadline", "grace",
	"reaped", "reaped_cpu", "empty", "time_limit", "ignore_on",
	"ignore_off", "finish", "fault", "fault_exiting", "ended", "idle"
};

struct row {
	enum vphase	 from;
	enum vevent	 ev;
	int		 st;		/* status before */
	bool		 ignore, notified, orphans_kill;
	enum vphase	 to;
	int		 want_st;
	int		 actions;
};

/* With no flag set: the base row of a pair. */
#define B(p, e, q, s, a)	{ p, e, 0, false, false, false, q, s, a }

static const struct row base[] = {
	B(RUN, VE_HANGUP, RUN, 0, VA_DRAIN),
	B(RUN, VE_HANGUP_DONE, RUN, 0, 0),
	B(RUN, VE_ABORT, STOP, AB, VA_STOP),
	B(RUN, VE_TERM, STOP, AB, VA_STOP),
	B(RUN, VE_DEADLINE, STOP, TO, VA_TELL_TIMEOUT | VA_STOP),
	B(RUN, VE_GRACE, RUN, 0, VA_KILL),
	B(RUN, VE_REAPED, EXIT, 0, VA_EXITED),
	B(RUN, VE_REAPED_CPU, EXIT, TO, VA_EXITED),
	B(RUN, VE_EMPTY, RUN, 0, 0),
	B(RUN, VE_TIME_LIMIT, RUN, 0, VA_ARM),
	B(RUN, VE_IGNORE_ON, RUN, 0, 0),
	B(RUN, VE_IGNORE_OFF, RUN, 0, 0),
	B(RUN, VE_FINISH, RUN, 0, VA_TELL_FINISH),
	B(RUN, VE_FAULT, STOP, 0, VA_STOP),
	B(RUN, VE_FAULT_EXITING, RUN, 0, 0),
	B(RUN, VE_ENDED, RUN, 0, VA_LET_GO),
	B(RUN, VE_IDLE, RUN, 0, 0),

	B(STOP, VE_HANGUP, STOP, 0, VA_DRAIN),
	B(STOP, VE_HANGUP_DONE, STOP, 0, 0),
	B(STOP, VE_ABORT, STOP, AB, 0),
	B(STOP, VE_TERM, STOP, AB, 0),
	B(STOP, VE_DEADLINE, STOP, 0, 0),
	B(STOP, VE_GRACE, STOP, 0, VA_KILL),
	B(STOP, VE_REAPED, CLEAR, 0, VA_EXITED),
	B(STOP, VE_REAPED_CPU, CLEAR, TO, VA_EXITED),
	B(STOP, VE_EMPTY, STOP, 0, 0),
	B(STOP, VE_TIME_LIMIT, STOP, 0, VA_ARM),
	B(STOP, VE_IGNORE_ON, STOP, 0, 0),
	B(STOP, VE_IGNORE_OFF, STOP, 0, 0),
	B(STOP, VE_FINISH, STOP, 0, VA_TELL_FINISH),
	B(STOP, VE_FAULT, STOP, 0, 0),
	B(STOP, VE_FAULT_EXITING, STOP, 0, 0),
	B(STOP, VE_ENDED, STOP, 0, VA_LET_GO),
	B(STOP, VE_IDLE, STOP, 0, 0),

	B(EXIT, VE_HANGUP, EXIT, 0, VA_DRAIN),
	B(EXIT, VE_HANGUP_DONE, EXIT, 0, 0),
	B(EXIT, VE_ABORT, EXIT, AB, 0),
	B(EXIT, VE_TERM, EXIT, AB, 0),
	B(EXIT, VE_DEADLINE, EXIT, 0, 0),
	B(EXIT, VE_GRACE, EXIT, 0, VA_KILL),
	B(EXIT, VE_REAPED, EXIT, 0, 0),
	B(EXIT, VE_REAPED_CPU, EXIT, 0, 0),
	B(EXIT, VE_EMPTY, EMPTY, 0, 0),
	B(EXIT, VE_TIME_LIMIT, EXIT, 0, VA_ARM),
	B(EXIT, VE_IGNORE_ON, EXIT, 0, 0),
	B(EXIT, VE_IGNORE_OFF, EXIT, 0, 0),
	B(EXIT, VE_FINISH, EXIT, 0, VA_TELL_FINISH),
	B(EXIT, VE_FAULT, EXIT, 0, 0),
	B(EXIT, VE_FAULT_EXITING, EXIT, 0, 0),
	B(EXIT, VE_ENDED, EXIT, 0, VA_LET_GO),
	B(EXIT, VE_IDLE, EXIT, 0, VA_DONE),

	B(CLEAR, VE_HANGUP, CLEAR, 0, VA_DRAIN),
	B(CLEAR, VE_HANGUP_DONE, CLEAR, 0, 0),
	B(CLEAR, VE_ABORT, CLEAR, AB, 0),
	B(CLEAR, VE_TERM, CLEAR, AB, 0),
	B(CLEAR, VE_DEADLINE, CLEAR, 0, 0),
	B(CLEAR, VE_GRACE, CLEAR, 0, VA_KILL),
	B(CLEAR, VE_REAPED, CLEAR, 0, 0),
	B(CLEAR, VE_REAPED_CPU, CLEAR, 0, 0),
	B(CLEAR, VE_EMPTY, EMPTY, 0, 0),
	B(CLEAR, VE_TIME_LIMIT, CLEAR, 0, VA_ARM),
	B(CLEAR, VE_IGNORE_ON, CLEAR, 0, 0),
	B(CLEAR, VE_IGNORE_OFF, CLEAR, 0, 0),
	B(CLEAR, VE_FINISH, CLEAR, 0, VA_TELL_FINISH),
	B(CLEAR, VE_FAULT, CLEAR, 0, 0),
	B(CLEAR, VE_FAULT_EXITING, CLEAR, 0, 0),
	B(CLEAR, VE_ENDED, CLEAR, 0, VA_LET_GO),
	B(CLEAR, VE_IDLE, CLEAR, 0, 0),

	B(EMPTY, VE_HANGUP, EMPTY, 0, VA_DRAIN),
	B(EMPTY, VE_HANGUP_DONE, EMPTY, 0, 0),
	B(EMPTY, VE_ABORT, EMPTY, AB, 0),
	B(EMPTY, VE_TERM, EMPTY, AB, 0),
	B(EMPTY, VE_DEADLINE, EMPTY, 0, 0),
	B(EMPTY, VE_GRACE, EMPTY, 0, 0),
	B(EMPTY, VE_REAPED, EMPTY, 0, 0),
	B(EMPTY, VE_REAPED_CPU, EMPTY, 0, 0),
	B(EMPTY, VE_EMPTY, EMPTY, 0, 0),
	B(EMPTY, VE_TIME_LIMIT, EMPTY, 0, VA_ARM),
	B(EMPTY, VE_IGNORE_ON, EMPTY, 0, 0),
	B(EMPTY, VE_IGNORE_OFF, EMPTY, 0, 0),
	B(EMPTY, VE_FINISH, EMPTY, 0, VA_TELL_FINISH),
	B(EMPTY, VE_FAULT, EMPTY, 0, 0),
	B(EMPTY, VE_FAULT_EXITING, EMPTY, 0, 0),
	B(EMPTY, VE_ENDED, EMPTY, 0, VA_LET_GO),
	B(EMPTY, VE_IDLE, EMPTY, 0, VA_DONE),
};

/* The guards: the same pairs with flags set. */
static const struct row guarded[] = {
	/* A hangup counts once. */
	{ RUN, VE_HANGUP, AB, false, false, false, RUN, AB, 0 },
	{ STOP, VE_HANGUP, AB, false, false, false, STOP, AB, 0 },
	{ EXIT, VE_HANGUP, AB, false, false, false, EXIT, AB, 0 },
	{ CLEAR, VE_HANGUP, AB, false, false, false, CLEAR, AB, 0 },
	{ EMPTY, VE_HANGUP, AB, false, false, false, EMPTY, AB, 0 },
	/* A timeout makes no second, but an abort adds its bit. */
	{ RUN, VE_HANGUP, TO, false, false, false, RUN, TO, VA_DRAIN },
	/* No new time limit after a timeout. */
	{ RUN, VE_TIME_LIMIT, TO, false, false, false, RUN, TO, 0 },
	{ STOP, VE_TIME_LIMIT, TO, false, false, false, STOP, TO, 0 },
	{ EXIT, VE_TIME_LIMIT, TO, false, false, false, EXIT, TO, 0 },
	{ CLEAR, VE_TIME_LIMIT, TO, false, false, false, CLEAR, TO, 0 },
	{ EMPTY, VE_TIME_LIMIT, TO, false, false, false, EMPTY, TO, 0 },
	{ RUN, VE_TIME_LIMIT, AB, false, false, false, RUN, AB, VA_ARM },
	/* ignore_user_abort: told, once, and running on. */
	{ RUN, VE_ABORT, 0, true, false, false, RUN, AB, VA_NOTIFY },
	{ RUN, VE_ABORT, 0, true, true, false, RUN, AB, 0 },
	{ STOP, VE_ABORT, 0, true, false, false, STOP, AB, VA_NOTIFY },
	{ STOP, VE_ABORT, 0, true, true, false, STOP, AB, 0 },
	{ EXIT, VE_ABORT, 0, true, false, false, EXIT, AB, 0 },
	{ CLEAR, VE_ABORT, 0, true, false, false, CLEAR, AB, 0 },
	{ EMPTY, VE_ABORT, 0, true, false, false, EMPTY, AB, 0 },
	{ RUN, VE_ABORT, TO, true, false, false, RUN, AB | TO, VA_NOTIFY },
	/* Stopping the supervisor stops the request, ignored or not. */
	{ RUN, VE_TERM, 0, true, false, false, STOP, AB, VA_STOP },
	{ RUN, VE_TERM, TO, false, false, false, STOP, AB | TO, VA_STOP },
	/* The time limit holds for an ignored abort too. */
	{ RUN, VE_DEADLINE, AB, true, true, false, STOP, AB | TO,
	    VA_TELL_TIMEOUT | VA_STOP },
	/* Ignoring turned off after the client left: stopped now. */
	{ RUN, VE_IGNORE_OFF, AB, true, true, false, STOP, AB, VA_STOP },
	{ RUN, VE_IGNORE_OFF, AB, false, false, false, STOP, AB, VA_STOP },
	{ STOP, VE_IGNORE_OFF, AB, true, true, false, STOP, AB, 0 },
	{ EXIT, VE_IGNORE_OFF, AB, true, true, false, EXIT, AB, 0 },
	{ CLEAR, VE_IGNORE_OFF, AB, true, false, false, CLEAR, AB, 0 },
	{ EMPTY, VE_IGNORE_OFF, AB, true, false, false, EMPTY, AB, 0 },
	{ RUN, VE_IGNORE_ON, AB, false, false, false, RUN, AB, 0 },
	/* The CPU limit is a timeout on top of what was. */
	{ RUN, VE_REAPED_CPU, AB, false, false, false, EXIT, AB | TO,
	    VA_EXITED },
	{ STOP, VE_REAPED_CPU, TO, false, false, false, CLEAR, TO, VA_EXITED },
	{ RUN, VE_REAPED, AB | TO, false, false, false, EXIT, AB | TO,
	    VA_EXITED },
	/* orphans kill: what the child left is stopped, then it is over. */
	{ EXIT, VE_IDLE, 0, false, false, true, CLEAR, 0, VA_STOP },
	{ CLEAR, VE_IDLE, 0, false, false, true, CLEAR, 0, 0 },
	{ EMPTY, VE_IDLE, 0, false, false, true, EMPTY, 0, VA_DONE },
	{ RUN, VE_IDLE, 0, false, false, true, RUN, 0, 0 },
	{ EXIT, VE_IDLE, AB | TO, false, false, true, CLEAR, AB | TO,
	    VA_STOP },
};

static void
check(const struct row *r, bool notify)
{
	struct verdict v;
	char name[160], msg[192];
	int got;

	verdict_init(&v, r->ignore, notify, r->orphans_kill);
	v.phase = r->from;
	v.status = r->st;
	v.notified = r->notified;
	got = verdict_step(&v, r->ev);
	snprintf(name, sizeof(name), "%s x %s (%s%s%s%s%s)",
	    phase[r->from], event[r->ev], status_name(r->st),
	    r->ignore ? ", ignored" : "", r->notified ? ", notified" : "",
	    r->orphans_kill ? ", orphans kill" : "",
	    notify ? "" : ", no notify_signal");
	snprintf(msg, sizeof(msg), "%s: phase", name);
	if (!is_int(v.phase, r->to, msg))
		printf("#   %s, want %s\n", phase[v.phase], phase[r->to]);
	snprintf(msg, sizeof(msg), "%s: status", name);
	is_str(status_name(v.status), status_name(r->want_st), msg);
	snprintf(msg, sizeof(msg), "%s: actions", name);
	is_int(got, notify ? r->actions : r->actions & ~VA_NOTIFY, msg);
	snprintf(msg, sizeof(msg), "%s: notified", name);
	is_int(v.notified, r->notified || (got & VA_NOTIFY), msg);
	snprintf(msg, sizeof(msg), "%s: ignore", name);
	is_int(v.ignore, r->ev == VE_IGNORE_ON || r->ev == VE_IGNORE_OFF ?
	    r->ev == VE_IGNORE_ON : r->ignore, msg);
}

static void
test_pairs(void)
{
	bool seen[VP_MAX][VE_MAX] = { { false } };
	size_t i;
	int p, e, missing = 0;

	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		check(&base[i], true);
		seen[base[i].from][base[i].ev] = true;
	}
	for (p = 0; p < VP_MAX; p++)
		for (e = 0; e < VE_MAX; e++)
			if (!seen[p][e]) {
				printf("# no row for %s x %s\n", phase[p],
				    event[e]);
				missing++;
			}
	is_int(missing, 0, "every phase x event pair has its row");
}

static void
test_guards(void)
{
	size_t i;

	for (i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		check(&guarded[i], true);
	/* Without a notify_signal nobody is told, and nothing is noted. */
	for (i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++)
		if (guarded[i].actions & VA_NOTIFY)
			check(&guarded[i], false);
}

static bool
stopping(int p)
{
	return p == VP_STOPPING || p == VP_CLEARING;
}

static bool
reaped(int p)
{
	return p == VP_EXITED || p == VP_CLEARING || p == VP_EMPTY;
}

/* Whatever the flags: the promises the supervisor relies on. */
static void
test_invariants(void)
{
	struct verdict v, was;
	int p, e, st, flags, got, bad[7] = { 0 };

	for (p = 0; p < VP_MAX; p++)
	for (e = 0; e < VE_MAX; e++)
	for (st = 0; st <= ST_MAX; st++)
	for (flags = 0; flags < 16; flags++) {
		verdict_init(&v, flags & 1, flags & 2, flags & 4);
		v.phase = p;
		v.status = st;
		v.notified = flags & 8;
		was = v;
		got = verdict_step(&v, e);
		/* A status bit, once set, stays. */
		bad[0] += (v.status & st) != st;
		/* The tree is stopped once: on entering a stopping phase. */
		bad[1] += (got & VA_STOP) &&
		    (stopping(was.phase) || !stopping(v.phase));
		bad[1] += stopping(was.phase) && !stopping(v.phase) &&
		    v.phase != VP_EMPTY;
		/* Reaped is for good; empty only once reaped. */
		bad[2] += reaped(was.phase) && !reaped(v.phase);
		bad[2] += v.phase == VP_EMPTY && !reaped(was.phase);
		/* Over only with the child reaped and nothing to stop. */
		bad[3] += (got & VA_DONE) && v.phase != VP_EXITED &&
		    v.phase != VP_EMPTY;
		/* Told at most once, and only with a signal to tell by. */
		bad[4] += (got & VA_NOTIFY) && (!was.notify || was.notified);
		bad[4] += v.notified != (was.notified || (got & VA_NOTIFY));
		/* A reaped child is not signalled or told again. */
		bad[5] += reaped(was.phase) && (got & (VA_NOTIFY | VA_EXITED |
		    VA_TELL_TIMEOUT));
		bad[6] += (got & ~ALL_ACTIONS) != 0;
	}
	is_int(bad[0], 0, "status bits are only ever added");
	is_int(bad[1], 0, "a tree is stopped once, on entering stopping");
	is_int(bad[2], 0, "a reaped child stays reaped");
	is_int(bad[3], 0, "over only when reaped, nothing being stopped");
	is_int(bad[4], 0, "notify_signal at most once, only when set");
	is_int(bad[5], 0, "no news of a child after its reaping");
	is_int(bad[6], 0, "no action outside VA_*");
}

/* Steps events, checking the actions of each; returns the verdict. */
static struct verdict
walk(const char *name, bool ignore, bool orphans_kill, const int *steps)
{
	struct verdict v;
	char msg[128];
	int i;

	verdict_init(&v, ignore, true, orphans_kill);
	for (i = 0; steps[i] != -1; i += 2) {
		snprintf(msg, sizeof(msg), "%s: %s, step %d", name,
		    event[steps[i]], i / 2 + 1);
		is_int(verdict_step(&v, steps[i]), steps[i + 1], msg);
	}
	return v;
}

/* Whole requests, as the integration tests drive them. */
static void
test_requests(void)
{
	static const int plain[] = { VE_TIME_LIMIT, VA_ARM,
	    VE_REAPED, VA_EXITED, VE_ENDED, VA_LET_GO, VE_HANGUP_DONE, 0,
	    VE_EMPTY, 0, VE_IDLE, VA_DONE, -1 };
	static const int abort[] = { VE_HANGUP, VA_DRAIN,
	    VE_ABORT, VA_STOP, VE_HANGUP, 0, VE_GRACE, VA_KILL,
	    VE_REAPED, VA_EXITED, VE_GRACE, VA_KILL, VE_EMPTY, 0,
	    VE_GRACE, 0, VE_IDLE, VA_DONE, -1 };
	static const int ignored[] = { VE_HANGUP, VA_DRAIN,
	    VE_ABORT, VA_NOTIFY, VE_HANGUP, 0, VE_IGNORE_ON, 0,
	    VE_IGNORE_OFF, VA_STOP, VE_REAPED, VA_EXITED, VE_EMPTY, 0,
	    VE_IDLE, VA_DONE, -1 };
	static const int timeout[] = { VE_DEADLINE,
	    VA_TELL_TIMEOUT | VA_STOP, VE_TIME_LIMIT, 0, VE_DEADLINE, 0,
	    VE_HANGUP_DONE, 0, VE_REAPED, VA_EXITED, VE_EMPTY, 0,
	    VE_IDLE, VA_DONE, -1 };
	static const int orphans[] = { VE_REAPED, VA_EXITED, VE_IDLE,
	    VA_STOP, VE_IDLE, 0, VE_GRACE, VA_KILL, VE_EMPTY, 0,
	    VE_IDLE, VA_DONE, -1 };
	static const int fault[] = { VE_FINISH, VA_TELL_FINISH,
	    VE_FAULT, VA_STOP, VE_FAULT, 0, VE_REAPED_CPU, VA_EXITED,
	    VE_EMPTY, 0, VE_IDLE, VA_DONE, -1 };
	struct verdict v;

	v = walk("plain", false, false, plain);
	is_str(status_name(v.status), "NORMAL", "plain: NORMAL");
	v = walk("abort", false, false, abort);
	is_str(status_name(v.status), "ABORTED", "abort: ABORTED");
	v = walk("ignored", true, false, ignored);
	is_str(status_name(v.status), "ABORTED", "ignored: ABORTED");
	is_int(v.ignore, false, "ignored: turned off");
	v = walk("timeout", false, false, timeout);
	is_str(status_name(v.status), "TIMEOUT", "timeout: TIMEOUT");
	v = walk("orphans", false, true, orphans);
	is_str(status_name(v.status), "NORMAL", "orphans: NORMAL");
	v = walk("fault", false, false, fault);
	is_str(status_name(v.status), "TIMEOUT", "fault, CPU limit: TIMEOUT");
}

static void
test_bad(void)
{
	struct verdict v;

	verdict_init(&v, false, true, false);
	is_int(verdict_step(&v, VE_MAX), 0, "an unknown event does nothing");
	is_int(v.phase, VP_RUNNING, "and leaves the phase");
	v.phase = VP_MAX;
	is_int(verdict_step(&v, VE_TERM), 0, "an unknown phase does nothing");
	is_int(v.status, ST_NORMAL, "and leaves the status");
}

int
main(void)
{
	test_pairs();
	test_guards();
	test_invariants();
	test_requests();
	test_bad();
	return done_testing();
}
