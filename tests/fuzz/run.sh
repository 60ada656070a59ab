# run.sh FUZZER SEEDS SECONDS - run a libFuzzer target from a copy of its
# seeds for SECONDS; one TAP line.  A crash leaves the input that caused it
# in the printed log (and as crash-* in the working directory).
fuzzer=$(readlink -f "$1") seeds=$(readlink -f "$2") secs=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/pea-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp -r "$seeds"/. "$work/corpus/" 2>/dev/null
cd "$work" || exit 1
if "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	-print_final_stats=1 corpus > log.txt 2>&1; then
	echo "ok 1 - $(basename "$fuzzer") ran ${secs}s: $(grep -o 'stat::number_of_executed_units: [0-9]*' log.txt | grep -o '[0-9]*$') inputs"
else
	echo "not ok 1 - $(basename "$fuzzer") found a failure"
	sed 's/^/# /' log.txt | tail -60
	for c in crash-* leak-* timeout-*; do
		[ -f "$c" ] && echo "# input: $(od -An -tx1 "$c" | tr -d '\n' | head -c 2000)"
	done
fi
echo "1..1"
