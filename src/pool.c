/*
 * The FastCGI pool's shared state.  Each slot has one writer, its
 * worker (or the master, once that worker is gone), and is read without
 * a lock: a sequence number, odd during a write, tells a reader to read
 * again.  A writer killed in the middle leaves it odd until the master
 * gives the slot to the next worker, so readers give up after a while
 * and take what they have.
 */
#include <sys/mman.h>

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "pool.h"

#define READ_TRIES	100

static size_t
pool_size(int n)
{
	return sizeof(struct pool) +
	    (size_t)n * sizeof(((struct pool *)0)->slot[0]);
}

struct pool *
pool_map(int n)
{
	struct pool *p;

	p = mmap(NULL, pool_size(n), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* A fresh anonymous mapping is zeroed: every slot idle, empty. */
	p->nslots = n;
	if (clock_gettime(CLOCK_REALTIME, &p->started) == -1 ||
	    clock_gettime(CLOCK_BOOTTIME, &p->started_boot) == -1) {
		munmap(p, pool_size(n));
		return NULL;
	}
	return p;
}

void
pool_unmap(struct pool *p)
{
	if (p != NULL)
		munmap(p, pool_size(p->nslots));
}

static struct pool_slot *
write_begin(struct pool *p, int i)
{
	unsigned s = atomic_load_explicit(&p->slot[i].seq,
	    memory_order_relaxed);

	atomic_store_explicit(&p->slot[i].seq, s | 1,
	    memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return &p->slot[i].s;
}

static void
write_end(struct pool *p, int i)
{
	unsigned s = atomic_load_explicit(&p->slot[i].seq,
	    memory_order_relaxed);

	atomic_store_explicit(&p->slot[i].seq, (s | 1) + 1,
	    memory_order_release);
}

void
pool_vacate(struct pool *p, int i)
{
	/* Its worker is gone: its request no longer counts as active. */
	if (p->slot[i].s.state != POOL_IDLE)
		atomic_fetch_sub(&p->active, 1);
	memset(write_begin(p, i), 0, sizeof(p->slot[i].s));
	write_end(p, i);
}

void
pool_join(struct pool *p, int i)
{
	struct pool_slot *s = write_begin(p, i);

	s->pid = getpid();
	(void)clock_gettime(CLOCK_BOOTTIME, &s->since);
	write_end(p, i);
}

/*
 * A request variable, cut to fit; bytes outside printable ASCII as %XX,
 * as in a URI, so the slot holds nothing a page must escape but " and \.
 */
static void
copy_var(char *dst, size_t len, const char *v)
{
	size_t o = 0;

	for (; v != NULL && *v != '\0' && o + 4 <= len; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			o += (size_t)snprintf(dst + o, len - o, "%%%02X",
			    (unsigned char)*v);
		else
			dst[o++] = *v;
	dst[o] = '\0';
}

static void
raise_max(struct pool *p, int active)
{
	int m = atomic_load(&p->max_active);

	while (active > m &&
	    !atomic_compare_exchange_weak(&p->max_active, &m, active))
		continue;
}

void
pool_enter(struct pool *p, int i, enum pool_state st, char *const *envp)
{
	enum pool_state was = p->slot[i].s.state;
	struct pool_slot *s;
	const char *uri;

	if (was == POOL_IDLE && st != POOL_IDLE)
		raise_max(p, atomic_fetch_add(&p->active, 1) + 1);
	else if (was != POOL_IDLE && st == POOL_IDLE)
		atomic_fetch_sub(&p->active, 1);
	if (st == POOL_RUNNING)
		atomic_fetch_add(&p->accepted, 1);
	s = write_begin(p, i);
	s->state = st;
	(void)clock_gettime(CLOCK_BOOTTIME, &s->since);
	if (st == POOL_RUNNING) {
		s->requests++;
		copy_var(s->method, sizeof(s->method),
		    env_lookup(envp, "REQUEST_METHOD"));
		if ((uri = env_lookup(envp, "REQUEST_URI")) == NULL)
			uri = env_lookup(envp, "SCRIPT_NAME");
		copy_var(s->uri, sizeof(s->uri), uri);
		copy_var(s->client, sizeof(s->client),
		    env_lookup(envp, "REMOTE_ADDR"));
	} else
		s->method[0] = s->uri[0] = s->client[0] = '\0';
	write_end(p, i);
}

void
pool_slot(const struct pool *p, int i, struct pool_slot *out)
{
	unsigned a, b;
	int n;

	for (n = 0; n < READ_TRIES; n++) {
		a = atomic_load_explicit(&p->slot[i].seq, memory_order_acquire);
		memcpy(out, &p->slot[i].s, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&p->slot[i].seq, memory_order_relaxed);
		if (a == b && (a & 1) == 0)
			break;
		sched_yield();
	}
	/* A torn copy still ends its strings. */
	out->method[sizeof(out->method) - 1] = '\0';
	out->uri[sizeof(out->uri) - 1] = '\0';
	out->client[sizeof(out->client) - 1] = '\0';
}
