# pea tokenize and pea vectorize on real text, and their errors.
. "$PEA_SRC/tests/cli/lib.sh"

# t_usage DESCRIPTION MESSAGE COMMAND...: exit 2, the message (a glob) on
# the first line of stderr, the pointer to --help on the second
t_usage() {
	local desc=$1 msg=$2
	shift 2
	"$@" > "$TMP/.out" 2> "$TMP/.err"
	local got=$? first
	first=$(head -1 "$TMP/.err")
	# shellcheck disable=SC2053
	if [ "$got" = 2 ] && [[ "$first" == $msg ]] && [ "$(wc -l < "$TMP/.err")" -le 2 ]; then
		_report pass "$desc"
	else
		_report fail "$desc"
		echo "#   status $got (want 2)"
		echo "#   stderr: $first"
		echo "#   want:   $msg"
	fi
}

printf 'Hello, World! The quick brown fox.\nVisit https://example.com/a?b=1. Mail me@example.org\n' > two.txt
printf 'caf\xc3\xa9 bad \xff byte\n' > bad.txt

t 'plain text lines become records with tokens' '
	pea tokenize --json two.txt > out.jsonl
	head -1 out.jsonl | grep -qx "{\"text\":\"Hello, World! The quick brown fox.\",\"tokens\":\[\"hello\",\"world\",\"the\",\"quick\",\"brown\",\"fox\"\]}"
	grep -q "\"https://example.com/a?b=1\",\"mail\",\"me@example.org\"" out.jsonl'
t 'JSON Lines and pea records in, other fields pass through' '
	printf "{\"id\":7,\"title\":\"Big News\",\"text\":\"Cats\"}\n" > a.jsonl
	pea tokenize -f title -f text --json a.jsonl | grep -qx "{\"id\":7,\"title\":\"Big News\",\"text\":\"Cats\",\"tokens\":\[\"big\",\"news\",\"cats\"\]}"
	pea cat a.jsonl > a.pea
	pea tokenize --to words --json a.pea | grep -q "\"words\":\[\"cats\"\]"'
t 'invalid UTF-8 becomes U+FFFD, counted once, record kept' '
	pea tokenize --split --json bad.txt > out 2> err
	grep -qF "\"tokens\":[\"café\",\"bad\",\"$(printf "\357\277\275")\",\"byte\"]" out
	test "$(cat err)" = "pea-tokenize: warning: 1 invalid UTF-8 sequence replaced by U+FFFD"'
t 'invalid UTF-8 in JSON Lines is repaired too' '
	printf "{\"text\":\"ok \xff go\"}\n" > bad.jsonl
	pea tokenize --json bad.jsonl 2> err | grep -q "\"tokens\":\[\"ok\",\"go\"\]"
	grep -q "1 invalid UTF-8 sequence" err'
t 'options: stop words, stems, n-grams, folding' '
	echo "The runners ran 42 miles to www.pea.dev" | pea tokenize --stopwords english --stem english \
		--fold-numbers --fold-urls --ngrams 1-2 --json |
		grep -q "\"tokens\":\[\"runner\",\"ran\",\"<num>\",\"mile\",\"<url>\",\"runner ran\",\"ran <num>\",\"<num> mile\",\"mile <url>\"\]"'
t 'a stop word file is normalized like the text' '
	printf "# mine\nQUICK\n\nFox\n" > stop.txt
	pea tokenize --stopwords stop.txt --json two.txt | head -1 | grep -q "\[\"hello\",\"world\",\"the\",\"brown\"\]"'
t 'character n-grams alone' '
	echo where | pea tokenize --ngrams 0 --char-ngrams 3 --json | grep -q "\[\"<wh\",\"whe\",\"her\",\"ere\",\"re>\"\]"'
t '--stem list names the languages' 'pea tokenize --stem list | grep -qx english'

t '-o to a pipe or device writes into it and leaves it one' '
	mkfifo fifo
	cat fifo > got.pea &
	c=$!
	pea tokenize -q two.txt -o fifo
	test -p fifo || { kill $c; false; }
	wait $c
	test "$(pea count got.pea)" = 2'

# a larger input: several frames, the same on 1 and 2 threads
awk "BEGIN { for (i = 0; i < 30000; i++) printf \"line %d of some text with words %d and more words\\n\", i, i % 97 }" > big.txt
t 'output order is input order on any number of threads' '
	pea tokenize -j1 --binary big.txt > j1.pea
	pea tokenize -j2 --binary big.txt > j2.pea
	pea cat --json j1.pea | md5sum > j1.sum
	pea cat --json j2.pea | md5sum > j2.sum
	cmp j1.sum j2.sum
	test "$(pea count j2.pea)" = 30000
	pea cat --json j2.pea | sed -n 12345p | grep -q "\"line\",\"12344\","'

t_err 'a record without the field' 1 \
	'pea-tokenize: a.pea: frame 1 at byte 0: record 1: no field '"'"'body'"'"' (choose the text with -f NAME)' \
	pea tokenize -f body a.pea
t_err 'a field that is not text' 1 \
	'pea-tokenize: a.pea: frame 1 at byte 0: record 1: field '"'"'id'"'"' is int, not text' \
	pea tokenize -f id a.pea
head -c 40 a.pea > trunc.pea
t_err 'a truncated stream' 1 'pea-tokenize: trunc.pea: frame 1 at byte 0: unexpected end of file*' \
	pea tokenize trunc.pea
t_usage 'a bad pattern is a usage error' "pea-tokenize: pattern error at offset 1: *" \
	pea tokenize --pattern '(' two.txt
t_usage 'an unknown stemmer is a usage error' "pea-tokenize: no Snowball stemmer for 'xx' (there are: *" \
	pea tokenize --stem xx two.txt
t_usage 'a missing stop word file' "pea-tokenize: nope.txt: cannot read stop words: No such file or directory*" \
	pea tokenize --stopwords nope.txt two.txt
t_usage 'a bad range' "pea-tokenize: --ngrams: '3-1' is not a range like 1-3 (at most 32)*" \
	pea tokenize --ngrams 3-1 two.txt

# ---- vectorize
pea tokenize --binary two.txt > tok.pea
t 'hashing: features and the feature space' '
	pea vectorize --json tok.pea > v.jsonl
	test "$(grep -c "\"fspace\":\"hash:xxh3:bits=20:signed:f=tokens:w=count:n=none\"" v.jsonl)" = 2
	head -1 v.jsonl | grep -q "\"features\":{"'
t 'golden hashing: the same features on every machine' '
	echo "hello world hello" | pea tokenize | pea vectorize --json |
		grep -q "\"features\":{\"469925\":-1.0,\"474314\":2.0}"'
t 'tfidf: --fit writes a model and vectorizes, -m gives the same' '
	pea vectorize --weight tfidf --fit m.model --json tok.pea > fit.jsonl
	pea vectorize -m m.model --json tok.pea > apply.jsonl
	cmp fit.jsonl apply.jsonl
	grep -q "\"fspace\":\"vec:[0-9a-f]\{16\}\"" apply.jsonl
	pea vectorize --show m.model | head -1 | grep -q "\"kind\":\"vectorizer\",\"format\":1,\"mode\":\"hash\""'
t 'vocabulary: fit, show, names' '
	pea vectorize --vocab --weight tfidf --fit-only --fit voc.model --names voc.names tok.pea
	pea vectorize --show voc.model > show.txt
	grep -q "^feature	term	df	idf$" show.txt
	grep -q "	quick	1	1.40547$" show.txt
	pea vectorize --show voc.names | grep -q "	quick$"'
t 'fitting is deterministic: the same model on 1 and 2 threads' '
	pea tokenize --binary big.txt > bigtok.pea
	pea vectorize -j1 --vocab --weight tfidf --fit-only --fit v1.model bigtok.pea
	pea vectorize -j2 --vocab --weight tfidf --fit-only --fit v2.model bigtok.pea
	cmp v1.model v2.model
	pea vectorize -j1 --weight bm25 --fit-only --fit h1.model bigtok.pea
	pea vectorize -j2 --weight bm25 --fit-only --fit h2.model bigtok.pea
	cmp h1.model h2.model
	pea vectorize -j1 -m v1.model --binary bigtok.pea | pea cat --json | md5sum > a.sum
	pea vectorize -j2 -m v2.model --binary bigtok.pea | pea cat --json | md5sum > b.sum
	cmp a.sum b.sum'
t 'hashing names: which tokens hit which feature' '
	pea vectorize --names h.names tok.pea > /dev/null
	pea vectorize --show h.names > hn.txt
	grep -q "^474314	hello$" hn.txt
	grep -q "^469925	-world$" hn.txt'
t 'fitting from a pipe, in a pipeline' '
	pea tokenize --binary two.txt | pea vectorize --weight bm25 --fit b.model | pea count | grep -qx 2'
t 'fields in namespaces of their own' '
	printf "{\"title\":\"Cats\",\"text\":\"cats\"}\n" | pea tokenize -f title --to title_tokens |
		pea tokenize -f text | pea vectorize -f title_tokens -f tokens --unsigned --json > ns.jsonl
	grep -q "\"features\":{\"[0-9]*\":1.0,\"[0-9]*\":1.0}" ns.jsonl
	grep -q "\"fspace\":\"hash:xxh3:bits=20:unsigned:f=title_tokens,tokens:w=count:n=none\"" ns.jsonl'
t 'numeric fields as features' '
	printf "{\"tokens\":[\"a\"],\"price\":2.5,\"dense\":[1,0,3]}\n" | pea vectorize --numeric price,dense --json |
		grep -q "\"features\":{\"[0-9]*\":[-0-9.]*,\"[0-9]*\":[0-9.]*,\"[0-9]*\":[0-9.]*,\"[0-9]*\":[0-9.]*},\"fspace\":\"hash:xxh3:bits=20:signed:f=tokens:num=price,dense:w=count:n=none\""'

t 'tabular data: CSV columns as features, hashed or in a vocabulary' '
	printf "name,a,b\nx,1,2.5\ny,0,-1\n" > x.csv
	pea vectorize --numeric a,b --json x.csv | grep -c "\"features\":{\"[0-9]*\":[-0-9.]*" | grep -qx 2
	pea vectorize --vocab --numeric a,b --fit xv.model --json x.csv > xv.jsonl
	head -1 xv.jsonl | grep -q "\"features\":{\"0\":1.0,\"1\":2.5}"
	tail -1 xv.jsonl | grep -q "\"features\":{\"1\":-1.0}"'
t_err 'tokens are needed' 1 \
	"pea-vectorize: two.txt: line 1: no field 'tokens' (run pea tokenize first, or name the tokens with -f)" \
	pea vectorize two.txt
t_err 'tokens must be a list' 1 \
	"pea-vectorize: two.txt: line 1: field 'text' is string, not a token list (run pea tokenize first)" \
	pea vectorize -f text two.txt
t_usage 'tfidf needs document frequencies' \
	'pea-vectorize: --weight tfidf needs document frequencies: learn them with --fit FILE (or apply a model with -m)*' \
	pea vectorize --weight tfidf tok.pea
t_usage 'a model fixes the settings' 'pea-vectorize: with -m the settings come from the model*' \
	pea vectorize -m m.model --bits 8 tok.pea
cp m.model bad.model
printf 'X' | dd of=bad.model bs=1 seek=200 conv=notrunc 2> /dev/null
t_err 'a corrupt model' 1 'pea-vectorize: bad.model: *' pea vectorize -m bad.model tok.pea
t_err 'a names file is not a model' 1 "pea-vectorize: voc.names: not a vectorizer file (kind feature-names)" \
	pea vectorize -m voc.names tok.pea
printf "{\"tokens\":[\"a\"],\"dense\":[1,2]}\n{\"tokens\":[\"a\"],\"dense\":[1]}\n" > dense.jsonl
t_err 'dense vectors of another length' 1 \
	"pea-vectorize: dense.jsonl: line 2: field 'dense' has 1 values, other records 2" \
	pea vectorize --vocab --numeric dense --fit-only --fit d.model dense.jsonl
t_err 'a truncated stream' 1 'pea-vectorize: trunc.pea: frame 1 at byte 0: unexpected end of file*' \
	pea vectorize trunc.pea

t 'man pages render without warnings' '
	for p in tokenize vectorize; do
		test -z "$(man --warnings -l "$PEA_SRC/man/pea-$p.1" 2>&1 > /dev/null)"
	done'
done_testing
