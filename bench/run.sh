#!/usr/bin/env bash
# run.sh: `make bench`. Installs what the benchmark needs from Debian when it is missing
# (nginx, lighttpd, h2o, wrk; apt-get, never a service start, never port 80), builds the
# two helpers (the ceiling server and the idle-connection holder, neither part of the
# product) into build/bench/, then runs bench.py: every server on 127.0.0.1, every
# workload, one table. BENCH_QUICK=1 makes a short smoke run; `--profile` measures where
# the time goes for (a) and (b) instead (strace, perf, callgrind); `--tls` runs the TLS
# group alone (BENCH_ONLY=tls), which needs two more helpers, idletls and wrktls.so (a
# library preloaded into wrk). `--embed` runs the embedding group alone (BENCH_ONLY=embed):
# a 1 KiB hello handler on libhttpserve (built here, linked statically) three ways, on
# libmicrohttpd and on civetweb (their Debian -dev packages), built into build/bench/.
# See bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"

need=()
for pair in nginx:nginx lighttpd:lighttpd h2o:h2o wrk:wrk python3:python3 cc:gcc; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [[ ${1:-} == --embed ]]; then
	for pair in microhttpd.h:libmicrohttpd-dev civetweb.h:libcivetweb-dev; do
		[[ -e /usr/include/${pair%%:*} ]] || need+=("${pair#*:}")
	done
fi
if ((${#need[@]})); then
	echo "bench: installing ${need[*]} with apt-get" >&2
	# Debian starts a service at install (nginx on port 80) unless policy-rc.d says no.
	# If the machine has no policy, lay one for the install only and take it away after.
	policy=/usr/sbin/policy-rc.d
	laid=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && laid=1
	fi
	trap '[[ $laid == 1 ]] && rm -f "$policy"' EXIT
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
	[[ $laid == 1 ]] && rm -f "$policy"
	laid=0
fi

if [[ ${1:-} == --embed ]]; then
	make -j2 build/libhttpserve.a build/httpserve
fi
[[ -x build/httpserve ]] || { echo "bench: build/httpserve is missing (make build/httpserve)" >&2; exit 1; }
mkdir -p build/bench
cc -O2 -Wall -Wextra -pthread -o build/bench/ceiling bench/ceiling.c
cc -O2 -Wall -Wextra -o build/bench/idle bench/idle.c
cc -O2 -Wall -Wextra -o build/bench/idletls bench/idletls.c -lssl -lcrypto
cc -O2 -Wall -Wextra -shared -fPIC -o build/bench/wrktls.so bench/wrktls.c -ldl -lssl

if [[ ${1:-} == --embed ]]; then  # the embedding group alone: BENCH_ONLY=embed
	# The own-loop calls may be declared and not yet in the library: then the hello
	# server is built without its ownloop mode (which then exits with 3; bench.py skips
	# its row and says so), never with a stand-in for them.
	ccx="cc -O2 -std=c17 -Wall -Wextra -pthread -Iinclude"
	hs="bench/embed/hello_httpserve.c build/libhttpserve.a -lssl -lcrypto"
	if ! $ccx -o build/bench/hello_httpserve $hs 2>build/bench/hello_httpserve.err; then
		echo "bench: hello_httpserve does not link with the own-loop calls" \
			"(build/bench/hello_httpserve.err): built without its ownloop mode" >&2
		$ccx -DHELLO_NO_OWNLOOP -o build/bench/hello_httpserve $hs
	fi
	$ccx $(pkg-config --cflags libmicrohttpd) -o build/bench/hello_mhd bench/embed/hello_mhd.c \
		$(pkg-config --libs libmicrohttpd)
	$ccx -o build/bench/hello_civetweb bench/embed/hello_civetweb.c -lcivetweb
	export BENCH_ONLY=embed
	shift
fi
if [[ ${1:-} == --profile ]]; then
	for tool in strace perf valgrind; do
		command -v $tool >/dev/null || { echo "bench: --profile needs $tool" >&2; exit 1; }
	done
	[[ ${2:-} == --tls ]] && export PROFILE_TLS=1
	exec python3 bench/profile.py
fi
if [[ ${1:-} == --tls ]]; then  # the TLS group alone: BENCH_ONLY=tls
	export BENCH_ONLY=tls
	shift
fi
exec python3 bench/bench.py "$@"
