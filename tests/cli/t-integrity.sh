# Every reader of model files on truncated and bit-flipped models: one
# clear line naming the file, exit 1, never a prediction from a damaged
# model.  (tests/fuzz/fuzz-model.c tries the same readers on mutations.)
. "$PEA_SRC/tests/cli/lib.sh"

python3 -c 'import json
for k in range(60):
    w = "cheap pills casino" if k % 2 else "meeting lunch garden"
    print(json.dumps({"text": "%s %d" % (w, k % 5), "label": "b" if k % 2 else "a", "user": "u%d" % (k % 9), "item": "i%d" % (k % 7)}))' > d.jsonl
pea tokenize d.jsonl > tok.pea
pea vectorize --bits 8 < tok.pea > v.pea
pea import d.jsonl > cf.pea
pea train -q --algo logreg -o logreg.model v.pea
pea train -q --algo mlp --net fc:4,relu,fc --epochs 1 -o mlp.model v.pea
pea train -q --algo als --factors 4 -o als.model cf.pea
pea vectorize --vocab --fit vec.model --fit-only < tok.pea

# damaged MODEL: the model cut at a few places and with a bit flipped at a few
damaged() {
	n=$(stat -c %s "$1")
	for cut in 0 7 40 $((n / 2)) $((n - 1)); do
		head -c "$cut" "$1" > "cut$cut-$1"
		echo "cut$cut-$1"
	done
	for at in 0 9 20 $((n / 3)) $((n - 20)) $((n - 1)); do
		python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[int(sys.argv[2])] ^= 16
open(sys.argv[3], "wb").write(b)' "$1" "$at" "flip$at-$1"
		echo "flip$at-$1"
	done
}
# check MODEL INPUT COMMAND...: each damaged copy of MODEL, put where
# COMMAND has @, is refused: exit 1, one line naming it, no output
check() {
	local m=$1 in=$2 bad="" f
	shift 2
	for f in $(damaged "$m"); do
		local args=()
		for a in "$@"; do [ "$a" = @ ] && args+=("$f") || args+=("$a"); done
		local rc=0
		"${args[@]}" > out 2> err < "$in" || rc=$?
		[ $rc = 1 ] || bad="$bad $f(status $rc)"
		[ "$(wc -l < err)" = 1 ] || bad="$bad $f($(wc -l < err) lines)"
		grep -q "^pea-[a-z]*: $f: " err || bad="$bad $f($(head -c 200 err))"
		[ ! -s out ] || bad="$bad $f(output)"
	done
	test -z "$bad" || { echo "not refused cleanly:$bad"; false; }
}
t 'pea classify -m refuses damaged classifiers' '
	check logreg.model v.pea pea classify -m @
	check mlp.model v.pea pea classify -m @'
t 'pea recommend -m refuses damaged recommenders' '
	check als.model cf.pea pea recommend -m @'
t 'pea vectorize -m refuses damaged vectorizers' '
	check vec.model tok.pea pea vectorize -m @'
t 'pea train --show, --init and --merge refuse damaged models' '
	check logreg.model v.pea pea train --show @
	check als.model v.pea pea train --show @
	check vec.model v.pea pea vectorize --show @
	check logreg.model v.pea pea train -q --init @ -o x.model
	check logreg.model v.pea pea train -q --merge -o x.model logreg.model @
	test ! -e x.model'
t 'pea sign, pea publish and pea eval -m refuse damaged models' '
	pea keygen -o k > /dev/null
	mkdir www
	check logreg.model v.pea pea sign --verify k.pub @
	check logreg.model v.pea pea sign --key k -o s.model @
	check logreg.model v.pea pea publish @ www
	check als.model cf.pea pea eval --ranking -m @
	test -z "$(ls www)"'
done_testing
