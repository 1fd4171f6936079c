# httpserve: builds libhttpserve (static and shared), the httpserve command, the unit
# tests and the examples, and runs every test. `make SAN=1` builds into build-san/ with
# AddressSanitizer and UndefinedBehaviorSanitizer; `make CC=clang` builds with clang;
# `make faults` builds build-fault/ (sanitized, -DHS_FAULT_INJECTION) and fails every
# allocation of a scripted run in turn. TLS needs OpenSSL 3 (Debian: libssl-dev).

# The version is stated once, in include/httpserve.h; the soname carries its major part.
version_part = $(shell sed -n 's/^\#define HS_VERSION_$(1) *\([0-9][0-9]*\)$$/\1/p' include/httpserve.h)
VERSION_MAJOR := $(call version_part,MAJOR)
VERSION   := $(VERSION_MAJOR).$(call version_part,MINOR).$(call version_part,PATCH)
SONAME    := libhttpserve.so.$(VERSION_MAJOR)
PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PYTHON    ?= python3

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Hidden by default: the library exports only what httpserve.h declares.
BASEFLAGS := -std=c17 -D_GNU_SOURCE -DHS_VERSION_STRING='"$(VERSION)"' -pthread -fPIC \
             -fvisibility=hidden -Iinclude -Isrc $(WARN)

ifeq ($(FAULT),1)
BUILD     ?= build-fault
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
             -DHS_FAULT_INJECTION
else ifeq ($(SAN),1)
BUILD     ?= build-san
OPT       := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD     ?= build
OPT       := -O2 -g
endif

CFLAGS    ?=
LDFLAGS   ?=
ALLCFLAGS := $(BASEFLAGS) $(OPT) $(CFLAGS)
ALLLDFLAGS := -pthread $(OPT) $(LDFLAGS)
LDLIBS    := -lssl -lcrypto

LIB_SRC   := $(sort $(wildcard src/*.c))
LIB_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EX_SRC    := $(sort $(wildcard examples/*.c))
EX_BIN    := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
PROG_SRC  := $(sort $(wildcard tests/progs/*.c))
PROG_BIN  := $(PROG_SRC:tests/progs/%.c=$(BUILD)/tests/progs/%)

STATIC    := $(BUILD)/libhttpserve.a
SHARED    := $(BUILD)/libhttpserve.so
CMD       := $(BUILD)/httpserve

.PHONY: all test unit e2e valgrind faults install clean fuzz bench version
all: $(STATIC) $(SHARED) $(CMD) $(EX_BIN) $(PROG_BIN)

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) include/httpserve.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c $< -o $@

# The files that include OpenSSL first check, in one line, that its headers are there.
$(filter $(BUILD)/obj/tls%,$(LIB_OBJ)): | $(BUILD)/openssl.ok
$(BUILD)/openssl.ok:
	@mkdir -p $(@D)
	@printf '#include <openssl/ssl.h>\n' | $(CC) $(ALLCFLAGS) -E -x c - >/dev/null 2>&1 || \
	{ echo "httpserve: OpenSSL headers are missing: apt-get install libssl-dev" >&2; exit 1; }
	@touch $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(ALLLDFLAGS) $(LDLIBS)

$(CMD): cli/main.c $(STATIC) include/httpserve.h
	$(CC) $(ALLCFLAGS) cli/main.c -o $@ $(STATIC) $(ALLLDFLAGS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(STATIC)
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $< -o $@ $(STATIC) $(ALLLDFLAGS) $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC) include/httpserve.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $< -o $@ $(STATIC) $(ALLLDFLAGS) $(LDLIBS)

# Programs the end-to-end tests drive (servers built on the library).
$(BUILD)/tests/progs/%: tests/progs/%.c $(STATIC) include/httpserve.h
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $< -o $@ $(STATIC) $(ALLLDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)
	@failed=""; for t in $(UNIT_BIN); do $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests FAILED:$$failed"; exit 1; fi

e2e: $(CMD) $(EX_BIN) $(PROG_BIN)
	$(PYTHON) tests/e2e/run.py --build $(BUILD) $(if $(filter 1,$(SAN)),--sanitized)

test: all unit e2e

# The end-to-end suite with the command under valgrind's memcheck (leaks included).
valgrind: $(CMD) $(EX_BIN) $(PROG_BIN)
	rm -rf $(BUILD)/valgrind
	$(PYTHON) tests/e2e/run.py --build $(BUILD) --valgrind $(BUILD)/valgrind

# Every allocation of a scripted run failed in turn, in a sanitized -DHS_FAULT_INJECTION build.
faults:
	$(MAKE) FAULT=1 all
	$(PYTHON) tests/e2e/fault_walk.py --build build-fault

# libFuzzer targets (clang): a short run of each; FUZZ_SECONDS sets the time per target.
fuzz:
	bash fuzz/run.sh

# Load benchmarks against nginx, lighttpd, h2o and python3 -m http.server (bench/README.md).
bench: $(CMD)
	bash bench/run.sh

install: $(STATIC) $(SHARED) $(CMD)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
	           $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(CMD) $(DESTDIR)$(PREFIX)/bin/httpserve
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/libhttpserve.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/libhttpserve.so.$(VERSION)
	ln -sf libhttpserve.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libhttpserve.so
	install -m 644 include/httpserve.h $(DESTDIR)$(PREFIX)/include/httpserve.h
	install -m 644 docs/httpserve.1 $(DESTDIR)$(PREFIX)/share/man/man1/httpserve.1
	install -m 644 docs/libhttpserve.3 $(DESTDIR)$(PREFIX)/share/man/man3/libhttpserve.3
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' httpserve.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/httpserve.pc

# The version, as packaging scripts and the tests read it.
version:
	@echo $(VERSION)

clean:
	rm -rf build build-san build-fault build-clang
