/*
 * test_abi.c: what the library promises callers built against another copy of the
 * header, and the edges of its set-up and tear-down calls. hs_static_fini and
 * hs_cgi_fini on a zeroed struct, or twice, release nothing they do not own (descriptor
 * 0 stays open); a name-resolution failure keeps its kind as an errno (a temporary one
 * is -EAGAIN, not "no such name"); the version macros agree with each other and with
 * the build's version.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
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

int main(void)
{
	test_fini_zeroed();
	test_gai_errno();
	return check_done("test_abi");
}
