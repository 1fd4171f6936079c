/*
 * flags.c: the optional settings of the static handler that add to its responses:
 * response_headers (Python 3.15's), cors_origins (CORS) and no_cache, and the rules of
 * spa. Their header lines are made once, on the first request that needs them, and
 * shared read-only by every worker; a request then picks a ready block by pointer. With
 * every setting off nothing here runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "internal.h"

/* ------------------------------------------------------------ pure rules */

int hs__cors_origin_index(const char *const *origins, const char *origin)
{
	if (!origins || !origin)
		return -1;
	for (int i = 0; origins[i]; i++)
		if (hs__ascii_ieq(origins[i], origin))
			return i;
	return -1;
}

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

bool hs__token_list_ok(const char *v)
{
	bool any = false;
	while (*v) {
		while (*v == ' ' || *v == '\t')
			v++;
		const char *start = v;
		while (is_tchar((unsigned char)*v))
			v++;
		any |= v > start;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == ',')
			v++;
		else if (*v)
			return false;
	}
	return any;
}

bool hs__spa_fallback(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	const char *last = slash ? slash + 1 : rel;
	return *last && !strchr(last, '.');
}

/* ------------------------------------------------------------ header blocks */

/* Appends "name: value\r\n" to b; a pair hs_send_header would refuse is left out. */
static int add_line(struct hs__buf *b, const char *name, const char *value)
{
	size_t cap = strlen(name) + strlen(value) + 4;
	int rc = hs__buf_reserve(b, cap);
	if (rc < 0)
		return rc;
	b->len += hs__header_line(b->data + b->len, cap, name, value);
	return 0;
}

/* b's bytes as an owned span (b is left empty). */
static int take(struct hs__buf *b, struct hs__span_owned *out)
{
	out->p = hs__malloc(b->len + 1);
	if (!out->p)
		return -ENOMEM;
	memcpy(out->p, b->data ? b->data : "", b->len);
	out->n = b->len;
	b->len = 0;
	return 0;
}

/* One every-response block: the CORS lines for origin (NULL: none allowed; "*": any),
 * then Cache-Control. */
static int every_block(const struct hs_static *st, const char *origin, struct hs__buf *b,
                       struct hs__span_owned *out)
{
	int rc = 0;
	if (origin)
		rc = add_line(b, "Access-Control-Allow-Origin", origin);
	bool list = st->cors_origins && hs__cors_origin_index(st->cors_origins, "*") < 0;
	if (rc == 0 && list)
		rc = add_line(b, "Vary", "Origin");
	if (rc == 0 && st->no_cache)
		rc = add_line(b, "Cache-Control", "no-cache");
	return rc ?: take(b, out);
}

static int build(const struct hs_static *st, struct hs__flags *f, struct hs__buf *b)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && st->response_headers && st->response_headers[i] &&
	                   st->response_headers[i + 1]; i += 2)
		rc = add_line(b, st->response_headers[i], st->response_headers[i + 1]);
	rc = rc ?: take(b, &f->ok);
	size_t n = 0;
	bool any = st->cors_origins && hs__cors_origin_index(st->cors_origins, "*") >= 0;
	f->origin_list = st->cors_origins && !any;
	while (f->origin_list && st->cors_origins[n])
		n++;
	f->all = rc == 0 ? hs__calloc(n + 1, sizeof *f->all) : NULL;
	if (!f->all)
		return -ENOMEM;
	f->nall = n + 1;
	rc = every_block(st, any ? "*" : NULL, b, &f->all[0]);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = every_block(st, st->cors_origins[i], b, &f->all[1 + i]);
	bool post = st->base.do_POST != NULL;
	snprintf(f->allow_methods, sizeof f->allow_methods, "GET, HEAD%s", post ? ", POST" : "");
	snprintf(f->allow, sizeof f->allow, "GET, HEAD%s, OPTIONS", post ? ", POST" : "");
	return rc;
}

void hs__flags_free(struct hs__flags *f)
{
	if (!f)
		return;
	free(f->ok.p);
	for (size_t i = 0; f->all && i < f->nall; i++)
		free(f->all[i].p);
	free(f->all);
	free(f);
}

/* Made by the first request that needs them; two workers racing both build, one keeps
 * its own and the other frees its copy. */
const struct hs__flags *hs__flags_get(struct hs_static *st)
{
	struct hs__flags *f = __atomic_load_n(&st->priv->flags, __ATOMIC_ACQUIRE);
	if (f)
		return f;
	struct hs__buf b = {0};
	f = hs__calloc(1, sizeof *f);
	int rc = f ? build(st, f, &b) : -ENOMEM;
	hs__buf_free(&b);
	if (rc < 0) {
		hs__flags_free(f);
		return NULL;
	}
	struct hs__flags *none = NULL;
	if (!__atomic_compare_exchange_n(&st->priv->flags, &none, f, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE)) {
		hs__flags_free(f);
		return none;
	}
	return f;
}
