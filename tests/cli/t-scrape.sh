# pea scrape on local inputs: HTML, text, mail, mbox, WARC, and bad input.
. "$PEA_SRC/tests/cli/lib.sh"
S="$DATA/scrape"

# jget FILE LINE KEY: a field of the LINE-th JSON record ("" when absent)
jget() {
	python3 -c 'import json,sys
rec = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]) - 1]
v = rec.get(sys.argv[3], "")
print(json.dumps(v) if isinstance(v, list) else v)' "$@"
}

cat > page.html <<'HTML'
<!DOCTYPE html>
<html lang="de"><head><title> A   page </title>
<meta name="description" content="what it is about">
<script>document.write("script text")</script><style>.x{color:red}</style></head>
<body><div id="topnav"><a href="/">Home</a> <a href="/a">A</a> <a href="/b">B</a></div>
<div class="content"><h1>Heading</h1><p>Some <b>bold</b> words &amp; an &eacute;.</p>
<pre>
line one
    indented   line two
</pre>
<table><tr><td>c1</td><td>c2</td></tr></table>
<p style="display: none">hidden words</p></div>
<footer>Footer words</footer></body></html>
HTML

t 'html: title, lang, description' '
	pea scrape -q --json page.html > o.json
	test "$(jget o.json 1 title)" = "A page"
	test "$(jget o.json 1 lang)" = de
	test "$(jget o.json 1 description)" = "what it is about"
	test "$(jget o.json 1 content_type)" = text/html'
t 'html: main content drops navigation, footer, scripts and hidden text' '
	jget o.json 1 text > text
	grep -q "Some bold words & an é." text
	nope grep -q "Home" text
	nope grep -q "Footer" text
	nope grep -q "script text" text
	nope grep -q "hidden words" text'
t 'html: pre kept verbatim, cells tab-separated' '
	grep -qx "    indented   line two" text
	grep -qx "line one" text
	printf "c1\tc2\n" > want
	grep -x "c1.c2" text > got
	cmp want got'
t 'html: a blog without landmarks: cookie banner, menus, sidebar and copyright go' '
	pea scrape -q --json "$S/blog.html" > blog.json
	jget blog.json 1 text > btext
	grep -q "^The first paragraph of the post" btext
	grep -q "^A second paragraph" btext
	grep -qx "\$ make install" btext
	grep -q "^Posted on 1 May by Ann$" btext
	nope grep -q -i "cookie" btext
	nope grep -q "Archive" btext
	nope grep -q "Another post" btext
	nope grep -q "unix" btext
	nope grep -q "rights reserved" btext
	test "$(jget blog.json 1 title)" = "My post | Blog"'
t 'html: comment sections go, code comments stay' '
	pea scrape -q --json "$S/code.html" > code.json
	jget code.json 1 text > ctext
	grep -qx "int x; /\* a comment \*/" ctext
	grep -qx "// another" ctext
	nope grep -q "Great post" ctext
	nope grep -q "2 Comments" ctext'
t 'html: --full-text keeps navigation and footer, not scripts' '
	pea scrape -q --json --full-text page.html > f.json
	jget f.json 1 text > ftext
	grep -q "Home A B" ftext
	grep -q "Footer words" ftext
	nope grep -q "script text" ftext'

t 'mail tree: --label-from dir labels by folder, odd extensions sniffed' '
	pea scrape -q --json --label-from dir "$S/mail" > m.json
	test "$(wc -l < m.json)" = 2
	test "$(jget m.json 1 label)" = easy-ham-1
	test "$(jget m.json 2 label)" = spam-1
	test "$(jget m.json 1 content_type)" = message/rfc822
	test "$(jget m.json 1 title)" = "Meeting notes"
	test "$(jget m.json 1 from)" = "Ann Example <ann@example.com>"
	test -z "$(jget m.json 1 message)"'
t '--name selects files in directories' '
	mkdir -p sel/a
	cp "$S/nested.eml" sel/a/x.txt
	cp "$S/nested.eml" sel/a/x.json
	pea scrape -q --json --name "*.txt" sel > sel.json
	test "$(wc -l < sel.json)" = 1
	test "$(jget sel.json 1 path)" = sel/a/x.txt
	test "$(pea scrape -q --json --name "*.txt" sel/a/x.json | wc -l)" = 1'
t 'mail: RFC 2047 subject and from, undeclared 8-bit text as windows-1252' '
	test "$(jget m.json 2 title)" = "Win a €1000 now!"
	test "$(jget m.json 2 from)" = "Café Deals <deals@example.net>"
	test "$(jget m.json 2 text)" = "Cheap offer: crème brûlée for you."'
t 'mail: nested multipart prefers plain, decodes quoted-printable latin-1, counts attachments' '
	pea scrape -q --json "$S/nested.eml" > n.json
	test "$(jget n.json 1 attachments)" = 1
	jget n.json 1 text > ntext
	grep -q "^Café crème: the plain part is preferred.$" ntext
	grep -q "^long line long line" ntext
	grep -q "An inline HTML footer." ntext
	nope grep -q "Nested" ntext
	nope grep -q "PDF" ntext'
t '--label-from dir on a file of the working directory: its name' '
	pea scrape -q --json --label-from dir page.html > lw.json
	test "$(jget lw.json 1 label)" = "$(basename "$PWD")"'
t 'mbox: one record per message, numbered' '
	pea scrape -q --json --label spam "$S/three.mbox" > x.json
	test "$(wc -l < x.json)" = 3
	test "$(jget x.json 3 message)" = 3
	test "$(jget x.json 3 title)" = "message 2"
	test "$(jget x.json 2 label)" = spam
	jget x.json 1 text | grep -qx "From quoted line"'
t 'warc and warc.gz: response and resource records, chunked gzip bodies, charsets' '
	pea scrape -q --json "$S/site.warc" > w.json
	pea scrape -q --json "$S/site.warc.gz" > wz.json
	test "$(wc -l < w.json)" = 4
	sed "s/site.warc.gz/site.warc/" wz.json | cmp - w.json
	test "$(jget w.json 1 url)" = http://example.org/a
	test "$(jget w.json 1 text)" = "Archived text from the crawl."
	test "$(jget w.json 2 title)" = "Café"
	test "$(jget w.json 3 status)" = 404
	test "$(jget w.json 3 error)" = "http status 404"
	test "$(jget w.json 4 text)" = "plain resource text"'
t 'plain text files and binary files' '
	printf "just text\nsecond\n" > a.txt
	printf "\x00\x01\x02\x03 not text\0\0" > b.bin
	pea scrape --json a.txt b.bin > t.json 2> t.err
	test "$(wc -l < t.json)" = 1
	test "$(jget t.json 1 text)" = "$(printf "just text\nsecond")"
	grep -q "1 binary files skipped" t.err'
t 'binary output reads back with pea cat' '
	pea scrape -q "$S/mail" > m.pea
	pea cat --json m.pea | cmp - <(pea scrape -q --json "$S/mail")'
t 'a file over --max-size is a record with an error' '
	pea scrape -q --json --max-size 100 page.html > big.json
	test "$(jget big.json 1 error)" = "file larger than --max-size"'
t 'invalid UTF-8 under a UTF-8 declaration becomes U+FFFD and is counted' '
	printf "<html><head><meta charset=\"utf-8\"></head><p>bad \xff byte</p></html>" > bad.html
	pea scrape --json bad.html > b.json 2> b.err
	test "$(jget b.json 1 text)" = "bad � byte"
	grep -q "1 undecodable bytes replaced" b.err'

# bad input: truncated, corrupt, oversize
head -c 900 "$S/site.warc" > trunc.warc
t_err 'truncated WARC: one-line error naming file and record' 1 \
	'pea-scrape: trunc.warc: record 4 at byte 871: truncated *' pea scrape -q trunc.warc
head -c 1100 "$S/site.warc" > trunc2.warc
t_err 'truncated WARC block' 1 'pea-scrape: trunc2.warc: record 4 at byte 871: truncated block (50 of 135 bytes)' \
	pea scrape -q trunc2.warc
head -c 700 "$S/site.warc.gz" > trunc.warc.gz
t_err 'truncated WARC gzip member' 1 'pea-scrape: trunc.warc.gz: record *: truncated gzip member' \
	pea scrape -q trunc.warc.gz
python3 -c 'import sys
rec = lambda b: b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(b) + b + b"\r\n\r\n"
recs = [rec(b"x" * 700000) for _ in range(3)]
data = b"".join(recs)
open("big.warc", "wb").write(data[:len(data) - 100])
print(len(recs[0]) * 2)' > big.offset
t_err 'the byte offset of a record deep in a large WARC' 1 \
	"pea-scrape: big.warc: record 3 at byte $(cat big.offset): truncated block (*" pea scrape -q big.warc
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[400:420] = b"\xff" * 20; open("corrupt.warc.gz", "wb").write(d)' "$S/site.warc.gz"
t_err 'corrupt gzip data' 1 'pea-scrape: corrupt.warc.gz: record *: corrupt gzip data' pea scrape -q corrupt.warc.gz
printf 'WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 12x\r\n\r\n' > badlen.warc
t_err 'bad Content-Length' 1 'pea-scrape: badlen.warc: record 1 at byte 0: bad Content-Length' pea scrape -q badlen.warc
{ printf 'WARC/1.0\r\n'; head -c 70000 /dev/zero | tr '\0' a; } > longhdr.warc
t_err 'oversize WARC header block' 1 'pea-scrape: longhdr.warc: record 1 at byte 0: header block longer than 65536 bytes' \
	pea scrape -q longhdr.warc
t 'a WARC record over --max-size is skipped with an error record, the rest read' '
	pea scrape -q --json --max-size 200 "$S/site.warc" > ws.json
	test "$(wc -l < ws.json)" = 4
	test "$(jget ws.json 1 error)" = "record larger than --max-size"
	test "$(jget ws.json 4 text)" = "plain resource text"'
t_err 'a missing file' 1 'pea-scrape: nothere: No such file or directory' pea scrape -q nothere
# usage errors: the message, then a pointer to --help
t_usage() { # DESCRIPTION MESSAGE COMMAND...
	local desc=$1 msg=$2
	shift 2
	"$@" > /dev/null 2> "$TMP/.uerr"
	local got=$?
	if [ "$got" = 2 ] && [ "$(head -1 "$TMP/.uerr")" = "$msg" ]; then
		_report pass "$desc"
	else
		_report fail "$desc"
		echo "#   status $got: $(head -1 "$TMP/.uerr")"
	fi
}
t_usage 'usage: unknown scope' 'pea-scrape: --scope takes host, domain or prefix' pea scrape --scope planet x
t_usage 'usage: a bad pattern' "pea-scrape: --include '(': missing closing parenthesis at offset 1" \
	pea scrape --crawl --include '(' http://127.0.0.1:9/
t_usage 'usage: crawl options without --crawl' \
	'pea-scrape: --depth, --max-pages, --include and --exclude go with --crawl' pea scrape --depth 2 http://127.0.0.1:9/
t 'a URL that is not http(s) is a failure record' '
	pea scrape -q --json "ftp://127.0.0.1/x" > ftp.json
	test "$(jget ftp.json 1 error)" = "not an http or https URL"
	test "$(jget ftp.json 1 status)" = 0'
done_testing
