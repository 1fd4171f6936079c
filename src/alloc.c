/*
 * alloc.c: the fault-injection switch behind hs__malloc and friends (internal.h). Only
 * the build made with -DHS_FAULT_INJECTION (`make faults`) compiles anything here: the
 * environment variable HTTPSERVE_FAIL_ALLOC=N makes the Nth allocation of the process
 * fail with ENOMEM, once, and says so on standard error, so a test can walk N = 1, 2, ...
 * over a scripted run until a run no longer reaches N (HTTPSERVE_FAIL_ALLOC_TRACE=1 adds
 * the call stack of the failed allocation). This is the one piece of
 * process-wide mutable state in the library, and it exists only in that test build.
 */
#include "internal.h"

#ifdef HS_FAULT_INJECTION
#include <execinfo.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_long fault_calls;
static long fault_target = -1; /* set once by the first call, before any thread races */
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_read_target(void)
{
	const char *v = getenv("HTTPSERVE_FAIL_ALLOC");
	fault_target = v ? strtol(v, NULL, 10) : 0;
}

bool hs__alloc_fails(void)
{
	pthread_once(&fault_once, fault_read_target);
	long n = atomic_fetch_add(&fault_calls, 1) + 1;
	if (n != fault_target)
		return false;
	char line[96];
	int len = snprintf(line, sizeof line, "httpserve: fault injection: allocation %ld fails\n", n);
	if (write(STDERR_FILENO, line, (size_t)len) < 0) {
		/* the test then sees no fault line and stops its walk; nothing else to do */
	}
	if (getenv("HTTPSERVE_FAIL_ALLOC_TRACE")) { /* where it failed, for whoever debugs */
		void *frames[24];
		backtrace_symbols_fd(frames, backtrace(frames, 24), STDERR_FILENO);
	}
	return true;
}
#else
/* An ISO C translation unit must declare something. */
typedef int hs__alloc_unused;
#endif
