/*
 * The FastCGI status page.  The pool's counters and slots come from the
 * shared mapping; the listen queue from the kernel (TCP_INFO on a TCP
 * socket, sock_diag on a unix one: what ss(8) shows as Recv-Q and
 * Send-Q); a running request's CPU time from /proc: the worker's keeper,
 * its youngest child (keeper.c), leads a session of its own that holds
 * every process of the request, live or reaped by one of them (their
 * time then their reaper's); the keeper's own time is cgiwrap's.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "statuspage.h"

/* A process, from /proc/PID/stat; times in clock ticks. */
struct proc {
	pid_t			 pid, ppid, sid;
	unsigned long long	 ticks;		/* user + system */
	unsigned long long	 cticks;	/* of reaped children */
	unsigned long long	 start;		/* since boot */
};

/* What the page shows, taken once. */
struct view {
	const struct pool	*p;
	long			 queue, queue_max;	/* -1: unknown */
	int			 active, idle, total, max_active;
	struct pool_slot	*slot;
	long long		*elapsed_ms;
	long long		*cpu_ms;	/* -1: not running */
	struct timespec		 now;		/* CLOCK_BOOTTIME */
};

static const char *const state_names[] = {
	[POOL_IDLE] = "idle",
	[POOL_READING] = "reading",
	[POOL_RUNNING] = "running",
};

enum statuspage_format
statuspage_format(const char *query)
{
	if (query != NULL && strcmp(query, "json") == 0)
		return SP_JSON;
	if (query != NULL && strcmp(query, "prometheus") == 0)
		return SP_PROMETHEUS;
	return SP_TEXT;
}

const char *
statuspage_type(enum statuspage_format f)
{
	if (f == SP_JSON)
		return "application/json";
	if (f == SP_PROMETHEUS)
		return "text/plain; version=0.0.4; charset=utf-8";
	return "text/plain; charset=utf-8";
}

/* A listening unix socket's queue and backlog, by its inode. */
static int
unix_queue(int lfd, long *q, long *max)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr		nh;
		struct unix_diag_req	r;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
		    .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		    .nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = AF_UNIX, .udiag_show = UDIAG_SHOW_RQLEN,
		    .udiag_cookie = { ~0U, ~0U } },
	};
	union {
		struct nlmsghdr	nh;
		char		buf[4096];
	} ans;
	struct unix_diag_rqlen *rq;
	struct unix_diag_msg *m;
	struct rtattr *a;
	struct stat st;
	ssize_t n;
	int nl, rc = -1, len;

	if (fstat(lfd, &st) == -1)
		return -1;
	req.r.udiag_ino = (unsigned)st.st_ino;
	if ((nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	if (sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
	    sizeof(kernel)) == -1)
		goto out;
	while ((n = recv(nl, &ans, sizeof(ans), 0)) == -1 && errno == EINTR)
		continue;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*m)) || !NLMSG_OK(&ans.nh, n) ||
	    ans.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		goto out;
	m = NLMSG_DATA(&ans.nh);
	len = (int)(ans.nh.nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (a = (struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(a) >= (int)sizeof(*rq)) {
			rq = RTA_DATA(a);
			*q = rq->udiag_rqueue;
			*max = rq->udiag_wqueue;
			rc = 0;
		}
out:
	close(nl);
	return rc;
}

/* Connections waiting for a worker, and how many may wait. */
static void
listen_queue(int lfd, long *q, long *max)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);

	*q = *max = -1;
	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		return;
	if (ss.ss_family == AF_UNIX) {
		if (unix_queue(lfd, q, max) == -1)
			*q = *max = -1;
	} else if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0) {
		/* Of a listening socket: accept queue and backlog. */
		*q = ti.tcpi_unacked;
		*max = ti.tcpi_sacked;
	}
}

static int
read_proc(const char *pid, struct proc *pr)
{
	char path[64], buf[1024], *p;
	long long ut, st, cut, cst;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((n = read(fd, buf, sizeof(buf) - 1)) == -1 && errno == EINTR)
		continue;
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold anything, ')' too: the last one ends it. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %d %*d %d %*d %*d %*u %*u %*u %*u %*u %lld "
	    "%lld %lld %lld %*d %*d %*d %*d %llu", &pr->ppid, &pr->sid, &ut,
	    &st, &cut, &cst, &pr->start) != 7)
		return -1;
	pr->pid = atoi(pid);
	pr->ticks = (unsigned long long)(ut + st);
	pr->cticks = (unsigned long long)(cut + cst);
	return 0;
}

/* Every process; NULL when /proc cannot be read. */
static struct proc *
procs(size_t *np)
{
	struct proc *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return NULL;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				free(v);
				closedir(dir);
				return NULL;
			}
			v = nv;
		}
		if (read_proc(d->d_name, &v[n]) == 0)
			n++;
	}
	closedir(dir);
	*np = n;
	return v;
}

/* The CPU time of the request slot s runs, in ms; -1 if none is seen. */
static long long
cpu_ms(const struct pool_slot *s, const struct proc *v, size_t n, long hz)
{
	const struct proc *sup = NULL;
	unsigned long long t;
	size_t i, members;

	for (i = 0; i < n; i++)
		if (v[i].ppid == s->pid && v[i].sid == v[i].pid &&
		    (sup == NULL || v[i].start > sup->start))
			sup = &v[i];
	if (sup == NULL)
		return -1;
	/* A reaped process's time is in its reaper's, no longer its own. */
	for (t = 0, members = 0, i = 0; i < n; i++)
		if (v[i].sid == sup->pid && v[i].pid != sup->pid) {
			t += v[i].ticks + v[i].cticks;
			members++;
		}
	/* An idle keeper: the request runs no program (the status page). */
	if (members == 0)
		return -1;
	return (long long)(t * 1000 / (unsigned long long)hz);
}

static long long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

static int
view_take(struct view *w, const struct pool *p, int lfd)
{
	struct proc *pv;
	size_t npv = 0;
	long hz = sysconf(_SC_CLK_TCK);
	int i;

	memset(w, 0, sizeof(*w));
	w->p = p;
	w->slot = calloc((size_t)p->nslots, sizeof(*w->slot));
	w->elapsed_ms = calloc((size_t)p->nslots, sizeof(*w->elapsed_ms));
	w->cpu_ms = calloc((size_t)p->nslots, sizeof(*w->cpu_ms));
	if (w->slot == NULL || w->elapsed_ms == NULL || w->cpu_ms == NULL ||
	    clock_gettime(CLOCK_BOOTTIME, &w->now) == -1)
		return -1;
	listen_queue(lfd, &w->queue, &w->queue_max);
	pv = hz > 0 ? procs(&npv) : NULL;
	for (i = 0; i < p->nslots; i++) {
		pool_slot(p, i, &w->slot[i]);
		w->elapsed_ms[i] = ms_between(&w->slot[i].since, &w->now);
		w->cpu_ms[i] = w->slot[i].state == POOL_RUNNING && pv != NULL ?
		    cpu_ms(&w->slot[i], pv, npv, hz) : -1;
		if (w->slot[i].pid == 0)
			continue;
		w->total++;
		if (w->slot[i].state == POOL_IDLE)
			w->idle++;
		else
			w->active++;
	}
	free(pv);
	w->max_active = atomic_load(&p->max_active);
	/* The slots were read one by one, after the counter. */
	if (w->max_active < w->active)
		w->max_active = w->active;
	return 0;
}

static void
view_free(struct view *w)
{
	free(w->slot);
	free(w->elapsed_ms);
	free(w->cpu_ms);
}

static void
text_num(FILE *fp, const char *key, long long v)
{
	if (v < 0)
		fprintf(fp, "%-24s -\n", key);
	else
		fprintf(fp, "%-24s %lld\n", key, v);
}

static void
text_page(FILE *fp, const struct view *w)
{
	const struct pool_slot *s;
	char when[32];
	struct tm tm;
	int i;

	if (gmtime_r(&w->p->started.tv_sec, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		when[0] = '\0';
	fprintf(fp, "%-24s %s\n", "start time:", when);
	text_num(fp, "start since:", ms_between(&w->p->started_boot,
	    &w->now) / 1000);
	text_num(fp, "accepted requests:", (long long)
	    atomic_load(&w->p->accepted));
	text_num(fp, "listen queue:", w->queue);
	text_num(fp, "max listen queue:", w->queue_max);
	text_num(fp, "idle workers:", w->idle);
	text_num(fp, "active workers:", w->active);
	text_num(fp, "total workers:", w->total);
	text_num(fp, "max active workers:", w->max_active);
	text_num(fp, "slow requests:", (long long)atomic_load(&w->p->slow));
	for (i = 0; i < w->p->nslots; i++) {
		s = &w->slot[i];
		fprintf(fp, "\n%-24s %d\n", "worker:", i);
		text_num(fp, "pid:", s->pid);
		fprintf(fp, "%-24s %s\n", "state:", state_names[s->state]);
		text_num(fp, "requests:", (long long)s->requests);
		text_num(fp, "elapsed ms:", w->elapsed_ms[i]);
		if (s->state != POOL_RUNNING)
			continue;
		fprintf(fp, "%-24s %s\n", "method:", s->method);
		fprintf(fp, "%-24s %s\n", "uri:", s->uri);
		fprintf(fp, "%-24s %s\n", "client:", s->client);
		text_num(fp, "cpu ms:", w->cpu_ms[i]);
	}
}

/* The slot's strings need no escape but these (pool.c). */
static void
json_str(FILE *fp, const char *key, const char *s)
{
	fprintf(fp, "\"%s\":\"", key);
	for (; *s != '\0'; s++)
		fprintf(fp, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	fputc('"', fp);
}

static void
json_num(FILE *fp, const char *key, long long v)
{
	if (v < 0)
		fprintf(fp, "\"%s\":null", key);
	else
		fprintf(fp, "\"%s\":%lld", key, v);
}

static void
json_page(FILE *fp, const struct view *w)
{
	const struct pool_slot *s;
	int i;

	fputc('{', fp);
	json_num(fp, "start_time", (long long)w->p->started.tv_sec);
	fputc(',', fp);
	json_num(fp, "start_since", ms_between(&w->p->started_boot,
	    &w->now) / 1000);
	fputc(',', fp);
	json_num(fp, "accepted_requests", (long long)
	    atomic_load(&w->p->accepted));
	fputc(',', fp);
	json_num(fp, "listen_queue", w->queue);
	fputc(',', fp);
	json_num(fp, "max_listen_queue", w->queue_max);
	fputc(',', fp);
	json_num(fp, "slow_requests", (long long)atomic_load(&w->p->slow));
	fprintf(fp, ",\"idle_workers\":%d,\"active_workers\":%d,"
	    "\"total_workers\":%d,\"max_active_workers\":%d,\"workers\":[",
	    w->idle, w->active, w->total, w->max_active);
	for (i = 0; i < w->p->nslots; i++) {
		s = &w->slot[i];
		fprintf(fp, "%s{\"worker\":%d,\"pid\":%d,\"state\":\"%s\","
		    "\"requests\":%llu,", i ? "," : "", i, (int)s->pid,
		    state_names[s->state], (unsigned long long)s->requests);
		json_num(fp, "elapsed_ms", w->elapsed_ms[i]);
		if (s->state == POOL_RUNNING) {
			fputc(',', fp);
			json_str(fp, "method", s->method);
			fputc(',', fp);
			json_str(fp, "uri", s->uri);
			fputc(',', fp);
			json_str(fp, "client", s->client);
			fputc(',', fp);
			json_num(fp, "cpu_ms", w->cpu_ms[i]);
		}
		fputc('}', fp);
	}
	fputs("]}\n", fp);
}

static void
prom_head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP cgiwrap_%s %s\n# TYPE cgiwrap_%s %s\n", name, help,
	    name, type);
}

static void
prom_one(FILE *fp, const char *name, const char *type, const char *help,
    long long v)
{
	if (v < 0)
		return;
	prom_head(fp, name, type, help);
	fprintf(fp, "cgiwrap_%s %lld\n", name, v);
}

/* A per-worker metric: f gives its value, or -1 for none. */
static void
prom_workers(FILE *fp, const struct view *w, const char *name,
    const char *type, const char *help, double (*f)(const struct view *, int))
{
	double v;
	int i;

	prom_head(fp, name, type, help);
	for (i = 0; i < w->p->nslots; i++)
		if (w->slot[i].pid != 0 && (v = f(w, i)) >= 0)
			fprintf(fp, "cgiwrap_%s{worker=\"%d\",pid=\"%d\"} "
			    "%.15g\n", name, i, (int)w->slot[i].pid, v);
}

static double
w_requests(const struct view *w, int i)
{
	return (double)w->slot[i].requests;
}

static double
w_busy(const struct view *w, int i)
{
	return w->slot[i].state != POOL_IDLE;
}

static double
w_elapsed(const struct view *w, int i)
{
	return w->slot[i].state == POOL_IDLE ? -1 : w->elapsed_ms[i] / 1000.0;
}

static double
w_cpu(const struct view *w, int i)
{
	return w->cpu_ms[i] < 0 ? -1 : w->cpu_ms[i] / 1000.0;
}

static void
prom_page(FILE *fp, const struct view *w)
{
	prom_one(fp, "start_time_seconds", "gauge",
	    "When the pool started, in seconds since the Epoch.",
	    (long long)w->p->started.tv_sec);
	prom_one(fp, "accepted_requests_total", "counter",
	    "Requests the workers took since the pool started.",
	    (long long)atomic_load(&w->p->accepted));
	prom_one(fp, "slow_requests_total", "counter",
	    "Requests that ran past request_slowlog_timeout.",
	    (long long)atomic_load(&w->p->slow));
	prom_one(fp, "listen_queue", "gauge",
	    "Connections waiting for a worker.", w->queue);
	prom_one(fp, "listen_queue_max", "gauge",
	    "How many connections may wait for a worker.", w->queue_max);
	prom_one(fp, "idle_workers", "gauge",
	    "Workers waiting for a connection.", w->idle);
	prom_one(fp, "active_workers", "gauge",
	    "Workers reading or running a request.", w->active);
	prom_one(fp, "total_workers", "gauge", "Workers.", w->total);
	prom_one(fp, "max_active_workers", "gauge",
	    "The most workers active at once since the pool started.",
	    w->max_active);
	prom_workers(fp, w, "worker_requests_total", "counter",
	    "Requests this worker process took.", w_requests);
	prom_workers(fp, w, "worker_busy", "gauge",
	    "1 while the worker reads or runs a request.", w_busy);
	prom_workers(fp, w, "worker_state_seconds", "gauge",
	    "How long the worker has read or run its current request.",
	    w_elapsed);
	prom_workers(fp, w, "worker_request_cpu_seconds", "gauge",
	    "CPU time of every process of the running request.", w_cpu);
}

int
statuspage_write(FILE *fp, const struct pool *p, int lfd,
    enum statuspage_format f)
{
	struct view w;
	int rc = -1;

	if (view_take(&w, p, lfd) == 0) {
		if (f == SP_JSON)
			json_page(fp, &w);
		else if (f == SP_PROMETHEUS)
			prom_page(fp, &w);
		else
			text_page(fp, &w);
		rc = ferror(fp) ? -1 : 0;
	}
	view_free(&w);
	return rc;
}
