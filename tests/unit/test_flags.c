/*
 * test_flags.c: the pure rules of flags.c: which origins a list allows (exactly, ASCII case
 * ignored, no prefix or suffix match), which Access-Control-Request-Headers may be echoed
 * (a list of tokens, nothing that could end a line), which missing paths fall back to the
 * index page under spa; and the header lines the settings make, with pairs that
 * hs_send_header would refuse left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"

static void test_origins(void)
{
	const char *const list[] = {"http://a.example:8080", "HTTPS://B.example", NULL};
	CHECK(hs__cors_origin_index(list, "http://a.example:8080") == 0);
	CHECK(hs__cors_origin_index(list, "HTTP://A.EXAMPLE:8080") == 0);
	CHECK(hs__cors_origin_index(list, "https://b.example") == 1);
	const char *no[] = {"http://a.example", "http://a.example:8080/", "http://a.example:80800",
	                    "http://a.example:8080.evil", "xhttp://a.example:8080", "null", "",
	                    "https://b.example ", NULL};
	for (size_t i = 0; no[i]; i++)
		CHECK(hs__cors_origin_index(list, no[i]) == -1);
	CHECK(hs__cors_origin_index(list, NULL) == -1);
	CHECK(hs__cors_origin_index(NULL, "http://a") == -1);
}

static void test_token_lists(void)
{
	const char *ok[] = {"x-custom", "X-Custom, Content-Type", "a,b", " a , b ", "a,", "a\t,\tb",
	                    "!#$%&'*+-.^_`|~", NULL};
	for (size_t i = 0; ok[i]; i++)
		CHECK(hs__token_list_ok(ok[i]));
	const char *bad[] = {"", " ", ",", "a b", "a;b", "a:b", "(a)", "a\r\nb", "a\nX: y", "\"a\"",
	                     "caf\xc3\xa9", "a\x7f", "a/b", "a=b", "{a}", NULL};
	for (size_t i = 0; bad[i]; i++)
		CHECK(!hs__token_list_ok(bad[i]));
}

static void test_spa_rule(void)
{
	const char *yes[] = {"app", "app/route", "users/42/edit", "a.b/c", "caf\xc3\xa9", NULL};
	for (size_t i = 0; yes[i]; i++)
		CHECK(hs__spa_fallback(yes[i]));
	const char *no[] = {"", "app.js", "assets/app.js", "a/b.", "a/.hidden", "v1.2", "a/", NULL};
	for (size_t i = 0; no[i]; i++)
		CHECK(!hs__spa_fallback(no[i]));
}

static struct hs_static *static_with(const char *const *headers, const char *const *origins,
                                     bool no_cache)
{
	static struct hs_static st;
	hs_static_init(&st, ".");
	st.response_headers = headers;
	st.cors_origins = origins;
	st.no_cache = no_cache;
	return &st;
}

static void test_lines(void)
{
	const char *const headers[] = {"X-One", "1",  "X-Bad\r\nInjected", "v", "X-Bad2", "a\nb",
	                               "X:Colon", "v", "X-Two", "", NULL};
	const char *const any[] = {"*", NULL};
	struct hs_static *st = static_with(headers, any, true);
	const struct hs__flags *f = hs__flags_get(st);
	CHECK(f != NULL);
	if (f) {
		CHECK_MEM(f->ok.p, f->ok.n, "X-One: 1\r\nX-Two: \r\n", 19);
		CHECK(f->nall == 1 && !f->origin_list);
		const char all[] = "Access-Control-Allow-Origin: *\r\nCache-Control: no-cache\r\n";
		CHECK_MEM(f->all[0].p, f->all[0].n, all, sizeof all - 1);
		CHECK_STR(f->allow_methods, "GET, HEAD");
		CHECK(hs__flags_get(st) == f); /* made once */
	}
	hs_static_fini(st);

	const char *const list[] = {"http://a", "http://b\r\nX: y", NULL};
	st = static_with(NULL, list, false);
	st->base.do_POST = st->base.do_GET;
	f = hs__flags_get(st);
	CHECK(f != NULL);
	if (f) {
		CHECK(f->ok.n == 0 && f->nall == 3 && f->origin_list);
		CHECK_MEM(f->all[0].p, f->all[0].n, "Vary: Origin\r\n", 14);
		const char a[] = "Access-Control-Allow-Origin: http://a\r\nVary: Origin\r\n";
		CHECK_MEM(f->all[1].p, f->all[1].n, a, sizeof a - 1);
		CHECK_MEM(f->all[2].p, f->all[2].n, "Vary: Origin\r\n", 14); /* never sent */
		CHECK_STR(f->allow_methods, "GET, HEAD, POST");
		CHECK_STR(f->allow, "GET, HEAD, POST, OPTIONS");
	}
	hs_static_fini(st);
}

int main(void)
{
	test_origins();
	test_token_lists();
	test_spa_rule();
	test_lines();
	return check_done("test_flags");
}
