# scripts/experiments/Makefile: the whole experiment on a small corpus of
# mail files, under make -j2; a second run redoes nothing, a changed setting
# redoes only the steps that use it.
. "$PEA_SRC/tests/cli/lib.sh"

# raw messages, one file each, in a folder per label
mkdir -p corpus/ham corpus/spam
awk 'BEGIN {
	split("meeting report lunch schedule team project review budget notes draft agenda call", ham)
	split("free winner cash offer click prize cheap deal money unsubscribe urgent bonus", spam)
	s = 11
	for (i = 0; i < 160; i++) {
		lab = i % 2 ? "ham" : "spam"
		f = sprintf("corpus/%s/%03d.txt", lab, i)
		printf "From: someone%d@example.org\nSubject: message %d\n\n", i % 7, i > f
		for (w = 0; w < 30; w++) {
			s = (s * 1103515245 + 12345) % 2147483648
			k = int(s / 256) % 12 + 1
			r = int(s / 65536) % 100
			printf "%s ", (r < 85) == (lab == "ham") ? ham[k] : spam[k] > f
		}
		printf "\n" > f
		close(f)
	}
}'
run() { make -j2 -C "$PEA_SRC/scripts/experiments" BIN="$PEA_BUILD" OUT="$TMP/out" \
	CORPUS="$TMP/corpus" HAM=ham SPAM=spam FEATURES='words bigrams' ALGOS='nb logreg' "$@"; }

t 'make -j2 runs the experiment into one table' '
	run > make1.out 2>&1
	test "$(grep -c "^| \(words\|bigrams\) | \(nb\|logreg\) | [0-9.]*% | [0-9.]*% |" out/results.md)" = 4
	test "$(pea count out/train.pea) $(pea count out/test.pea)" != "0 0"
	test "$(( $(pea count out/train.pea) + $(pea count out/test.pea) ))" = 160'
t 'the accuracies are real: the logreg models beat chance by far' '
	grep "| logreg |" out/results.md | awk -F"|" "{ sub(/%/, \"\", \$4); if (\$4 + 0 < 80) exit 1 }"'
stamp() { stat -c %Y.%y out/words/logreg.model out/bigrams/logreg.model out/words/test.pea; }
stamp > before
t 'a second run redoes nothing' '
	run > make2.out 2>&1
	nope grep -q "pea " make2.out
	stamp | cmp - before'
t 'a changed setting redoes only what uses it' '
	sleep 1
	run bigrams_TOK="-f title -f text --ngrams 1-3" > make3.out 2>&1
	grep -q "pea train .* -o $TMP/out/bigrams/logreg.model" make3.out
	nope grep -q "pea [a-z]* .*out/words/" make3.out
	test "$(stamp | sed -n 1p)" = "$(sed -n 1p before)"
	test "$(stamp | sed -n 2p)" != "$(sed -n 2p before)"'
t 'a failing step stops make with pea'"'"'s message; the next run redoes it' '
	nope run logreg_TRAIN="--algo nope" > make4.out 2>&1
	grep -q "^pea-train: " make4.out
	run > make5.out 2>&1
	grep -q "pea train .* -o $TMP/out/words/logreg.model" make5.out
	test "$(grep -c "| logreg |" out/results.md)" = 2'

done_testing
