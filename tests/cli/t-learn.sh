# pea train, pea classify, pea eval: end to end, determinism, merging,
# warm starts, model checks and bad input.
. "$PEA_SRC/tests/cli/lib.sh"

# A small corpus: ham and spam messages drawn from two vocabularies that
# overlap.
mail_jsonl 400 7 40 8 > mail.jsonl
# text to features: the real tokenizer and vectorizer, a small hash space
pea tokenize -q mail.jsonl | pea vectorize -q --bits 12 --names names.pea --json > all.jsonl
# naive Bayes counts: features hashed without a sign
pea tokenize -q mail.jsonl | pea vectorize -q --bits 12 --unsigned --json > allu.jsonl
head -300 allu.jsonl > trainu.jsonl
tail -100 allu.jsonl > testu.jsonl
head -300 all.jsonl > train.jsonl
tail -100 all.jsonl > test.jsonl

for algo in svm logreg nb; do
	tr=train.jsonl te=test.jsonl
	[ $algo = nb ] && tr=trainu.jsonl te=testu.jsonl
	t "$algo: text to eval, accuracy above 90%" "
		pea train -q --algo $algo -o $algo.model $tr
		pea classify -m $algo.model $te | pea eval --json > $algo.json
		grep -q '\"records\":100' $algo.json
		awk -F'\"accuracy\":' '{ split(\$2, a, \",\"); exit !(a[1] > 0.9) }' $algo.json"
	t "$algo: the same model at 1 and 2 threads" "
		pea train -q --algo $algo -j 1 -o a.model $tr
		pea train -q --algo $algo -j 2 -o b.model $tr
		cmp a.model b.model"
done
t 'trains from a pipe as from a file' '
	cat train.jsonl | pea train -q --algo logreg -o pipe.model
	pea train -q --algo logreg -o file.model train.jsonl
	cmp pipe.model file.model'
t 'another seed, another logreg model' '
	pea train -q --algo logreg --seed 2 -o s2.model train.jsonl
	nope cmp -s s2.model logreg.model'
t 'binary records in, and several files' '
	pea cat --binary train.jsonl > train.pea
	head -150 train.jsonl > half1.jsonl; tail -150 train.jsonl > half2.jsonl
	pea train -q --algo logreg -o two.model half1.jsonl half2.jsonl
	pea train -q --algo logreg -o bin.model train.pea
	cmp bin.model logreg.model
	cmp two.model logreg.model'
t 'classify keeps every field and adds pred and probs' '
	pea classify -m svm.model --json test.jsonl | head -1 > one.json
	grep -q "\"id\":\"m300\"" one.json
	grep -q "\"label\":" one.json
	grep -q "\"text\":" one.json
	grep -q "\"pred\":\"\(ham\|spam\)\"" one.json
	grep -q "\"probs\":{\"ham\":" one.json'
t 'classify --top 1 and --threshold' '
	pea classify -m logreg.model --top 1 --json test.jsonl | head -1 | grep -q "\"probs\":{\"[a-z]*\":[0-9.e-]*}}"
	pea classify -m logreg.model --threshold 0 --json test.jsonl | grep -c "\"pred\":\"spam\"" | grep -qx 100
	pea classify -m logreg.model --threshold 1 --json test.jsonl | grep -c "\"pred\":\"ham\"" | grep -qx 100'
t 'eval prints a table with per-label figures, confusion and AUC' '
	pea classify -m logreg.model test.jsonl | pea eval > table.txt
	grep -q "^records 100  accuracy" table.txt
	grep -q "ROC AUC" table.txt
	grep -q "^ham " table.txt
	grep -q "^spam " table.txt
	grep -q "^confusion" table.txt'
t 'eval --plot draws an SVG heat map and ROC curve' '
	pea classify -m logreg.model test.jsonl | pea eval --plot p.svg > /dev/null
	head -2 p.svg | grep -q "<svg"
	grep -q "ROC of" p.svg
	grep -q "confusion matrix" p.svg
	tail -1 p.svg | grep -q "</svg>"'
t 'holdout: a validation line per epoch, and early stopping' '
	pea train --algo logreg --holdout 0.3 --epochs 30 --patience 1 --lr 5 -o h.model train.jsonl 2> h.err
	grep -q "^pea-train: epoch 1: loss .*, validation loss .*, accuracy .*%$" h.err
	grep -q "validation: .* records" h.err'
t 'the summary: the time of the training, and of an epoch within it' '
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat train.jsonl; done > big.jsonl
	pea train --algo logreg --epochs 4 -o sum.model big.jsonl 2> sum.err
	grep -q "; logreg trained in [0-9.]* s ([0-9.]* s per epoch); wrote sum.model$" sum.err
	sed "s/.* trained in \([0-9.]*\) s (\([0-9.]*\) s per epoch).*/\1 \2/" sum.err > sum.t
	awk "{ exit !(\$2 > 0) }" sum.t
	awk "{ exit !(4 * \$2 <= \$1 + 0.001) }" sum.t'
t 'warm start: --init continues a model on new records, with new labels' '
	sed "s/\"label\":\"spam\"/\"label\":\"junk\"/" test.jsonl > more.jsonl
	pea train -q --algo logreg --init logreg.model -o warm.model more.jsonl
	pea train --show warm.model | tr -d " \n" | grep -q "\"labels\":\[\"ham\",\"junk\",\"spam\"\]"
	pea train -q --algo svm --init svm.model -o warm2.model test.jsonl
	pea classify -m warm2.model test.jsonl | pea eval > /dev/null'
t 'naive Bayes shards merge into the model of the whole' '
	head -150 trainu.jsonl > half1u.jsonl
	tail -150 trainu.jsonl > half2u.jsonl
	pea train -q --algo nb -o p1.model half1u.jsonl
	pea train -q --algo nb -o p2.model half2u.jsonl
	pea train -q --algo nb -o whole.model trainu.jsonl
	pea train --merge -q -o merged.model p1.model p2.model
	cmp merged.model whole.model'
t 'linear models merge by averaging' '
	pea train -q --algo svm -o s1.model half1.jsonl
	pea train -q --algo svm -o s2.model half2.jsonl
	pea train --merge -o avg.model s1.model s2.model 2> m.err
	grep -q "merged 2 models (300 records)" m.err
	pea classify -m avg.model test.jsonl | pea eval > /dev/null'
t '--show prints the meta and the top features, named with --names' '
	pea train --show svm.model --names names.pea --top 5 > show.txt
	grep -q "\"algo\": \"svm\"" show.txt
	grep -q "top features of .spam.:" show.txt
	grep -q "\"fspace\": \"" show.txt
	sed -n "/of .spam.:/,\$p" show.txt | grep -q " \(free\|winner\|cash\|offer\|click\|prize\|viagra\|cheap\|deal\|money\|unsubscribe\|urgent\)$"'
# words of label a start with a, of b with b; signed hashing gives about
# half of them the sign -1, so a name is under its label only when --show
# counts a feature's weight with each name's sign
for i in $(seq 1 60); do
	if [ $((i % 2)) = 0 ]; then
		echo "{\"label\":\"a\",\"text\":\"alpha$((i % 7)) apple$((i % 5)) acorn common$((i % 3))\"}"
	else
		echo "{\"label\":\"b\",\"text\":\"beta$((i % 7)) banana$((i % 5)) bacon common$((i % 3))\"}"
	fi
done > signs.jsonl
t '--show counts the sign of hashed names' '
	pea tokenize -q signs.jsonl | pea vectorize -q --bits 16 --names signs.names | pea train -q -o signs.model
	pea vectorize --show signs.names | grep -q "	-b"
	pea vectorize --show signs.names | grep -q "	-a"
	pea train --show signs.model --names signs.names --top 6 > signs.txt
	sed -n "/of .a.:/,/^\$/p" signs.txt | grep -c " a[a-z0-9]*$" | grep -qx 6
	sed -n "/of .b.:/,\$p" signs.txt | grep -c " b[a-z0-9]*$" | grep -qx 6'
t 'multi-label: labels in, preds out' '
	awk "NR % 2 { sub(/\"label\":\"[a-z]*\"/, \"\\\"labels\\\":[\\\"x\\\",\\\"y\\\"]\") } !(NR % 2) { sub(/\"label\":\"[a-z]*\"/, \"\\\"labels\\\":[\\\"x\\\"]\") } 1" train.jsonl > ml.jsonl
	pea train -q --algo logreg --holdout 0.2 -o ml.model ml.jsonl
	pea classify -m ml.model --json ml.jsonl | head -1 | grep -q "\"preds\":\[\"x\""
	pea classify -m ml.model ml.jsonl | pea eval | grep -q "^records 300  exact-match"'
head -20 mail.jsonl | pea tokenize -q | pea vectorize -q --bits 10 > other.pea
t_err 'classify refuses records of another feature space' 1 \
	"pea-classify: other.pea: frame 1 at byte 0: record 1: the record's feature space '*' is not the model's '*'" \
	pea classify -m svm.model other.pea
echo '{"label":"a","dense":[1,2]}' > dense.jsonl
t_err 'classify refuses dense records for a sparse model' 1 \
	"pea-classify: dense.jsonl: line 1: the model takes sparse features, the record has dense ones" \
	pea classify -m svm.model dense.jsonl
cp svm.model bad.model
printf 'X' | dd of=bad.model bs=1 seek=200 conv=notrunc 2> /dev/null
t_err 'a damaged model is refused' 1 'pea-classify: bad.model: model digest mismatch: the file is damaged' \
	pea classify -m bad.model test.jsonl
head -c 100 svm.model > short.model
t_err 'a truncated model is refused' 1 'pea-classify: short.model: truncated*' pea classify -m short.model test.jsonl
t_err 'a stranger file is refused' 1 'pea-train: mail.jsonl: not a pea model file' pea train --show mail.jsonl
printf '{"label":"a","features":{"1":1}}\n{"features":{"1":1}}\n' > nolabel.jsonl
t_err 'a record without a label is refused where it is' 1 \
	"pea-train: nolabel.jsonl: line 2: no 'label' or 'labels' field" pea train -o x.model nolabel.jsonl
printf '{"label":"a","features":{"1":1}}\n{"label":"b","text":"x"}\n' > nofeat.jsonl
t_err 'a record without features is refused' 1 \
	"pea-train: nofeat.jsonl: line 2: no 'features' or 'dense' field" pea train -o x.model nofeat.jsonl
printf '{"label":"a","features":{"1":1}}\n{"label":"a","features":{"2":1}}\n' > one.jsonl
t_err 'one label is nothing to learn' 1 "pea-train: the data has only one label ('a'): nothing to tell apart" \
	pea train -o x.model one.jsonl
printf '{"label":"a","dense":[1,2]}\n{"label":"b","dense":[1,2,3]}\n' > ragged.jsonl
t_err 'dense vectors of different lengths are refused' 1 \
	'pea-train: ragged.jsonl: line 2: dense vector of 3 values after vectors of 2' pea train -o x.model ragged.jsonl
printf '{"label":"a","features":{"1":1},"weight":-1}\n' > negw.jsonl
t_err 'a negative weight is refused' 1 "pea-train: negw.jsonl: line 1: field 'weight' must be a number >= 0" \
	pea train -o x.model negw.jsonl
: > empty.jsonl
t_err 'no records, no model' 1 'pea-train: no records to train on' pea train -o x.model empty.jsonl
t 'and no model file is left behind' '! test -e x.model'
t 'an unknown algorithm is a usage error' '
	rc=0
	pea train --algo forest -o x.model train.jsonl 2> u.err || rc=$?
	test $rc = 2
	grep -q "^pea-train: unknown --algo .forest. (one of nb, logreg, svm, mlp, cnn, pop, knn, als, bpr, ease)$" u.err'
t_err 'a parameter of another algorithm is refused' 1 'pea-train: --cost means nothing to --algo nb' \
	pea train --algo nb --cost 2 -o x.model train.jsonl
t_err 'eval needs predictions' 1 "pea-eval: test.jsonl: line 1: no 'pred' field (pea classify adds it)" \
	pea eval test.jsonl
printf '{"label":"a","pred":"a","probs":{"a":1.5}}\n' > badp.jsonl
t_err 'eval refuses a probability above 1' 1 "pea-eval: badp.jsonl: line 1: probability of 'a' is 1.5, not in \[0, 1\]" \
	pea eval badp.jsonl
t 'classify needs a model' '
	rc=0
	pea classify test.jsonl 2> u.err || rc=$?
	test $rc = 2
	grep -q "^pea-classify: -m MODEL is required$" u.err'
done_testing
