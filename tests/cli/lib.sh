# lib.sh - command-level tests of the real binaries, in TAP.
#
#   . "$PEA_SRC/tests/cli/lib.sh"
#   t 'imports JSON Lines' 'pea import x.jsonl > x.pea && test -s x.pea'
#   t_err 'names the frame' 1 'pea-cat: x.pea: frame 2 at byte 99: checksum mismatch' pea cat x.pea
#   done_testing
#
# Write assertions as simple commands (nope, between below), because set -e
# does not see a failure inside `! cmd` or on the left of `&&`.
# Each script runs in a fresh temporary directory with the build's binaries
# first on PATH; $DATA is tests/data of the source tree.
set -u
: "${PEA_BUILD:?PEA_BUILD must name the build directory}"
: "${PEA_SRC:?PEA_SRC must name the source directory}"
export PATH="$PEA_BUILD:$PATH"
export LC_ALL=C.UTF-8
DATA="$PEA_SRC/tests/data"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pea-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
_n=0
_failed=0

_report() { # pass|fail, description
	_n=$((_n + 1))
	if [ "$1" = pass ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

# a failure's lines, on standard output for TAP and on standard error as
# well: meson --print-errorlogs (scripts/test, CI) shows only the latter,
# and a test that fails once in a fresh machine leaves nothing else behind
_diag() {
	local d
	d=$(sed 's/^/#   /' | head -40)
	echo "$d"
	echo "$d" >&2
}

# t DESCRIPTION SCRIPT: passes when SCRIPT (run by bash -e) exits 0
t() {
	# not inside `if`: there, bash would ignore set -e in the subshell too
	(set -e; eval "$2") > "$TMP/.out" 2>&1
	if [ $? = 0 ]; then
		_report pass "$1"
	else
		_report fail "$1"
		echo "$1:" >&2
		_diag < "$TMP/.out"
	fi
}

# t_err DESCRIPTION STATUS MESSAGE COMMAND...: COMMAND exits with STATUS and
# its stderr is exactly the one line MESSAGE (a glob pattern; status 2 may
# add the line pointing to --help)
t_err() {
	local desc=$1 want=$2 msg=$3
	shift 3
	"$@" > "$TMP/.out" 2> "$TMP/.err"
	local got=$?
	local line lines
	line=$(head -1 "$TMP/.err")
	lines=$(wc -l < "$TMP/.err")
	# a usage error (2) may add the line pointing to --help
	if [ "$want" = 2 ] && [ "$lines" = 2 ] && tail -1 "$TMP/.err" | grep -q "^Try '.* --help' for more information.$"; then
		lines=1
	fi
	# shellcheck disable=SC2053
	if [ "$got" = "$want" ] && [[ "$line" == $msg ]] && [ "$lines" -le 1 ]; then
		_report pass "$desc"
	else
		_report fail "$desc"
		echo "$desc:" >&2
		printf 'status %s (want %s)\nstderr: %s\nwant:   %s\n' "$got" "$want" "$line" "$msg" | _diag
	fi
}

# t_skip DESCRIPTION REASON: a check this machine cannot make, reported as
# skipped (never as passed)
t_skip() {
	_n=$((_n + 1))
	echo "ok $_n - $1 # SKIP $2"
}

# Inside t scripts, set -e ignores `! cmd` and all but the last command
# of `a && b`: assert with these simple commands instead.
# nope CMD...: CMD must fail
nope() { if "$@"; then echo "unexpected success: $*"; return 1; fi; return 0; }
# between N LO HI: LO < N < HI
between() { if [ "$1" -gt "$2" ] && [ "$1" -lt "$3" ]; then return 0; fi; echo "$1 not in ($2, $3)"; return 1; }

# wait_lines FILE N: until FILE has N lines (10 s at most), for commands
# that run on in the background
wait_lines() {
	for _ in $(seq 200); do
		if [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ]; then return 0; fi
		sleep 0.05
	done
	echo "$1 has $(wc -l < "$1") lines, not $2"
	return 1
}

# mail_jsonl N SEED COMMON NOISE: N JSON Lines messages (a third spam, the
# rest ham) of 12 words from a seeded draw: COMMON % of the words from a
# vocabulary both share, NOISE % from the other label's, the rest from
# their own.  Ids m0, m1, ...
mail_jsonl() {
	awk -v n="$1" -v s="$2" -v common_pct="$3" -v noise="$4" 'BEGIN {
	split("meeting report lunch schedule team project review budget notes draft agenda call", ham)
	split("free winner cash offer click prize viagra cheap deal money unsubscribe urgent", spam)
	split("the a to and of you your we this please", common)
	for (i = 0; i < n; i++) {
		lab = i % 3 ? "ham" : "spam"
		text = ""
		for (w = 0; w < 12; w++) {
			s = (s * 1103515245 + 12345) % 2147483648
			r = int(s / 65536) % 100
			k = int(s / 256) % 12 + 1
			if (r < common_pct) word = common[k % 10 + 1]
			else if (r < 100 - noise) word = (lab == "ham" ? ham[k] : spam[k])
			else word = (lab == "ham" ? spam[k] : ham[k])
			text = text (w ? " " : "") word
		}
		printf "{\"id\":\"m%d\",\"label\":\"%s\",\"text\":\"%s\"}\n", i, lab, text
	}
}'
}

# two_label_texts LABEL1 LABEL2 N: N JSON Lines records of two word sets,
# labelled by the pair (models that tell them apart, for reload tests)
two_label_texts() {
	python3 -c 'import json, sys
a, b, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for k in range(n):
    w = "cheap pills casino prize" if k % 2 else "meeting lunch garden book"
    print(json.dumps({"id": str(k), "text": "%s %d" % (w, k % 7), "label": b if k % 2 else a}))' "$@"
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
