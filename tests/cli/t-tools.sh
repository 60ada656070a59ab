# head, count, sample, shuffle, split, grep.
. "$PEA_SRC/tests/cli/lib.sh"

seq 1 1000 | sed "s/.*/{\"id\":&,\"text\":\"record number &\"}/" > n.jsonl
pea import n.jsonl > n.pea

t 'head takes the first N records' '
	pea head -n 3 n.pea | pea export --tsv --fields id | tr "\n" " " | grep -qx "1 2 3 "
	test "$(pea head n.pea | pea count)" = 10
	test "$(pea head -n 0 n.pea | pea count)" = 0
'
t 'count per file and total' '
	pea count n.pea n.pea > c.txt
	grep -qx "1000 n.pea" c.txt
	grep -qx "2000 total" c.txt
	test "$(pea count --check n.pea)" = 1000
	test "$(pea count n.jsonl)" = 1000
'
t 'sample --fraction is deterministic and near the fraction' '
	a=$(pea sample --fraction 0.3 --seed 5 n.pea | pea export --tsv --fields id | md5sum)
	b=$(pea sample -j 1 --fraction 0.3 --seed 5 n.pea | pea export --tsv --fields id | md5sum)
	test "$a" = "$b"
	k=$(pea sample --fraction 0.3 --seed 5 n.pea | pea count)
	between "$k" 240 360
	c=$(pea sample --fraction 0.3 --seed 6 n.pea | pea export --tsv --fields id | md5sum)
	test "$a" != "$c"
'
t 'sample -n keeps exactly N, in input order' '
	pea sample -n 50 --seed 3 n.pea | pea export --tsv --fields id > s.txt
	test "$(wc -l < s.txt)" = 50
	sort -n s.txt | cmp - s.txt
	test "$(pea sample -n 5000 n.pea | pea count)" = 1000
'
t 'shuffle is a seeded permutation' '
	pea shuffle --seed 9 n.pea | pea export --tsv --fields id > p1.txt
	pea shuffle --seed 9 n.pea | pea export --tsv --fields id > p2.txt
	cmp p1.txt p2.txt
	nope cmp -s p1.txt <(seq 1 1000)
	sort -n p1.txt | cmp - <(seq 1 1000)
'
t 'split --test by a field is stable and complete' '
	pea split --test 0.2 --by id -o tr.pea,te.pea n.pea
	test $(( $(pea count tr.pea) + $(pea count te.pea) )) = 1000
	k=$(pea count te.pea); between "$k" 150 250
	pea head -n 500 n.pea | pea split --test 0.2 --by id -o tr2.pea,te2.pea
	pea export --tsv --fields id te2.pea > a.txt
	pea export --tsv --fields id te.pea | awk "\$1 <= 500" | cmp - a.txt
'
t 'split --shards by field and round-robin frames' '
	pea split --shards 3 --by id -o "part-%d.pea" n.pea
	test $(( $(pea count part-0.pea) + $(pea count part-1.pea) + $(pea count part-2.pea) )) = 1000
	cat part-*.pea | pea export --tsv --fields id | sort -n | cmp - <(seq 1 1000)
	seq 1 3000 | sed "s/.*/{\"id\":&}/" > f.jsonl
	pea import --level 0 f.jsonl > f.pea
	test "$(pea count --check f.pea)" = 3000
	cat f.pea f.pea f.pea > fff.pea
	pea split --shards 2 -o "rr-%d.pea" fff.pea
	test $(( $(pea count rr-0.pea) + $(pea count rr-1.pea) )) = 9000
	test "$(pea count rr-0.pea)" = 6000
'
t 'grep by regex, inverted, case-insensitive, on lists' '
	test "$(pea grep "number 1[0-9]\$" n.pea | pea count)" = 10
	test "$(pea grep -v "number" n.pea | pea count)" = 0
	test "$(pea grep -i "RECORD NUMBER 7\$" n.pea | pea count)" = 1
	pea import "$DATA/mixed.jsonl" | pea grep -f tags "^cal" | pea export --tsv --fields id | grep -qx 1
	pea import "$DATA/mixed.jsonl" | pea grep "\\p{Han}" | pea export --tsv --fields id | grep -qx 3
'
done_testing
