# pea split (per user), pea train (recommenders), pea recommend, pea eval
# --ranking: end to end on planted groups, determinism, merging, warm
# starts, fold-in, explanations and bad input.
. "$PEA_SRC/tests/cli/lib.sh"

# 90 users in three groups; user u of group g first uses one item of the
# next group, then eight of its own group's ten items (drawn by an LCG): a
# structure every recommender but pop should find.  Times increase through
# the file, so each user's latest item is one of the group's.
awk 'BEGIN {
	s = 11; t = 0
	print "user\titem\ttime"
	for (u = 0; u < 90; u++) {
		g = u % 3
		s = (s * 1103515245 + 12345) % 2147483648
		printf "u%d\tg%d_%d\t%d\n", u, (g + 1) % 3, int(s / 65536) % 10, t++
		delete seen
		for (k = 0; k < 8; k++) {
			do { s = (s * 1103515245 + 12345) % 2147483648; i = int(s / 65536) % 10 } while (i in seen)
			seen[i] = 1
			printf "u%d\tg%d_%d\t%d\n", u, g, i, t++
		}
	}
}' > inter.tsv
pea import -q --tsv inter.tsv -o inter.pea

t 'leave-last-out holds out each user'"'"'s latest item' '
	pea split --leave-last-out --order time -o train.pea,test.pea inter.pea
	test "$(pea count test.pea)" = 90
	test "$(pea count train.pea)" = 720
	pea cat --json test.pea | head -1 | grep -q "^{\"user\":\"u0\",\"item\":\"g0_.\",\"time\":8}$"'
t 'leave-one-out and per-user splits are deterministic' '
	pea split --leave-one-out --seed 3 -o a1.pea,b1.pea inter.pea
	pea split --leave-one-out --seed 3 -o a2.pea,b2.pea inter.pea
	cmp a1.pea a2.pea
	cmp b1.pea b2.pea
	test "$(pea count b1.pea)" = 90
	pea split --per-user 0.25 --order time -o pa.pea,pb.pea inter.pea
	test "$(pea count pb.pea)" = 90
	pea cat --json pb.pea | head -1 | grep -q "^{\"user\":\"u0\",\"items\":\[\"g0_.\",\"g0_.\"\]}$"
	test "$(pea count pa.pea)" = 630'
t 'users with too few items stay in train' '
	printf "user\titem\nx\ta\nx\tb\ny\ta\ny\tb\ny\tc\n" | pea import --tsv > small.pea
	pea split --leave-one-out -o st.pea,ss.pea small.pea
	test "$(pea count ss.pea)" = 1
	pea cat --json ss.pea | grep -q "\"user\":\"y\""
	pea split --leave-one-out --min-items 2 -o st.pea,ss.pea small.pea
	test "$(pea count ss.pea)" = 2'

pea train -q --algo pop -o pop.model train.pea
pea recommend -m pop.model -k 5 test.pea | pea eval --ranking --json --at 5 > pop.json
pophr=$(sed 's/.*"hr":\([0-9.]*\).*/\1/' pop.json)
for a in knn als bpr ease; do
	t "$a: train, recommend, eval: HR@5 well above popularity's" "
		pea train -q --algo $a -o $a.model train.pea
		pea recommend -m $a.model -k 5 test.pea | pea eval --ranking --json --at 5 > $a.json
		grep -q '\"records\":90' $a.json
		awk -F'\"hr\":' -v p=$pophr '{ split(\$2, a, \",\"); exit !(a[1] > p + 0.2) }' $a.json"
	t "$a: the same model at 1 and 2 threads" "
		pea train -q --algo $a -j 1 -o j1.model train.pea
		pea train -q --algo $a -j 2 -o j2.model train.pea
		cmp j1.model j2.model"
done
t 'another seed, another als model' '
	pea train -q --algo als --seed 2 -o s2.model train.pea
	nope cmp -s s2.model als.model'
t 'recommend keeps every field, adds k recs and scores, leaves out seen items' '
	pea recommend -m knn.model -k 4 --json test.pea > r.json
	test "$(wc -l < r.json)" = 90
	head -1 r.json | grep -q "^{\"user\":\"u0\",\"item\":\"g0_.\",\"time\":8,\"recs\":\[\"[^\"]*\",\"[^\"]*\",\"[^\"]*\",\"[^\"]*\"\],\"scores\":\["
	pea cat --json train.pea | grep "\"user\":\"u0\"" | sed "s/.*\"item\":\"\([^\"]*\)\".*/\1/" | sort > seen0
	head -1 r.json | sed "s/.*\"recs\":\[\([^]]*\)\].*/\1/" | tr -d "\"" | tr , "\n" | sort > recs0
	test -z "$(comm -12 seen0 recs0)"
	pea recommend -m knn.model -k 20 --include-seen --json test.pea | head -1 > in.json
	for i in $(cat seen0); do grep -q "\"$i\"" in.json; done'
t 'a history gets recommendations for a user the model never saw' '
	echo "{\"history\":[\"g2_1\",\"g2_2\",\"g2_3\",\"g2_4\"]}" > h.json
	# 64 factors over 30 items fold in loosely: als gets 8 here
	pea train -q --algo als --factors 8 -o als8.model train.pea
	for a in knn als8 bpr ease; do
		pea recommend -m $a.model -k 3 --json h.json > hr.json
		grep -q "\"recs\":\[\"g2_.\",\"g2_.\",\"g2_.\"\]" hr.json || { cat hr.json; false; }
	done'
t 'als fold-in of a user'"'"'s history gives the user'"'"'s own recommendations' '
	pea train -q --algo als --iterations 30 --cg-steps 8 --factors 8 -o conv.model train.pea
	items=$(pea cat --json train.pea | grep "\"user\":\"u4\"" | sed "s/.*\"item\":\(\"[^\"]*\"\).*/\1/" | paste -sd,)
	echo "{\"user\":\"u4\",\"history\":[$items]}" > u4h.json
	echo "{\"user\":\"u4\"}" > u4.json
	# the same five items; the model'"'"'s own row was solved half an
	# iteration before the item factors settled, so near ties may swap
	a=$(pea recommend -m conv.model -k 5 --json u4.json | sed "s/.*\"recs\":\[\([^]]*\)\].*/\1/" | tr , "\n" | sort)
	b=$(pea recommend -m conv.model -k 5 --json u4h.json | sed "s/.*\"recs\":\[\([^]]*\)\].*/\1/" | tr , "\n" | sort)
	test "$a" = "$b" || { echo "$a / $b"; false; }'
t '--explain names the history items behind each recommendation' '
	echo "{\"history\":[\"g0_1\",\"g0_2\",\"g1_7\"]}" | pea recommend -m knn.model -k 2 --explain --json > ex.json
	grep -q "\"because\":\[\[\"g0_.\"" ex.json
	echo "{\"user\":\"u1\"}" | pea recommend -m ease.model -k 2 --explain --json | grep -q "\"because\":\[\[\""'
t '--similar lists the items most like an item' '
	pea recommend -m knn.model --similar g1_3 -k 3 --json > sim.json
	grep -q "^{\"item\":\"g1_3\",\"recs\":\[\"g1_.\",\"g1_.\",\"g1_.\"\],\"scores\":\[" sim.json
	pea recommend -m als.model --similar g1_3 --similar g2_0 -k 2 --json | wc -l | grep -qx 2'
t 'knn, pop and ease models of user shards merge exactly' '
	pea split --shards 2 --by user -o part-%d.pea train.pea
	for a in knn pop ease; do
		pea train -q --algo $a -o p0.model part-0.pea
		pea train -q --algo $a -o p1.model part-1.pea
		pea train -q --algo $a --merge -o merged.model p0.model p1.model
		pea train -q --algo $a -o whole.model part-0.pea part-1.pea
		cmp merged.model whole.model
	done'
t 'knn --init adds new interactions: the same model as training on both' '
	pea train -q --algo knn -o first.model part-0.pea
	pea train -q --algo knn --init first.model -o more.model part-1.pea
	pea train -q --algo knn -o both.model part-0.pea part-1.pea
	cmp more.model both.model'
t 'als --init starts from the model'"'"'s factors' '
	pea train -q --algo als --iterations 2 -o warm0.model part-0.pea
	pea train -q --algo als --iterations 2 --init warm0.model -o warm.model part-1.pea
	pea train -q --algo als --iterations 2 -o cold.model part-0.pea part-1.pea
	nope cmp -s warm.model cold.model
	pea recommend -m warm.model -k 5 test.pea | pea eval --ranking --at 5 > /dev/null'
t 'repeated interactions add their weights, with a note' '
	printf "user\titem\nu\ta\nu\ta\nu\tb\nv\ta\n" | pea import --tsv | pea train --algo pop -o dup.model 2> dup.err
	grep -q "^pea-train: 1 record repeats a (user, item) pair: the weights were added$" dup.err
	pea train --show dup.model | grep -q "\"interactions\": 3,"'
t 'train --show describes a recommender' '
	pea train --show als.model > show.txt
	grep -q "\"kind\": \"recommender\"" show.txt
	grep -q "\"algo\": \"als\"" show.txt
	grep -q "items with the most users" show.txt'
t 'eval --ranking: HR, NDCG, recall, precision, MAP by hand' '
	printf "%s\n" "{\"recs\":[\"a\",\"b\",\"c\"],\"item\":\"b\"}" "{\"recs\":[\"c\",\"d\",\"a\"],\"items\":[\"a\",\"x\"]}" \
		"{\"recs\":[\"e\",\"f\",\"g\"],\"item\":\"z\"}" > rk.json
	pea eval --ranking --json --at 1,3 rk.json > rk.out
	grep -q "{\"k\":1,\"hr\":0.0,\"ndcg\":0.0,\"recall\":0.0,\"precision\":0.0,\"map\":0.0," rk.out
	awk "BEGIN { n = (1/log(3)*log(2) + (1/log(4)*log(2)) / (1 + 1/log(3)*log(2))) / 3; printf \"%.12f\\n\", n }" > want
	sed "s/.*\"k\":3,\"hr\":\([0-9.]*\),\"ndcg\":\([0-9.]*\),\"recall\":\([0-9.]*\),\"precision\":\([0-9.]*\),\"map\":\([0-9.]*\).*/\1 \2 \3 \4 \5/" rk.out > got
	read hr nd rc pr mp < got
	awk -v h=$hr -v n=$nd -v r=$rc -v p=$pr -v m=$mp -v w=$(cat want) "BEGIN {
		ok = ((h - 2/3)^2 < 1e-18) + ((n - w)^2 < 1e-18) + ((r - 0.5)^2 < 1e-18) + ((p - 2/9)^2 < 1e-18) + ((m - (0.5 + 1/6)/3)^2 < 1e-18)
		exit ok != 5 }"
	pea eval --ranking --plot rk.svg rk.json > /dev/null
	grep -q "<svg" rk.svg'

# bad input: a clear one-line message, exit 1
echo '{"user":"nobody"}' > nobody.json
t_err 'an unknown user without a history' 1 \
	"pea-recommend: nobody.json: line 1: user 'nobody' is not in the model and the record has no history" \
	pea recommend -m knn.model nobody.json
echo '{"user":"u1","history":[]}' > empty.json
t_err 'an empty history' 1 \
	'pea-recommend: empty.json: line 1: the history is empty (leave the field out to use the model'"'"'s)' \
	pea recommend -m knn.model empty.json
echo '{"history":["nothing","known"]}' > unknown.json
t_err 'a history of items the model does not know' 1 \
	'pea-recommend: unknown.json: line 1: none of the 2 history items is in the model' \
	pea recommend -m knn.model unknown.json
printf '{"user":"a","item":"b","weight":"lots"}\n' > badw.json
t_err 'a weight that is not a number' 1 \
	"pea-train: badw.json: line 1: field 'weight' must be float, not string" \
	pea train --algo als -o x.model badw.json
printf '{"user":"a","item":"b","weight":-2}\n' > negw.json
t_err 'a weight that is not positive' 1 \
	"pea-train: negw.json: line 1: field 'weight' is -2: a weight must be a positive number" \
	pea train --algo knn -o x.model negw.json
printf '{"user":"a"}\n' > noitem.json
t_err 'an interaction without an item' 1 "pea-train: noitem.json: line 1: no 'item' field" \
	pea train --algo pop -o x.model noitem.json
t_err 'a file that is not a model' 1 \
	'pea-recommend: pop.json: not a pea model file' pea recommend -m pop.json test.pea
printf '%s\n' '{"label":"a","features":{"1":1}}' '{"label":"b","features":{"2":1}}' | pea train -q -o clf.model
t_err 'a classifier model is not a recommender' 1 \
	'pea-recommend: clf.model: a classifier model, not a recommender' pea recommend -m clf.model test.pea
t_err 'a recommender model is not a classifier' 1 \
	'pea-classify: knn.model: a recommender model, not a classifier' pea classify -m knn.model test.pea
t_err 'a classifier model does not continue a recommender' 1 \
	'pea-train: clf.model: a classifier model, not a recommender' pea train --algo knn --init clf.model -o x.model train.pea
echo '{"uid":1.5}' > uid.json
t_err 'a record whose user is not a string' 1 \
	"pea-recommend: uid.json: line 1: field 'uid' is float, not a string" \
	pea recommend -m knn.model --user uid uid.json
t_err 'recommender options mean nothing to a classifier' 2 \
	'pea-train: --factors means nothing to --algo logreg' pea train --factors 8 -o x.model train.pea
t_err 'an option of another recommender is refused' 1 \
	'pea-train: --neighbours means nothing to --algo als' pea train --algo als --neighbours 5 -o x.model train.pea
t_err 'als models do not merge' 1 \
	'pea-train: cannot merge: als models do not merge (factors of separate runs do not line up): train on the union, or continue one model with --init' \
	pea train --merge -o x.model als.model als.model
t_err 'ease refuses what does not fit and says what would' 1 \
	'pea-train: ease needs two 30 x 30 matrices (7.2e-06 GB) and may take 4.1e-06 GB of memory: it can take 22 items (--max-items 22 keeps the most popular)' \
	pea train --algo ease --memory 4k -o x.model train.pea
t 'and takes the items that fit' '
	pea train -q --algo ease --memory 4k --max-items 22 -o e22.model train.pea
	pea train --show e22.model | grep -q "\"kept\": 22"'
t_err 'leave-last-out needs a time field' 2 \
	'pea-split: --leave-last-out needs --order FIELD (the time); --leave-one-out needs none' \
	pea split --leave-last-out -o a.pea,b.pea inter.pea
t_err 'eval --ranking needs recommendations' 1 \
	"pea-eval: inter.pea: frame 1 at byte 0: record 1: no 'recs' field (pea recommend adds it)" \
	pea eval --ranking inter.pea
cp knn.model damaged.model
printf 'x' | dd of=damaged.model bs=1 seek=300 conv=notrunc 2> /dev/null
t_err 'a damaged model' 1 'pea-recommend: damaged.model: model digest mismatch: the file is damaged' \
	pea recommend -m damaged.model test.pea
# a piped stream of several uncompressed frames: the split keeps every frame
# until it writes (a frame parsed in place would be gone with its unit)
awk 'BEGIN { for (i = 0; i < 60000; i++) printf "user-with-a-long-name-%d\titem-%d\n", i % 5000, (i * 7919) % 3001 }' > many.tsv
t 'per-user splits of a piped stream of many frames equal those of a file' '
	pea import --tsv --columns user,item many.tsv -o many.pea
	test "$(wc -c < many.tsv)" -gt 2000000 # more than one 1 MiB frame in a pipe
	pea import --tsv --columns user,item many.tsv | pea split --leave-one-out -o pa.pea,pb.pea
	pea split --leave-one-out -o fa.pea,fb.pea many.pea
	pea cat --json pa.pea | cmp - <(pea cat --json fa.pea)
	pea cat --json pb.pea | cmp - <(pea cat --json fb.pea)
	test "$(pea count pa.pea pb.pea | tail -1)" = "60000 total"'
done_testing
