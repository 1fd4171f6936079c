/*
 * listing_cache.c: rendered directory listings kept between requests, so that a
 * listing of an unchanged directory costs one fstat instead of reading, stat'ing,
 * sorting and escaping every entry (bench/README.md, workload e). A page holds the "<li>"
 * lines only, which depend on the directory alone; the title, which shows the URL, is
 * written per request. A page is found by the directory's (dev, ino) and its form
 * (Python's page, or one of the rich listing's) and used only while the directory's
 * (mtime, ctime, size) and the caller's epoch are those it was rendered under: every
 * change to a directory's entries changes its mtime and ctime. Two rules keep that
 * sound: a directory changed less than 2 s ago is never cached (a second change in
 * the same timestamp tick would be invisible), and static.c never offers a page whose
 * entries include a symlink, whose target the directory's stamp does not follow. The
 * cache belongs to one struct hs_static and is shared by its workers under a mutex held
 * only to find, insert or drop a page (no system call, no copy of a page inside);
 * pages are reference-counted, so one can be evicted while another worker sends it.
 * Bounded by entries and bytes, least recently used out first. Also here: a few spare
 * sets of scratch buffers, so that rendering allocates nothing once warm.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

#define SPARE_SCRATCH 4                 /* sets kept for reuse */
#define SPARE_SCRATCH_BYTES (1u << 20)  /* a set holding more is freed, not kept */

struct hs__lpage {
	atomic_size_t refs; /* the table's reference, plus one per request sending it */
	struct hs__lcache_key key;
	struct hs__lcache_stamp stamp;
	size_t len;
	char body[];
};

struct slot {
	struct hs__lpage *page;
	uint64_t used; /* the cache's tick at the last hit: the smallest is evicted */
};

struct hs__lcache {
	pthread_mutex_t lock;
	size_t max_entries, max_bytes;
	size_t n, bytes;   /* pages held and their bytes */
	uint64_t tick;
	struct slot *slots; /* max_entries of them, the first n in use */
	struct hs__lscratch *spare[SPARE_SCRATCH];
	size_t nspare;
};

int hs__lcache_new(struct hs__lcache **out, size_t max_entries, size_t max_bytes)
{
	struct hs__lcache *lc = hs__calloc(1, sizeof *lc);
	struct slot *slots = max_entries ? hs__calloc(max_entries, sizeof *slots) : NULL;
	if (!lc || (max_entries && !slots) || pthread_mutex_init(&lc->lock, NULL) != 0) {
		free(lc);
		free(slots);
		*out = NULL;
		return -ENOMEM;
	}
	lc->slots = slots;
	lc->max_entries = max_entries;
	lc->max_bytes = max_bytes;
	*out = lc;
	return 0;
}

static void free_scratch(struct hs__lscratch *s)
{
	hs__buf_free(&s->raw);
	hs__buf_free(&s->ents);
	hs__buf_free(&s->body);
	hs__buf_free(&s->rich);
	free(s);
}

void hs__lpage_release(struct hs__lpage *p)
{
	if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
		free(p);
}

void hs__lcache_free(struct hs__lcache *lc)
{
	if (!lc)
		return;
	for (size_t i = 0; i < lc->n; i++)
		hs__lpage_release(lc->slots[i].page);
	for (size_t i = 0; i < lc->nspare; i++)
		free_scratch(lc->spare[i]);
	pthread_mutex_destroy(&lc->lock);
	free(lc->slots);
	free(lc);
}

/* ------------------------------------------------------------ the racy rule */

bool hs__lcache_settled(const struct hs__lcache_stamp *s, const struct timespec *now)
{
	const struct timespec *t[2] = {&s->mtime, &s->ctime};
	for (size_t i = 0; i < 2; i++) {
		if (t[i]->tv_sec >= now->tv_sec)
			return false; /* within the last second, or in the future */
		/* now - t in whole seconds, without overflow: the difference is positive */
		uint64_t d = (uint64_t)now->tv_sec - (uint64_t)t[i]->tv_sec;
		if (d < 2 || (d == 2 && t[i]->tv_nsec > now->tv_nsec))
			return false;
	}
	return true;
}

static bool same_stamp(const struct hs__lcache_stamp *a, const struct hs__lcache_stamp *b)
{
	return a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec &&
	       a->size == b->size && a->epoch == b->epoch;
}

/* ------------------------------------------------------------ the table */

/* The slot holding key, or lc->n. Called with the lock held. */
static size_t find(const struct hs__lcache *lc, const struct hs__lcache_key *key)
{
	size_t i = 0;
	while (i < lc->n && (lc->slots[i].page->key.ino != key->ino ||
	                     lc->slots[i].page->key.dev != key->dev ||
	                     lc->slots[i].page->key.variant != key->variant))
		i++;
	return i;
}

/* Forgets slot i (the last slot takes its place). Called with the lock held. */
static void drop(struct hs__lcache *lc, size_t i)
{
	struct hs__lpage *p = lc->slots[i].page;
	lc->bytes -= p->len;
	lc->slots[i] = lc->slots[--lc->n];
	hs__lpage_release(p);
}

static void evict_lru(struct hs__lcache *lc)
{
	size_t oldest = 0;
	for (size_t i = 1; i < lc->n; i++)
		if (lc->slots[i].used < lc->slots[oldest].used)
			oldest = i;
	drop(lc, oldest);
}

struct hs__lpage *hs__lcache_get(struct hs__lcache *lc, const struct hs__lcache_key *key,
                                 const struct hs__lcache_stamp *s, struct hs__span *body)
{
	struct hs__lpage *hit = NULL;
	if (!lc)
		return NULL;
	pthread_mutex_lock(&lc->lock);
	size_t i = find(lc, key);
	if (i < lc->n && same_stamp(&lc->slots[i].page->stamp, s)) {
		hit = lc->slots[i].page;
		atomic_fetch_add_explicit(&hit->refs, 1, memory_order_relaxed);
		lc->slots[i].used = ++lc->tick;
	} else if (i < lc->n) {
		drop(lc, i); /* the directory changed: its page is stale for good */
	}
	pthread_mutex_unlock(&lc->lock);
	if (hit)
		*body = (struct hs__span){hit->body, hit->len};
	return hit;
}

int hs__lcache_put(struct hs__lcache *lc, const struct hs__lcache_key *key,
                   const struct hs__lcache_stamp *s, const struct timespec *now,
                   const char *body, size_t len)
{
	if (!lc)
		return -ENOMEM;
	if (!hs__lcache_settled(s, now))
		return -EAGAIN;
	if (lc->max_entries == 0 || len > lc->max_bytes / 4)
		return -EFBIG;
	struct hs__lpage *p = hs__malloc(sizeof *p + len);
	if (!p)
		return -ENOMEM;
	atomic_init(&p->refs, 1);
	p->key = *key;
	p->stamp = *s;
	p->len = len;
	if (len)
		memcpy(p->body, body, len);
	pthread_mutex_lock(&lc->lock);
	size_t i = find(lc, key);
	if (i < lc->n)
		drop(lc, i); /* another worker's page of the same directory */
	while (lc->n > 0 && (lc->n == lc->max_entries || lc->bytes + len > lc->max_bytes))
		evict_lru(lc);
	lc->slots[lc->n++] = (struct slot){p, ++lc->tick};
	lc->bytes += len;
	pthread_mutex_unlock(&lc->lock);
	return 0;
}

/* ------------------------------------------------------------ scratch buffers */

struct hs__lscratch *hs__lcache_take_scratch(struct hs__lcache *lc)
{
	struct hs__lscratch *s = NULL;
	if (lc) {
		pthread_mutex_lock(&lc->lock);
		if (lc->nspare)
			s = lc->spare[--lc->nspare];
		pthread_mutex_unlock(&lc->lock);
	}
	return s ? s : hs__calloc(1, sizeof *s);
}

void hs__lcache_give_scratch(struct hs__lcache *lc, struct hs__lscratch *s)
{
	if (!s)
		return;
	size_t held = s->raw.cap + s->ents.cap + s->body.cap + s->rich.cap;
	bool keep = lc && held <= SPARE_SCRATCH_BYTES;
	if (keep) {
		pthread_mutex_lock(&lc->lock);
		keep = lc->nspare < SPARE_SCRATCH;
		if (keep)
			lc->spare[lc->nspare++] = s;
		pthread_mutex_unlock(&lc->lock);
	}
	if (!keep)
		free_scratch(s);
}
