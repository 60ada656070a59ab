# GNU parallel over pea streams on this machine: `parallel --pipe` cuts a
# stream only where a frame starts (the recipe of pea-format(5) and the
# README), a cut without it is caught by the checksums, and sharded
# classify and recommend (parallel ::: part files) give the records of one
# process.  Skipped (not passed) without GNU parallel.
. "$PEA_SRC/tests/cli/lib.sh"

if ! parallel --version 2> /dev/null | grep -q 'GNU parallel'; then
	for c in 'pipe recipe' 'pipepart recipe' 'small blocks' 'no recstart' 'split and parallel' 'train-mix' 'train-mix error' 'lines' 'recommend'; do
		t_skip "$c" "no GNU parallel on PATH (Debian parallel)"
	done
	done_testing
	exit
fi
export PARALLEL_HOME="$TMP/.parallel"
mkdir -p "$PARALLEL_HOME"
touch "$PARALLEL_HOME/will-cite"
# the recipe, as documented
pipe() { parallel --pipe -k --recstart $'\xffPEAFRM\xfe' --recend '' "$@"; }

# mail in 30 frames of 20 records (frames concatenate)
mail_jsonl 600 11 0 15 > mail.jsonl
for i in $(seq 0 29); do sed -n "$((i * 20 + 1)),$((i * 20 + 20))p" mail.jsonl | pea import -q --jsonl; done > mail.pea
pea tokenize -q mail.pea | pea vectorize -q --bits 12 | pea train -q -o spam.model
pea tokenize -q mail.pea | pea vectorize -q --bits 12 | pea classify -q -m spam.model | pea cat --json | sort > one.json

t 'parallel --pipe on frame starts: tokenize | vectorize | classify per block, the records of one process' '
	pipe --block 4k -j 2 "pea tokenize -q | pea vectorize -q --bits 12 | pea classify -q -m spam.model" < mail.pea > par.pea
	pea cat --json par.pea | sort > par.json
	cmp one.json par.json
	test "$(wc -l < par.json)" = 600'
t 'parallel --pipepart -a FILE --block -1 (a part per job slot): the records of one process' '
	parallel --pipepart -a mail.pea -k --recstart $'"'"'\xffPEAFRM\xfe'"'"' --recend "" --block -1 -j 2 \
		"pea tokenize -q | pea vectorize -q --bits 12 | pea classify -q -m spam.model" > pp.pea
	pea cat --json pp.pea | sort > pp.json
	cmp one.json pp.json
	parallel --pipepart -a mail.pea -k --recstart $'"'"'\xffPEAFRM\xfe'"'"' --recend "" --block -3 -j 2 cat > pp-cat.pea
	cmp mail.pea pp-cat.pea
	parallel --pipepart -a mail.pea -k --recstart $'"'"'\xffPEAFRM\xfe'"'"' --recend "" --block -3 -j 2 \
		"pea cat --json | wc -l" > pp-counts
	test "$(wc -l < pp-counts)" -ge 4
	test "$(awk "{ s += \$1 } END { print s }" pp-counts)" = 600'
t 'blocks smaller than a frame still carry whole frames (and -k keeps their order)' '
	pipe --block 100 -j 2 cat < mail.pea > cut.pea
	cmp mail.pea cut.pea'
t 'without --recstart parallel cuts frames, and the checksums say so' '
	nope parallel --pipe -k --block 1k -j 2 "pea cat -q" < mail.pea > bad.pea 2> bad.err
	grep -q "^pea-cat: .*: frame [0-9]* at byte [0-9]*: " bad.err'
t 'pea split, then parallel over the shards: cat of the outputs is one stream, the records of one process' '
	pea tokenize -q mail.pea | pea vectorize -q --bits 12 -o vec.pea
	pea split --shards 3 --by id -o "part-%d.pea" vec.pea
	parallel -j 2 "pea classify -q -m spam.model {} -o {.}.out" ::: part-0.pea part-1.pea part-2.pea
	cat part-*.out > all.out
	pea cat --json all.out | sort > split.json
	cmp one.json split.json'

t 'scripts/train-mix: logreg mixed through files over 3 shards, as accurate as one process' '
	pea split --test 0.25 --by id -o "mix-train.pea,mix-test.pea" vec.pea
	pea split --shards 3 --by id -o "mix-%d.pea" mix-train.pea
	"$PEA_SRC/scripts/train-mix" -r 3 -j 2 -o mixed.model mix-0.pea mix-1.pea mix-2.pea -- --algo logreg --seed 2
	pea train -q --algo logreg --epochs 3 -o single.model mix-train.pea
	pea train --show mixed.model | grep -q "\"algo\": \"logreg\""
	a=$(pea classify -q -m single.model mix-test.pea | pea eval --json | sed "s/.*\"accuracy\":\([0-9.]*\).*/\1/")
	b=$(pea classify -q -m mixed.model mix-test.pea | pea eval --json | sed "s/.*\"accuracy\":\([0-9.]*\).*/\1/")
	awk -v a="$a" -v b="$b" "BEGIN { d = a - b; if (d < 0) d = -d; if (d > 0.02 || b < 0.8) { print a, b; exit 1 } }"'
t_err 'scripts/train-mix: a shard it cannot read' 1 'train-mix: nothere.pea: cannot read it' \
	"$PEA_SRC/scripts/train-mix" -o x.model nothere.pea

# a recommender: users and items from a fixed draw
awk 'BEGIN { s = 5; print "user\titem"; for (u = 0; u < 60; u++) for (k = 0; k < 6; k++) {
	s = (s * 1103515245 + 12345) % 2147483648; printf "u%02d\ti%d\n", u, (u % 4) * 5 + int(s / 65536) % 7 } }' > plays.tsv
pea import -q --tsv plays.tsv -o plays.pea
# what Hadoop Streaming and Spark's RDD.pipe do: lines in, any lines to a
# task, lines out (parallel --pipe cuts at newlines by default)
t 'lines in, lines out (Hadoop Streaming, RDD.pipe): JSON Lines per task give the records of one process' '
	parallel --pipe -k --block 2k -j 2 \
		"pea tokenize -q | pea vectorize -q --bits 12 | pea classify -q -m spam.model | pea cat --json" \
		< mail.jsonl | sort > lines.json
	cmp one.json lines.json'
t 'pea recommend per shard over parallel --pipe: the recommendations of one process' '
	pea train -q --algo als --seed 3 -o recs.model plays.pea
	awk "NR > 1 { print \$1 }" plays.tsv | sort -u | awk "{ printf \"{\\\"user\\\":\\\"%s\\\"}\\n\", \$1 }" > users.jsonl
	for i in 0 1 2 3 4 5; do sed -n "$((i * 10 + 1)),$((i * 10 + 10))p" users.jsonl | pea import -q --jsonl; done > users.pea
	pea recommend -q -m recs.model -k 5 users.pea | pea cat --json | sort > rec1.json
	pipe --block 200 -j 2 "pea recommend -q -m recs.model -k 5" < users.pea > recn.pea
	pea cat --json recn.pea | sort > recn.json
	cmp rec1.json recn.json
	grep -q "\"recs\":\[\"i" recn.json
	test "$(wc -l < recn.json)" = 60'
done_testing
