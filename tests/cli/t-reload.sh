# Hot reload: pea classify --reload picks up a model written over its model
# file between records, keeps the old one when the new file is bad, and
# never drops a record.
. "$PEA_SRC/tests/cli/lib.sh"

two_label_texts a b 200 | pea tokenize | pea vectorize | pea train -q -o A.model
two_label_texts c d 200 | pea tokenize | pea vectorize | pea train -q -o B.model
two_label_texts x y 40 | pea tokenize | pea vectorize --binary > burst.pea
preds() { python3 -c 'import json, sys
print(" ".join(sorted(set(json.loads(l)["pred"] for l in open(sys.argv[1]).readlines()[int(sys.argv[2]):int(sys.argv[3])]))))' "$@"; }

t 'a model written over the file is used from the next record on' '
	cp A.model m.model
	mkfifo in1
	pea classify --reload -m m.model --json < in1 > o1.json 2> e1 &
	C=$!
	exec 3> in1
	cat burst.pea >&3
	wait_lines o1.json 40
	cp B.model m.tmp
	mv m.tmp m.model
	cat burst.pea >&3
	exec 3>&-
	wait $C
	test "$(wc -l < o1.json)" = 80
	test "$(preds o1.json 0 40)" = "a b"
	test "$(preds o1.json 40 80)" = "c d"
	test ! -s e1'
t 'a damaged new model is refused once, the old one goes on' '
	cp A.model m.model
	mkfifo in2
	pea classify --reload -m m.model --json < in2 > o2.json 2> e2 &
	C=$!
	exec 3> in2
	cat burst.pea >&3
	wait_lines o2.json 40
	head -c 1000 B.model > m.tmp
	mv m.tmp m.model
	cat burst.pea >&3
	cat burst.pea >&3
	exec 3>&-
	wait $C
	test "$(wc -l < o2.json)" = 120
	test "$(preds o2.json 0 120)" = "a b"
	test "$(wc -l < e2)" = 1
	grep -q "^pea-classify: warning: m.model: the new model is not used: .*(the previous one goes on)$" e2'
two_label_texts e f 200 | pea tokenize | pea vectorize --bits 12 | pea train -q -o C.model
t 'a new model in another feature space is refused, the old one goes on' '
	cp A.model m.model
	mkfifo in4
	pea classify --reload -m m.model --json < in4 > o4.json 2> e4 &
	C=$!
	exec 3> in4
	cat burst.pea >&3
	wait_lines o4.json 40
	cp C.model m.tmp
	mv m.tmp m.model
	cat burst.pea >&3
	exec 3>&-
	wait $C
	test "$(preds o4.json 0 80)" = "a b"
	grep -q "^pea-classify: warning: m.model: the new model is not used: its feature space is not the one the records are in (the previous one goes on)$" e4'
t 'without --reload the model stays as opened' '
	cp A.model m.model
	mkfifo in3
	pea classify -m m.model --json < in3 > o3.json &
	C=$!
	exec 3> in3
	cat burst.pea >&3
	wait_lines o3.json 40
	cp B.model m.tmp
	mv m.tmp m.model
	cat burst.pea >&3
	exec 3>&-
	wait $C
	test "$(preds o3.json 0 80)" = "a b"'
done_testing
