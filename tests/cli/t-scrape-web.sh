# pea scrape against a local HTTP server (tests/scrape/server.py on
# 127.0.0.1, an ephemeral port): politeness, redirects, errors, limits,
# charsets, crawling, WARC round trips.  Nothing leaves 127.0.0.1.
. "$PEA_SRC/tests/cli/lib.sh"

jget() {
	python3 -c 'import json,sys
rec = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]) - 1]
v = rec.get(sys.argv[3], "")
print(json.dumps(v) if isinstance(v, list) else v)' "$@"
}
# jurl FILE URL KEY: a field of the record of URL (fetches finish in any order)
jurl() {
	python3 -c 'import json,sys
rec = [r for r in map(json.loads, open(sys.argv[1])) if r.get("url") == sys.argv[2]][0]
print(rec.get(sys.argv[3], ""))' "$@"
}

python3 "$PEA_SRC/tests/scrape/server.py" --port-file port --log log --lifetime 240 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
P=$(cat port)
U="http://127.0.0.1:$P"
stat_of() { python3 -c "import json,urllib.request as u; print(json.load(u.urlopen('$U/_stats'))['$1'])"; }
# wait until the connections of earlier runs are closed, then start the
# peaks anew
reset_stats() {
	python3 -c "import json, time, urllib.request as u
for _ in range(100):
    if json.load(u.urlopen('$U/_stats'))['conns'] == 0: break
    time.sleep(0.05)
u.urlopen('$U/_reset').read()"
}
hits() { grep -c "^$1 " log || true; }

t 'fetches a page: status, title, main content, User-Agent' '
	pea scrape -q --json "$U/site/" > a.json
	test "$(jget a.json 1 status)" = 200
	test "$(jget a.json 1 title)" = "Page 0"
	jget a.json 1 text | grep -q "^words of page number 0$"
	if jget a.json 1 text | grep -q "footer text"; then false; fi
	grep -q "^/site/ pea-scrape/" log'
t 'robots.txt: disallowed paths are not fetched, fetched once per host' '
	pea scrape -q --json "$U/private/a" "$U/site/p1.html" "$U/site/p2.html" > r.json
	test "$(jget r.json 1 error)" = "disallowed by robots.txt"
	test "$(jget r.json 1 status)" = 0
	test "$(hits /private/a)" = 0
	test "$(hits /robots.txt)" = 2'
t 'robots.txt: the group of our product token applies' '
	pea scrape -q --json --user-agent "badbot/2.0" "$U/site/p3.html" > rb.json
	test "$(jget rb.json 1 error)" = "disallowed by robots.txt"
	test "$(hits /site/p3.html)" = 0'
t 'an unreachable host: robots.txt unreachable, with the reason' '
	pea scrape -q --json --retries 1 --retry-wait 0.05 http://127.0.0.1:1/x > un.json
	jget un.json 1 error | grep -q "^robots.txt unreachable (failed to connect to 127.0.0.1 port 1.*): not fetched$"
	test "$(jget un.json 1 status)" = 0
	pea scrape -q --json --retries 0 --ignore-robots http://127.0.0.1:1/x > un2.json
	jget un2.json 1 error | grep -q "^failed to connect to 127.0.0.1 port 1"'
t '--ignore-robots fetches anyway' '
	pea scrape -q --json --ignore-robots "$U/private/a" > ri.json
	test "$(jget ri.json 1 status)" = 200
	test "$(hits /private/a)" = 1'
t 'redirects are followed and reported' '
	pea scrape -q --json "$U/redirect" > rd.json
	test "$(jget rd.json 1 final_url)" = "$U/site/p2.html"
	test "$(jget rd.json 1 title)" = "Page 2"'
t 'a redirect loop ends with an error' '
	pea scrape -q --json --max-redirects 3 "$U/loop/a" > loop.json
	test "$(jget loop.json 1 error)" = "more than 3 redirects"
	test "$(hits /loop/a)" = 2'
t 'redirects to file: and ftp: are refused' '
	pea scrape -q --json "$U/redirect-file" "$U/redirect-ftp" > rf.json
	jurl rf.json "$U/redirect-file" error | grep -q "^redirect refused: not an http(s) URL: file:///etc/passwd$"
	jurl rf.json "$U/redirect-ftp" error | grep -q "^redirect refused: not an http(s) URL: ftp:"'
t '404 is a record with status and error, not retried' '
	pea scrape -q --json "$U/404" > nf.json
	test "$(jget nf.json 1 status)" = 404
	test "$(jget nf.json 1 error)" = "http status 404"
	test -z "$(jget nf.json 1 text)"
	test "$(hits /404)" = 1'
t '500 is retried with backoff, then reported' '
	pea scrape -q --json --retries 2 --retry-wait 0.05 "$U/500" > se.json
	test "$(jget se.json 1 status)" = 500
	test "$(hits /500)" = 3'
t 'a transient 503 is retried and succeeds' '
	pea scrape -q --json --retry-wait 0.05 "$U/flaky" > fl.json
	test "$(jget fl.json 1 status)" = 200
	test "$(jget fl.json 1 text)" = "second time lucky"'
t 'a slow response times out' '
	pea scrape -q --json --timeout 0.5 --retries 0 "$U/slow" > sl.json
	test "$(jget sl.json 1 status)" = 0
	jget sl.json 1 error | grep -q "timed out"'
t 'gzip transfer is decoded' '
	pea scrape -q --json "$U/gzip" > gz.json
	test "$(jget gz.json 1 text)" = "compressed body text"'
t 'a body over --max-size is refused' '
	pea scrape -q --json --max-size 1M "$U/big" > big.json
	test "$(jget big.json 1 error)" = "body larger than 1048576 bytes"'
t 'charset from the HTTP header and from <meta>' '
	pea scrape -q --json "$U/latin1" "$U/meta-latin1" > cs.json
	test "$(jurl cs.json "$U/latin1" title)" = "café"
	test "$(jurl cs.json "$U/latin1" text)" = "crème brûlée"
	test "$(jurl cs.json "$U/meta-latin1" title)" = "naïve"
	test "$(jurl cs.json "$U/meta-latin1" text)" = "à la carte"'
t 'broken HTML still gives its text' '
	pea scrape -q --json "$U/broken" > br.json
	jget br.json 1 text > brt
	grep -q "unclosed bold both" brt
	grep -q "cell" brt
	grep -q "tail" brt'
t 'plain text and binary responses' '
	pea scrape -q --json "$U/text" "$U/binary" > tb.json
	test "$(jurl tb.json "$U/text" text)" = "$(printf "plain text line\nsecond line")"
	test "$(jurl tb.json "$U/binary" content_type)" = image/png
	test -z "$(jurl tb.json "$U/binary" text)"'
t 'URLs from standard input; a bad line is a failure record' '
	printf "# comment\n$U/site/p4.html\n\nnot a url\n" | pea scrape -q --json > in.json
	test "$(wc -l < in.json)" = 2
	test "$(jurl in.json "$U/site/p4.html" title)" = "Page 4"
	test "$(jurl in.json "not a url" error)" = "not an http or https URL"'
t '--ok-only drops failures; the summary counts them' '
	pea scrape --json --ok-only "$U/site/p5.html" "$U/404" "$U/private/b" > ok.json 2> ok.err
	test "$(wc -l < ok.json)" = 1
	grep -q "^pea-scrape: 1 fetched, 1 failed, 1 skipped by robots.txt, " ok.err'
t '--links: absolute, normalized, http(s) only' '
	pea scrape -q --json --links "$U/site/p1.html" > ln.json
	jget ln.json 1 links > links
	grep -q "\"$U/site/p2.html\"" links
	grep -q "\"$U/site/p1.html\"" links
	nope grep -q "mailto" links
	nope grep -q "file:" links
	nope grep -q "#frag" links'
t 'crawl: link cycles end, each page once, robots honoured' '
	: > log
	pea scrape -q --json --crawl "$U/site/" > cr.json
	test "$(grep -c "\"status\":200" cr.json)" = 7
	test "$(grep -c "disallowed by robots.txt" cr.json)" = 1
	test "$(grep "^/site/" log | sort | uniq -d | wc -l)" = 0
	test "$(hits /private/secret.html)" = 0'
t 'crawl: --depth, --max-pages, --exclude, --include' '
	pea scrape -q --json --crawl --depth 1 "$U/site/" > d1.json
	test "$(grep -c "\"depth\":2" d1.json)" = 0
	test "$(grep -c "\"depth\":1" d1.json)" = 4
	pea scrape -q --json --crawl --max-pages 3 "$U/site/" > mp.json
	test "$(wc -l < mp.json)" = 3
	pea scrape -q --json --crawl --exclude "p[1-5]" "$U/site/" > ex.json
	test "$(grep -c "\"status\":200" ex.json)" = 2
	pea scrape -q --json --crawl --include "/site/" "$U/site/" > inc.json
	test "$(grep -c private inc.json)" = 0'
t 'crawl: a page with <meta name=robots content=nofollow> is not followed' '
	pea scrape -q --json --crawl "$U/nofollow" > nof.json
	test "$(wc -l < nof.json)" = 1
	pea scrape -q --json --crawl --ignore-robots "$U/nofollow" > nof2.json
	test "$(wc -l < nof2.json)" -gt 1'
t 'crawl: --scope prefix stays under the start directory' '
	pea scrape -q --json --crawl --scope prefix "$U/site/p2.html" > sp.json
	nope grep -q "/private/" sp.json'
t 'politeness: at most --per-host connections at once (default 2)' '
	reset_stats
	for i in $(seq 12); do echo "$U/conc/$i"; done > conc.txt
	pea scrape -q -j 32 < conc.txt > c.pea
	test "$(pea count c.pea | tr -dc 0-9)" = 12
	test "$(stat_of peak_conns)" -le 2
	test "$(stat_of peak_inflight)" = 2'
t '--per-host 4 allows four' '
	reset_stats
	sed "s,/conc/,/conc/b," conc.txt | pea scrape -q --per-host 4 > c4.pea
	test "$(stat_of peak_conns)" -le 4
	test "$(stat_of peak_inflight)" = 4'
t '--warc-out archives the crawl; replaying it gives the same text' '
	pea scrape -q --json --crawl --warc-out crawl.warc.gz "$U/site/" > live.json
	test -s crawl.warc.gz
	gzip -t crawl.warc.gz
	pea scrape -q --json crawl.warc.gz > replay.json
	python3 -c "import json,sys
live = {r[\"url\"]: r.get(\"text\") for r in map(json.loads, open(\"live.json\")) if r[\"status\"] == 200}
rep = {r[\"url\"]: r.get(\"text\") for r in map(json.loads, open(\"replay.json\"))}
assert live == rep, (live, rep)"
	zcat crawl.warc.gz | grep -c "^WARC-Type: request" | grep -qx 7'
t '--delay spaces requests to one host' '
	: > log
	pea scrape -q --delay 0.2 "$U/site/p1.html" "$U/site/p2.html" "$U/site/p3.html" > /dev/null
	test "$(grep -c "^/site/" log)" = 3'
HG="$PEA_BUILD/tests/httpget"
t 'http client: conditional GET with ETag and Last-Modified' '
	"$HG" "$U/etag" > e1
	grep -qx "$U/etag 200 \"v1\" lm 16 -" e1
	"$HG" --etag "\"v1\"" "$U/etag" > e2
	grep -qx "$U/etag 304 \"v1\" - 0 -" e2
	"$HG" --since "Wed, 21 Oct 2026 07:28:00 GMT" "$U/etag" | grep -q " 304 "
	"$HG" --etag "\"v0\"" "$U/etag" | grep -q " 200 "'
t 'http client: every URL comes back exactly once' '
	urls=""
	for i in $(seq 40); do urls="$urls $U/site/p$((i % 6)).html?$i $U/404?$i"; done
	"$HG" $urls "$U/private/z" > all
	test "$(wc -l < all)" = 81
	test "$(cut -d" " -f1 all | sort -u | wc -l)" = 81'
t 'http client: a stream goes to the callback piece by piece, and can be stopped' '
	"$HG" --stream "$U/stream" > st
	test "$(grep -c "^piece: data: event" st)" = 5
	grep -qx "$U/stream 200 - - 0 -" st
	"$HG" --stream --stop 2 "$U/stream2" > st2
	test "$(grep -c "^piece:" st2)" = 2
	grep -qx "$U/stream2 200 - - 0 -" st2
	"$HG" --stream "$U/redirect" > st3
	grep -q "^piece: .*Page 2" st3'
done_testing
