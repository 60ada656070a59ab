# lib.sh - shared helpers of the benchmark scripts (sourced).
#
#   bench_install PKG...        apt-get the anchors this benchmark needs
#   measure RUNS CMD...         run CMD RUNS times (after one warm-up); sets
#                               WALL (median seconds), RSS (median peak KB)
#                               and CPU (median user + system seconds, which
#                               other work on the machine disturbs less)
#   mbps BYTES SECONDS          throughput in MB/s (10^6 bytes)
#   ratio A B                   A / B, two decimals
#   summary MEASURE PEA ANCHOR RATIO TARGET MET
#                               a row of the table scripts/bench/all prints
#                               (appended to $PEA_BENCH_SUMMARY when set)
#   meets X OP Y                "yes" when X OP Y holds (OP: >= or <=), else "no"
#
# Figures are whole-process wall time and peak resident set size from GNU
# time; every benchmark measures pea and its anchors in the same run.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR=${PEA_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pea/bench}
mkdir -p "$BENCH_DIR"

bench_install() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "bench: installing$missing" >&2
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/dev/null
}

measure() {
	runs=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; return 1; }
	: > "$BENCH_DIR/.times"
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f "%e %M %U %S" -a -o "$BENCH_DIR/.times" "$@" >/dev/null 2>/dev/null
		i=$((i + 1))
	done
	WALL=$(sort -n -k1,1 "$BENCH_DIR/.times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	RSS=$(sort -n -k2,2 "$BENCH_DIR/.times" | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
	CPU=$(awk '{print $3 + $4}' "$BENCH_DIR/.times" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
}

mbps() {
	awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", b / s / 1e6 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 1e-9; printf "%.2f", a / b }'
}

summary() {
	[ -n "${PEA_BENCH_SUMMARY:-}" ] || return 0
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$0")" "$@" >> "$PEA_BENCH_SUMMARY"
}

meets() {
	awk -v x="$1" -v op="$2" -v y="$3" 'BEGIN { ok = op == ">=" ? x >= y : x <= y; print ok ? "yes" : "no" }'
}
