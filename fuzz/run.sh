#!/usr/bin/env bash
# fuzz/run.sh: builds the libFuzzer targets (clang, ASan, UBSan) against src/*.c and
# runs each for FUZZ_SECONDS (default 10). `make fuzz` calls it; so does .ci/run.
#
#     bash fuzz/run.sh                  every target
#     bash fuzz/run.sh headers chunked  only these (fuzz_<name>.c)
#     FUZZ_SECONDS=600 bash fuzz/run.sh path
#
# Each run starts from the seeds in fuzz/corpus/<name>/ (read only) and keeps what it
# finds in fuzz/build/corpus/<name>/, so later runs go on from there. Exit status 1
# when any target crashed, leaked, hit undefined behaviour or broke a property; the
# input is saved as fuzz/build/artifacts/<name>-crash-* (rerun it with
# `fuzz/build/fuzz_<name> FILE`, shrink it with `-minimize_crash=1 -runs=10000`).
# Needs clang and its runtime (Debian: clang libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${FUZZ_CC:-clang}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-10}
OUT=fuzz/build
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-std=c17 -D_GNU_SOURCE -DHS_VERSION_STRING=\"fuzz\" -pthread -Iinclude -Isrc -Ifuzz
        -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror"

all_targets=()
for f in fuzz/fuzz_*.c; do
	n=${f#fuzz/fuzz_}
	all_targets+=("${n%.c}")
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# The longest input each target is given (before fuzz_expand, which can make it
# longer), and its dictionary.
max_len() {
	case $1 in
	httpdate) echo 256 ;;
	reqline | path | cgi_path) echo 4096 ;;
	*) echo 8192 ;;
	esac
}
dict() {
	case $1 in
	reqline | headers) echo fuzz/dict/http.dict ;;
	*) echo "fuzz/dict/$1.dict" ;;
	esac
}

if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found; install clang and libclang-rt-14-dev" >&2
	exit 1
fi
mkdir -p "$OUT/obj" "$OUT/artifacts"
probe=$OUT/probe.c
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$CC" -fsanitize=fuzzer $SAN "$probe" -o "$OUT/probe" 2>"$OUT/probe.log"; then
	cat "$OUT/probe.log" >&2
	echo "fuzz: $CC cannot build libFuzzer targets; install libclang-rt-14-dev" >&2
	exit 1
fi

echo "== fuzz: building into $OUT"
pids=()
for src in src/*.c; do
	obj=$OUT/obj/$(basename "${src%.c}").o
	# shellcheck disable=SC2086
	"$CC" $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
rm -f "$OUT/libhttpserve-fuzz.a"
ar rcs "$OUT/libhttpserve-fuzz.a" "$OUT"/obj/*.o
for t in "${targets[@]}"; do
	[ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target fuzz/fuzz_$t.c" >&2; exit 1; }
	# The harness itself gets the sanitizers but no coverage instrumentation: the
	# fuzzer is steered by the code under test alone, and the harness's own checks
	# (oracles that walk every byte) do not slow each run down.
	# shellcheck disable=SC2086
	"$CC" $CFLAGS $SAN -c "fuzz/fuzz_$t.c" -o "$OUT/fuzz_$t.o"
	# shellcheck disable=SC2086
	"$CC" $SAN -fsanitize=fuzzer "$OUT/fuzz_$t.o" "$OUT/libhttpserve-fuzz.a" -pthread -lssl -lcrypto \
		-o "$OUT/fuzz_$t"
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
	mkdir -p "$OUT/corpus/$t" "fuzz/corpus/$t"
	log=$OUT/$t.log
	args=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048
	      -max_len="$(max_len "$t")" -print_final_stats=1
	      -artifact_prefix="$OUT/artifacts/$t-")
	d=$(dict "$t")
	[ -f "$d" ] && args+=(-dict="$d")
	echo "== fuzz: $t for ${SECONDS_PER_TARGET}s"
	if "$OUT/fuzz_$t" "${args[@]}" "$OUT/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
		echo "fuzz: $t: ${runs:-?}, ${cov:-cov: ?}, no crash"
	else
		echo "fuzz: $t: FAILED; the end of $log:" >&2
		tail -n 40 "$log" >&2
		ls "$OUT/artifacts/$t-"* 2>/dev/null | sed 's/^/fuzz: input saved as /' >&2 || true
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: OK (${#targets[@]} targets, ${SECONDS_PER_TARGET}s each)"
