/*
 * test_abi.c: what the library promises callers built against another copy of the
 * header, and the edges of its set-up and tear-down calls. hs_static_fini and
 * hs_cgi_fini on a zeroed struct, or twice, release nothing they do not own (descriptor
 * 0 stays open); a name-resolution failure keeps its kind as an errno (a temporary one
 * is -EAGAIN, not "no such name"); the version macros agree with each other and with
 * the build's version; a caller's struct hs_options of an older (shorter) or newer
 * (longer) layout is read no further than its size; and the structs that must keep
 * their size (they are embedded in others) keep it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"

/* Descriptor 0 is open (a /dev/null when the test runs without stdin). */
static void ensure_fd0(void)
{
	if (fcntl(0, F_GETFD) < 0) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd > 0) {
			dup2(fd, 0);
			close(fd);
		}
	}
}

static bool fd0_open(void)
{
	return fcntl(0, F_GETFD) >= 0;
}

static void test_fini_zeroed(void)
{
	ensure_fd0();
	struct hs_static st = {0};
	hs_static_fini(&st);
	CHECK(fd0_open());
	hs_static_fini(&st);
	CHECK(fd0_open());

	ensure_fd0();
	struct hs_cgi cg = {0};
	hs_cgi_fini(&cg);
	CHECK(fd0_open());

	/* after a real init, twice */
	ensure_fd0();
	CHECK(hs_static_init(&st, ".") == 0);
	hs_static_fini(&st);
	hs_static_fini(&st);
	CHECK(fd0_open());
	ensure_fd0();
	CHECK(hs_cgi_init(&cg, ".") == 0);
	hs_cgi_fini(&cg);
	hs_cgi_fini(&cg);
	CHECK(fd0_open());

	/* a failed init leaves a struct fini accepts */
	ensure_fd0();
	CHECK(hs_static_init(&st, "/nonexistent/directory") == -ENOENT);
	hs_static_fini(&st);
	CHECK(fd0_open());
	ensure_fd0();
	CHECK(hs_cgi_init(&cg, "/nonexistent/directory") == -ENOENT);
	hs_cgi_fini(&cg);
	CHECK(fd0_open());
}

static void test_gai_errno(void)
{
	static const struct {
		int rc, err, want;
	} cases[] = {
		{EAI_NONAME, 0, -ENOENT},
		{EAI_NODATA, 0, -ENOENT},
		{EAI_ADDRFAMILY, 0, -ENOENT},
		{EAI_AGAIN, 0, -EAGAIN},
		{EAI_MEMORY, 0, -ENOMEM},
		{EAI_SERVICE, 0, -EINVAL},
		{EAI_SYSTEM, EMFILE, -EMFILE},
		{EAI_SYSTEM, ENFILE, -ENFILE},
		{EAI_SYSTEM, 0, -EIO}, /* a system error that left no errno is still an error */
		{EAI_FAIL, 0, -EIO},
		{EAI_BADFLAGS, 0, -EIO},
		{EAI_FAMILY, 0, -EIO},
		{EAI_SOCKTYPE, 0, -EIO},
		{EAI_OVERFLOW, 0, -EIO},
		{-12345, 0, -EIO},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = hs__gai_errno(cases[i].rc, cases[i].err);
		if (got != cases[i].want)
			fprintf(stderr, "getaddrinfo %d (errno %d): got %d, want %d\n", cases[i].rc,
			        cases[i].err, got, cases[i].want);
		CHECK(got == cases[i].want);
	}
}

/* The caller's options end where a page ends, and the next page cannot be read: a
 * library reading past the caller's size faults. */
static struct hs_options *at_page_end(void *pages, size_t page, size_t size)
{
	return (struct hs_options *)(void *)((char *)pages + page - size);
}

static int new_sized(const struct hs_options *o, size_t size)
{
	static const struct hs_handler h = {0};
	struct hs_server *s = (struct hs_server *)&s;
	int rc = hs_server_new_sized(&s, o, size, &h);
	CHECK(rc == 0 ? s != NULL : s == NULL);
	if (rc == 0) {
		char host[64];
		int port = 0;
		CHECK(hs_server_address(s, host, sizeof host, &port) == 0);
		CHECK(strcmp(host, "127.0.0.1") == 0 && port > 0);
		hs_server_close(s);
	}
	return rc;
}

static void test_options_sizes(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	                   -1, 0);
	CHECK(pages != MAP_FAILED);
	if (pages == MAP_FAILED)
		return;
	CHECK(mprotect(pages + page, page, PROT_NONE) == 0);
	/* older callers: every prefix that ends after a field of the first layout */
	static const size_t older[] = {
		offsetof(struct hs_options, handler_threads), /* before the handler pool */
		offsetof(struct hs_options, tls) + sizeof(struct hs_tls_options),
		sizeof(struct hs_options),
	};
	for (size_t i = 0; i < sizeof older / sizeof older[0]; i++) {
		struct hs_options *o = at_page_end(pages, page, older[i]);
		memset(o, 0, older[i]);
		o->host = "127.0.0.1";
		o->port = "0";
		o->workers = 1;
		o->quiet = true;
		CHECK(new_sized(o, older[i]) == 0);
	}
	/* a newer caller: zero beyond what this library knows is fine, anything else not */
	size_t newer = sizeof(struct hs_options) + 64;
	struct hs_options *o = at_page_end(pages, page, newer);
	memset(o, 0, newer);
	o->host = "127.0.0.1";
	o->port = "0";
	o->workers = 1;
	CHECK(new_sized(o, newer) == 0);
	((unsigned char *)o)[newer - 1] = 1;
	CHECK(new_sized(o, newer) == -E2BIG);
	((unsigned char *)o)[newer - 1] = 0;
	((unsigned char *)o)[sizeof(struct hs_options)] = 1;
	CHECK(new_sized(o, newer) == -E2BIG);
	munmap(pages, 2 * page);
}

/* The structs embedded in others keep their size from version to version (new fields
 * take reserved members' place). On LP64 these are the sizes; a change here is a change
 * of the ABI, and the major version with it. */
static void test_frozen_sizes(void)
{
#if UINTPTR_MAX == UINT64_MAX
	CHECK(sizeof(struct hs_handler) == 192);
	CHECK(sizeof(struct hs_tls_options) == 88);
	CHECK(sizeof(struct hs_static) == 272);
	CHECK(sizeof(struct hs_cgi) == 352);
#endif
	CHECK(offsetof(struct hs_static, base) == 0);
	CHECK(offsetof(struct hs_cgi, base) == 0);
}

static void test_version(void)
{
	char text[64];
	snprintf(text, sizeof text, "%d.%d.%d", HS_VERSION_MAJOR, HS_VERSION_MINOR,
	         HS_VERSION_PATCH);
	CHECK_STR(HS_VERSION, text);
	CHECK_STR(HS_VERSION, HS_VERSION_STRING); /* the build's, which it reads from the header */
}

int main(void)
{
	test_fini_zeroed();
	test_gai_errno();
	test_options_sizes();
	test_frozen_sizes();
	test_version();
	return check_done("test_abi");
}
