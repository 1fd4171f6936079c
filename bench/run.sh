#!/usr/bin/env bash
# run.sh: `make bench`. Installs what the benchmark needs from Debian when it is missing
# (nginx, lighttpd, h2o, wrk; apt-get, never a service start, never port 80), builds the
# two helpers (the ceiling server and the idle-connection holder, neither part of the
# product) into build/bench/, then runs bench.py: every server on 127.0.0.1, every
# workload, one table. BENCH_QUICK=1 makes a short smoke run; `--profile` measures where
# the time goes for (a) and (b) instead (strace, perf, callgrind); `--tls` runs the TLS
# group alone (BENCH_ONLY=tls), which needs two more helpers, idletls and wrktls.so (a
# library preloaded into wrk). See bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"

need=()
for pair in nginx:nginx lighttpd:lighttpd h2o:h2o wrk:wrk python3:python3 cc:gcc; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
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

[[ -x build/httpserve ]] || { echo "bench: build/httpserve is missing (make build/httpserve)" >&2; exit 1; }
mkdir -p build/bench
cc -O2 -Wall -Wextra -pthread -o build/bench/ceiling bench/ceiling.c
cc -O2 -Wall -Wextra -o build/bench/idle bench/idle.c
cc -O2 -Wall -Wextra -o build/bench/idletls bench/idletls.c -lssl -lcrypto
cc -O2 -Wall -Wextra -shared -fPIC -o build/bench/wrktls.so bench/wrktls.c -ldl -lssl

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
