# The record stream: round trips, concatenation, levels, the golden file.
. "$PEA_SRC/tests/cli/lib.sh"

t 'JSON Lines round-trip through the binary stream' '
	pea import "$DATA/mixed.jsonl" > m.pea
	pea cat --json m.pea > back.jsonl
	pea import back.jsonl | pea cat --json > again.jsonl
	cmp back.jsonl again.jsonl
	test "$(wc -l < back.jsonl)" = 5
'
t 'values survive exactly' '
	pea import "$DATA/mixed.jsonl" | pea cat --json > o.jsonl
	grep -F "\"text\":\"Café au lait — naïve façade, 日本語 and 😀\"" o.jsonl
	grep -F "\"text\":\"Line one\\nline two\\ttabbed \\\"quoted\\\" back\\\\slash\"" o.jsonl
	grep -F "\"features\":{\"5\":1.0,\"17\":0.5}" o.jsonl
	grep -F "\"dense\":[0.25,0.5,1.0]" o.jsonl
	grep -F "\"none\":null" o.jsonl
	grep -F "\"nested\":{\"a\":[1,{\"b\":2}]}" o.jsonl
'
t 'cat a b equals the records of both, in order' '
	pea import "$DATA/mixed.jsonl" > a.pea
	printf "{\"id\":9}\n" | pea import > b.pea
	cat a.pea b.pea > ab.pea
	test "$(pea count ab.pea)" = 6
	pea cat --json ab.pea | tail -1 | grep -qx "{\"id\":9}"
'
t 'an empty file is an empty stream' '
	: > empty.pea
	test "$(pea count empty.pea)" = 0
	pea cat empty.pea > out.pea
	test ! -s out.pea
'
t 'uncompressed and compressed frames read the same' '
	pea import --level 0 "$DATA/mixed.jsonl" > raw.pea
	pea import --level 19 "$DATA/mixed.jsonl" > z.pea
	test "$(pea cat --json raw.pea | md5sum)" = "$(pea cat --json z.pea | md5sum)"
	grep -qF "Meeting at noon" raw.pea
	nope grep -qF "Meeting at noon" z.pea
'
t 'the golden stream of this format version still reads' '
	pea cat --json "$DATA/golden.pea" > g.jsonl
	cmp g.jsonl "$DATA/golden.jsonl"
'
t 'many frames: a large stream keeps every record in order on 2 threads' '
	seq 1 200000 | sed "s/.*/{\"id\":&,\"text\":\"row & of the big test\"}/" > big.jsonl
	pea import -j 2 big.jsonl > big.pea
	test "$(pea count big.pea)" = 200000
	pea cat -j 2 --json big.pea | cmp - big.jsonl
	test "$(pea export --tsv --fields id big.pea | sort -n | uniq | wc -l)" = 200000
'
t 'a writer flushes when its input goes quiet' '
	mkfifo in.fifo
	( printf "{\"id\":1}\n"; sleep 3; printf "{\"id\":2}\n" ) > in.fifo &
	pea import in.fifo > out.pea &
	sleep 1.5
	test "$(pea count out.pea)" = 1
	wait
	test "$(pea count out.pea)" = 2
'
t 'records reach the end of a pipeline before the input ends' '
	mkfifo p.fifo
	( printf "{\"id\":1,\"text\":\"a\"}\n"; sleep 3; printf "{\"id\":2,\"text\":\"b\"}\n" ) > p.fifo &
	pea import p.fifo | pea cat | pea grep . | pea cat --json > live.jsonl &
	sleep 1.5
	test "$(wc -l < live.jsonl)" = 1
	wait
	test "$(wc -l < live.jsonl)" = 2
'
done_testing
