# Importers and exporters of every text format, with round trips.
. "$PEA_SRC/tests/cli/lib.sh"

t 'CSV with a header: quoting, types, a BOM' '
	printf "\357\273\277user,item,weight,note\r\nu1,i9,2,\"hello, \"\"world\"\"\"\r\nu2,007,1.5,\"two\nlines\"\r\n" > x.csv
	pea import x.csv | pea cat --json > x.jsonl
	grep -qxF "{\"user\":\"u1\",\"item\":\"i9\",\"weight\":2.0,\"note\":\"hello, \\\"world\\\"\"}" x.jsonl
	grep -qxF "{\"user\":\"u2\",\"item\":\"007\",\"weight\":1.5,\"note\":\"two\\nlines\"}" x.jsonl
'
t 'TSV with a header, --type and --strings' '
	printf "id\tn\tz\n1\t42\t0.5\n" > x.tsv
	pea import --tsv x.tsv | pea cat --json | grep -qxF "{\"id\":1,\"n\":42,\"z\":0.5}"
	pea import --strings x.tsv | pea cat --json | grep -qxF "{\"id\":\"1\",\"n\":\"42\",\"z\":\"0.5\"}"
	pea import --type n=float x.tsv | pea cat --json | grep -qxF "{\"id\":1,\"n\":42.0,\"z\":0.5}"
'
t 'plain text: one record per line, empty lines kept' '
	printf "first line\n\nthird\n" | pea import --text | pea cat --json > t.jsonl
	test "$(sed -n 2p t.jsonl)" = "{\"text\":\"\"}"
	test "$(wc -l < t.jsonl)" = 3
'
t 'fastText in and out' '
	printf "__label__spam buy now\n__label__ham __label__work see you\n" > ft.txt
	pea import --fasttext ft.txt | pea export --fasttext > back.txt
	cmp ft.txt back.txt
'
t '-f names the text field of plain text and fastText, in and out' '
	printf "__label__spam buy now\n" > ft.txt
	pea import --fasttext -f body ft.txt | pea cat --json > b.jsonl
	grep -q "\"body\":\"buy now\"" b.jsonl
	nope grep -q "\"text\"" b.jsonl
	pea import --fasttext --field body ft.txt | pea export --fasttext -f body > back.txt
	cmp ft.txt back.txt
	printf "one\n" | pea import --text -f line | pea cat --json | grep -qx "{\"line\":\"one\"}"
'
t 'svmlight in and out' '
	printf "1 1:0.5 7:2\n0 3:1\n" > s.svm
	pea import --svmlight s.svm | pea export --svmlight > back.svm
	cmp s.svm back.svm
	pea import --svmlight s.svm | pea cat --json | head -1 | grep -qF "\"features\":{\"0\":0.5,\"6\":2.0}"
'
t 'svmlight export names string labels with --labels' '
	printf "{\"label\":\"spam\",\"features\":{\"0\":1}}\n{\"label\":\"ham\",\"features\":{\"2\":0.5}}\n" | pea import > l.pea
	pea export --svmlight --labels ham,spam l.pea > l.svm
	printf "1 1:1\n0 3:0.5\n" | cmp - l.svm
'
t 'TSV export with a header, lists as JSON' '
	pea import "$DATA/mixed.jsonl" | pea export --tsv --fields id,label,tags --header > m.tsv
	test "$(head -1 m.tsv)" = "$(printf "id\tlabel\ttags")"
	grep -qxF "$(printf "1\tham\t[\"work\",\"calendar\"]")" m.tsv
	test "$(wc -l < m.tsv)" = 6
'
t 'JSON Lines files are sniffed by pea filters directly' '
	pea grep -f label spam "$DATA/mixed.jsonl" | pea count | grep -qx 2
'
t 'invalid UTF-8 text can be repaired and counted' '
	printf "ok\nbad \377 byte\n" > bad.txt
	pea import --text --repair-utf8 bad.txt 2> err | pea cat --json | grep -qF "bad $(printf "\357\277\275") byte"
	grep -qx "pea-import: 1 invalid UTF-8 sequences replaced by U+FFFD" err
'
t 'headerless TSV: --columns names the columns, the first line is data' '
	printf "0ad\t0ad-data\n0ad\tdpkg\n" | pea import --tsv --columns user,item | pea cat --json > c.json
	test "$(sed -n 1p c.json)" = "{\"user\":\"0ad\",\"item\":\"0ad-data\"}"
	test "$(wc -l < c.json)" = 2
'
t_err '--columns: a line with more fields is an error naming it' 1 \
	'pea-import: (standard input): line 2: 3 fields, the header has 2' \
	sh -c 'printf "a\tb\nc\td\te\n" | pea import --tsv --columns user,item'
t_err '--columns without CSV or TSV is a usage error' 2 'pea-import: --columns goes with --csv or --tsv' \
	pea import --columns a,b "$DATA/mixed.jsonl"
done_testing
