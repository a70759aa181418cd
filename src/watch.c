/*
 * The client watch.  A CGI program cannot see the client, and Apache
 * looks only when it writes; the kernel knows at once: the server's
 * socket turns CLOSE_WAIT when the client closes or half-closes, and
 * disappears when it resets.  Like ss(8), ask sock_diag: at the start
 * for the listening sockets, then for this connection by its address on
 * each listening port (exact lookups: the kernel walks no table of
 * connections, however many there are in TIME_WAIT), then for that one
 * socket by its cookie.
 *
 * Asking for the listening sockets walks the kernel's whole listening
 * hash table, the costliest part of a start; a FastCGI worker, which
 * starts one watch after another, asks again only when its list is a
 * second old or did not lead to the connection.
 */
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "watch.h"

#define ALL_STATES	0xfff
#define MAX_LISTEN	256	/* more listening ports: the watch is off */
#define LISTEN_TTL	1	/* seconds a list of them is used */

struct addr {
	int		 family;
	uint32_t	 a[4];
};

struct diag_req {
	struct nlmsghdr		 nh;
	struct inet_diag_req_v2	 r;
};


/* IPv4-mapped IPv6 addresses are compared as the IPv4 they carry. */
static void
unmap(struct addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == AF_INET6 &&
	    memcmp(a->a, mapped, sizeof(mapped)) == 0) {
		a->family = AF_INET;
		a->a[0] = a->a[3];
	}
	if (a->family == AF_INET)
		a->a[1] = a->a[2] = a->a[3] = 0;
}

static int
parse_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (s == NULL)
		return -1;
	if (inet_pton(AF_INET, s, a->a) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, a->a) == 1)
		a->family = AF_INET6;
	else
		return -1;
	unmap(a);
	return 0;
}

static bool
same_addr(const struct addr *want, int family, const uint32_t *got)
{
	struct addr a = { .family = family };

	memcpy(a.a, got, sizeof(a.a));
	unmap(&a);
	return a.family == want->family &&
	    memcmp(a.a, want->a, sizeof(a.a)) == 0;
}

static int
sendreq(int nl, const void *req, size_t len)
{
	while (send(nl, req, len, 0) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

static struct diag_req
diag_request(size_t len, int family, unsigned states, uint16_t flags)
{
	return (struct diag_req){
		.nh.nlmsg_len = (uint32_t)len,
		.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY,
		.nh.nlmsg_flags = NLM_F_REQUEST | flags,
		.r.sdiag_family = (uint8_t)family,
		.r.sdiag_protocol = IPPROTO_TCP,
		.r.idiag_states = states,
	};
}

/* One socket, by its id. */
static int
ask(int nl, int family, const struct inet_diag_sockid *id)
{
	struct diag_req req = diag_request(sizeof(req), family, ALL_STATES, 0);

	req.r.id = *id;
	return sendreq(nl, &req, sizeof(req));
}

/*
 * The listening sockets of both families in one walk of the kernel's
 * listening table: the old request (TCPDIAG_GETSOCK) has no family, and
 * the kernel dumps every one for it.
 */
static int
ask_listeners(int nl)
{
	struct {
		struct nlmsghdr		nh;
		struct inet_diag_req	r;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = TCPDIAG_GETSOCK,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.r.idiag_states = 1 << TCP_LISTEN,
	};

	return sendreq(nl, &req, sizeof(req));
}

/*
 * Read replies; for each socket call found().  Returns 0 at the end of
 * the answer, -1 on error (ENOENT: no such socket).
 */
static int
replies(int nl, void (*found)(const struct inet_diag_msg *, void *),
    void *arg)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	struct nlmsgerr *e;
	ssize_t n;
	bool dump = true;

	while (dump) {
		if ((n = recv(nl, buf, sizeof(buf), 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		    nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				e = NLMSG_DATA(nh);
				errno = -e->error;
				return -1;
			}
			found(NLMSG_DATA(nh), arg);
			dump = (nh->nlmsg_flags & NLM_F_MULTI) != 0;
		}
	}
	return 0;
}

/* The listening sockets a connection to local may have come through. */
struct listeners {
	struct addr		 local;
	time_t			 when;		/* CLOCK_MONOTONIC seconds */
	struct {
		int		 family;
		uint16_t	 port;		/* network order */
	}			 listen[MAX_LISTEN];
	size_t			 nlisten;
	bool			 too_many;
};

struct search {
	struct addr		 remote;
	uint16_t		 port;		/* network order */
	int			 matches;
	int			 family;
	struct inet_diag_sockid	 id;
	struct listeners	*l;
	bool			 cached;	/* l is from an earlier watch */
};

/* The last list asked for, kept for the next watch of this process. */
static struct listeners known;

/* The socket asked through, kept for the next watch too; -1 = none. */
static int kept = -1;

static void	match(const struct inet_diag_msg *, void *);

static bool
wildcard(const uint32_t *a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static void
listener(const struct inet_diag_msg *m, void *arg)
{
	struct listeners *l = arg;
	size_t i;

	if (m->idiag_state != TCP_LISTEN || (!wildcard(m->id.idiag_src) &&
	    !same_addr(&l->local, m->idiag_family, m->id.idiag_src)))
		return;
	/* Several sockets on one port (SO_REUSEPORT): one lookup. */
	for (i = 0; i < l->nlisten; i++)
		if (l->listen[i].family == m->idiag_family &&
		    l->listen[i].port == m->id.idiag_sport)
			return;
	if (l->nlisten == MAX_LISTEN) {
		l->too_many = true;
		return;
	}
	l->listen[l->nlisten].family = m->idiag_family;
	l->listen[l->nlisten++].port = m->id.idiag_sport;
}

static time_t
now_s(void)
{
	struct timespec ts;

	return clock_gettime(CLOCK_MONOTONIC, &ts) == -1 ? 0 : ts.tv_sec;
}

/*
 * The listening sockets for local: the known ones if recent (cached),
 * else asked for.
 */
static struct listeners *
listeners(int nl, const struct addr *local, bool fresh, bool *cached)
{
	time_t now = now_s();

	*cached = !fresh && known.when != 0 && now - known.when < LISTEN_TTL &&
	    memcmp(&known.local, local, sizeof(*local)) == 0;
	if (*cached)
		return &known;
	memset(&known, 0, sizeof(known));
	known.local = *local;
	/* IPv4-mapped sockets under IPv6 included. */
	if (ask_listeners(nl) == -1 || replies(nl, listener, &known) == -1)
		return NULL;
	known.when = now;
	return &known;
}

/* a as a socket of family holds it (IPv4 in IPv6: mapped); or -1. */
static int
put_addr(uint32_t *dst, int family, const struct addr *a)
{
	memset(dst, 0, 4 * sizeof(*dst));
	if (family == a->family) {
		memcpy(dst, a->a, 4 * sizeof(*dst));
		return 0;
	}
	if (family == AF_INET6 && a->family == AF_INET) {
		dst[2] = htonl(0xffff);
		dst[3] = a->a[0];
		return 0;
	}
	return -1;
}

/* This connection through listening socket i, if it is there. */
static int
ask_through(int nl, struct search *s, size_t i)
{
	struct inet_diag_sockid id = {
		.idiag_sport = s->l->listen[i].port,
		.idiag_dport = s->port,
		.idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
	};
	int family = s->l->listen[i].family;

	if (put_addr(id.idiag_src, family, &s->l->local) == -1 ||
	    put_addr(id.idiag_dst, family, &s->remote) == -1)
		return 0;
	if (ask(nl, family, &id) == -1)
		return -1;
	if (replies(nl, match, s) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static void
match(const struct inet_diag_msg *m, void *arg)
{
	struct search *s = arg;

	if ((m->idiag_state != TCP_ESTABLISHED &&
	    m->idiag_state != TCP_CLOSE_WAIT) || m->id.idiag_dport != s->port ||
	    !same_addr(&s->remote, m->idiag_family, m->id.idiag_dst) ||
	    !same_addr(&s->l->local, m->idiag_family, m->id.idiag_src))
		return;
	s->matches++;
	s->family = m->idiag_family;
	s->id = m->id;
}

static int
port_of(const char *text, uint16_t *port)
{
	char *end;
	long n;

	if (text == NULL)
		return -1;
	n = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || n <= 0 || n > 65535)
		return -1;
	*port = htons((uint16_t)n);
	return 0;
}

/*
 * SERVER_PORT is not asked for: it may come from the client's Host
 * header (Apache's UseCanonicalName Off), and must not be able to pick
 * another connection of the same peer address and port.  Every local
 * port the server listens on is tried instead, and the connection must
 * be found through exactly one.
 */
/*
 * This connection, through exactly one of the listening sockets: 0, 1
 * when none or several, -1 on an error asking.
 */
static int
find(int nl, struct search *s, const struct addr *local, bool fresh)
{
	size_t i;

	s->matches = 0;
	if ((s->l = listeners(nl, local, fresh, &s->cached)) == NULL)
		return -1;
	if (s->l->too_many)
		return 1;
	for (i = 0; i < s->l->nlisten; i++)
		if (ask_through(nl, s, i) == -1)
			return -1;
	return s->matches == 1 ? 0 : 1;
}

int
watch_start(struct watch *w, bool fin_hangs_up, const char *server_addr,
    const char *remote_addr, const char *remote_port)
{
	struct search s = { 0 };
	struct addr local;
	int found;

	w->nl = -1;
	if (port_of(remote_port, &s.port) == -1 ||
	    parse_addr(server_addr, &local) == -1 ||
	    parse_addr(remote_addr, &s.remote) == -1)
		return -1;
	if (kept == -1 && (kept = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) == -1)
		return -1;
	/*
	 * Unix socket, proxy, rewritten address, several: nothing sure.
	 * A list kept from before may miss a port opened since: asked anew.
	 */
	if ((found = find(kept, &s, &local, false)) == 1 && s.cached)
		found = find(kept, &s, &local, true);
	/* An answer cut short must not be read as the next one's. */
	if (found == -1)
		watch_close();
	if (found != 0)
		return -1;
	w->nl = kept;
	w->fin_hangs_up = fin_hangs_up;
	w->family = s.family;
	w->id = s.id;
	return 0;
}

static void
state_of(const struct inet_diag_msg *m, void *arg)
{
	*(int *)arg = m->idiag_state;
}

int
watch_check(struct watch *w)
{
	int state = -1;

	if (w->nl == -1)
		return 0;
	if (ask(w->nl, w->family, &w->id) == -1 ||
	    (replies(w->nl, state_of, &state) == -1 && errno != ENOENT)) {
		/* Asked no more: the answer may be cut short. */
		watch_close();
		w->nl = -1;
		return 0;
	}
	return state == TCP_CLOSE || state == -1 ||
	    (state == TCP_CLOSE_WAIT && w->fin_hangs_up);
}

void
watch_stop(struct watch *w)
{
	w->nl = -1;
}

void
watch_close(void)
{
	if (kept != -1)
		close(kept);
	kept = -1;
}
