# pea scrape --follow on feeds served by nginx (Debian nginx-light) from
# files the test rewrites: conditional polls, new items, restarts with the
# state file, broken XML, <ttl>, Retry-After, gzip.  127.0.0.1 only.
. "$PEA_SRC/tests/cli/lib.sh"

. "$PEA_SRC/tests/cli/nginx.sh"
nginx_start '$request_uri $status inm=$http_if_none_match ims=$http_if_modified_since gz=$gzip_ratio' \
	'gzip on; gzip_min_length 0; gzip_types text/xml application/xml application/rss+xml application/atom+xml;' \
	'location = /busy.xml { add_header Retry-After 30 always; return 429; }'

# rss N...: an RSS 2.0 feed with items N... (newest first, as feeds list them)
rss() {
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		echo '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
		echo '<channel><title>Test feed</title><link>http://example.org/</link><language>en</language>'
		for n in "$@"; do
			printf '<item><title>Item %s</title><link>/items/%s.html</link><guid isPermaLink="false">item-%s</guid>' "$n" "$n" "$n"
			printf '<description>&lt;p&gt;Summary %s&lt;/p&gt;</description>' "$n"
			printf '<content:encoded><![CDATA[<p>Full <b>text</b> of item %s</p>]]></content:encoded>' "$n"
			printf '<dc:creator>Author %s</dc:creator><category>News</category><category>pea</category>' "$n"
			printf '<pubDate>Wed, 01 May 2024 12:%02d:00 GMT</pubDate></item>\n' "$n"
		done
		echo '</channel></rss>'
	} > www/feed.tmp
	mv www/feed.tmp www/feed.xml
}
ids() { python3 -c 'import json,sys
print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$1"; }
hits() { grep -c "^$1 " logs/access.log || true; }

rss 3 2 1
t 'a feed: every item, oldest first, with its fields' '
	pea scrape --follow --once --json --state s.json "$U/feed.xml" > a.json
	test "$(ids a.json)" = "item-1 item-2 item-3"
	python3 -c "import json
r = [json.loads(l) for l in open(\"a.json\")][0]
assert r[\"title\"] == \"Item 1\" and r[\"url\"] == \"$U/items/1.html\", r
assert r[\"text\"] == \"Full text of item 1\", r[\"text\"]
assert r[\"author\"] == \"Author 1\" and r[\"user\"] == \"Author 1\", r
assert r[\"time\"] == 1714564860 and r[\"lang\"] == \"en\", r
assert r[\"tags\"] == [\"news\", \"pea\"] and r[\"items\"] == [\"#news\", \"#pea\"], r
assert r[\"source\"] == \"$U/feed.xml\", r"'
t 'the feed came gzipped' '
	grep "^/feed.xml 200 " logs/access.log | grep -vq "gz=-"'
t 'the second poll is conditional: a 304 and no records' '
	pea scrape --follow --once --json --state s.json "$U/feed.xml" > b.json
	test ! -s b.json
	# nginx logs a quote as \x22
	etag=$(python3 -c "import json; print(json.load(open(\"s.json\"))[\"sources\"][0][\"etag\"].replace(chr(34), r\"\\x22\"))")
	lm=$(python3 -c "import json; print(json.load(open(\"s.json\"))[\"sources\"][0][\"last_modified\"])")
	grep -qF "/feed.xml 304 inm=$etag ims=$lm gz=-" logs/access.log'
t 'a rewritten feed: only the new items come out' '
	sleep 1.1 # a new Last-Modified second, as a real edit would have
	rss 5 4 3 2
	pea scrape --follow --once --json --state s.json "$U/feed.xml" > c.json
	test "$(ids c.json)" = "item-4 item-5"'
t 'a running follower polls at its interval and repeats nothing' '
	pea scrape --follow --json --interval 0.2 --state s.json "$U/feed.xml" > d.json 2> d.err &
	F=$!
	sleep 0.6
	rss 7 6 5 4 3
	for _ in $(seq 100); do [ "$(wc -l < d.json)" -ge 2 ] && break; sleep 0.05; done
	sleep 0.5
	kill -TERM $F
	wait $F
	test "$(ids d.json)" = "item-6 item-7"
	test "$(hits /feed.xml)" -ge 7'
t 'without the state file, everything again' '
	pea scrape --follow --once --json "$U/feed.xml" > e.json
	test "$(ids e.json)" = "item-3 item-4 item-5 item-6 item-7"'

cat > www/atom.xml <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Atom test</title><author><name>Feed Author</name></author>
  <id>urn:uuid:feed</id><updated>2024-05-02T10:00:00Z</updated>
  <entry><title type="html">Second &amp;lt;b&amp;gt;entry</title>
    <link rel="alternate" href="http://example.org/2"/><link rel="edit" href="http://example.org/edit/2"/>
    <id>urn:uuid:2</id><updated>2024-05-02T10:00:00+02:00</updated>
    <category term="Atom"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Second <em>entry</em> body</p></div></content>
  </entry>
  <entry><title>First entry</title><link href="http://example.org/1"/>
    <id>urn:uuid:1</id><published>2024-05-01T10:00:00Z</published><updated>2024-05-03T10:00:00Z</updated>
    <author><name>Entry Author</name></author>
    <summary>Plain &lt;summary&gt; text</summary>
  </entry>
</feed>
XML
cat > www/rdf.xml <<'XML'
<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://example.org/"><title>RDF test</title><link>http://example.org/</link>
    <items><rdf:Seq><rdf:li resource="http://example.org/b"/><rdf:li resource="http://example.org/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="http://example.org/b"><title>B</title><link>http://example.org/b</link>
    <description>Item B</description><dc:date>2024-05-01T11:00:00Z</dc:date><dc:creator>Bea</dc:creator><dc:subject>rdf</dc:subject></item>
  <item rdf:about="http://example.org/a"><title>A</title><link>http://example.org/a</link>
    <description>Item A</description><dc:date>2024-05-01T10:00:00Z</dc:date></item>
</rdf:RDF>
XML
t 'Atom: ids, alternate links, xhtml and escaped content, authors, language' '
	pea scrape --follow --once --json "$U/atom.xml" > f.json
	test "$(ids f.json)" = "urn:uuid:1 urn:uuid:2"
	python3 -c "import json
b, a = [json.loads(l) for l in open(\"f.json\")]
assert a[\"url\"] == \"http://example.org/2\" and a[\"text\"] == \"Second entry body\", a
assert a[\"author\"] == \"Feed Author\" and a[\"lang\"] == \"fr\" and a[\"tags\"] == [\"atom\"], a
assert a[\"time\"] == 1714636800, a
assert b[\"author\"] == \"Entry Author\" and b[\"text\"] == \"Plain <summary> text\", b
assert b[\"time\"] == 1714557600, b"'
t 'Atom: an entry whose <updated> moves is an edit, with the same id and a rev' '
	pea scrape --follow --once --json --state at.json "$U/atom.xml" > l1.json
	sed -i "s/2024-05-03T10:00:00Z/2024-05-04T10:00:00.250Z/; s/Plain &lt;summary&gt; text/Edited summary/" www/atom.xml
	pea scrape --follow --once --json --state at.json "$U/atom.xml" > l2.json
	test "$(ids l2.json)" = "urn:uuid:1"
	python3 -c "import json
r = json.loads(open(\"l2.json\").readline())
assert r[\"rev\"] == 1714816800250 and r[\"text\"] == \"Edited summary\" and r[\"time\"] == 1714557600, r"
	pea scrape --follow --once --json --state at.json "$U/atom.xml" > l3.json
	test ! -s l3.json'
t 'RSS 1.0: rdf:about ids, dc:date, dc:creator, dc:subject' '
	pea scrape --follow --once --json "$U/rdf.xml" > g.json
	test "$(ids g.json)" = "http://example.org/a http://example.org/b"
	python3 -c "import json
a, b = [json.loads(l) for l in open(\"g.json\")]
assert b[\"author\"] == \"Bea\" and b[\"tags\"] == [\"rdf\"] and b[\"text\"] == \"Item B\", b"'

printf '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken &nbsp; feed</title>\n<item><title>Good one</title><guid>g1</guid><description>fine &amp; dandy</description></item>\n<item><title>Bad &entity; <b>unclosed</title><guid>g2</guid><description>still here\n</channel>' > www/broken.xml
printf '\xef\xbb\xbf<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0"><channel><item><title>caf\xe9</title><guid>l1</guid></item></channel></rss>\n' > www/latin1.xml
t 'broken XML: the items that can be made out still come' '
	pea scrape --follow --once --json "$U/broken.xml" > h.json
	ids h.json | grep -q "g1"
	python3 -c "import json
r = [json.loads(l) for l in open(\"h.json\")]
g = [x for x in r if x[\"id\"] == \"g1\"][0]
assert g[\"text\"] == \"fine & dandy\", g"'
t 'a feed in another encoding is read as declared' '
	pea scrape --follow --once --json "$U/latin1.xml" > i.json
	python3 -c "import json
r = json.loads(open(\"i.json\").readline())
assert r[\"title\"] == \"caf\u00e9\", r"'

t 'the state file is private to its owner' '
	test "$(stat -c %a s.json)" = 600'
echo '{"format":1,"sources":[' > bad-state.json
t_err 'a damaged state file is refused, not overwritten' 1 \
	'pea-scrape: bad-state.json: not a usable state file: not JSON (move it away to start afresh)' \
	pea scrape --follow --once --state bad-state.json "$U/feed.xml"
echo '{"format":1,"sources":[{"url":"x","seen":["zz"]}]}' > bad-seen.json
t_err 'a state file with a bad seen id is refused' 1 \
	'pea-scrape: bad-seen.json: not a usable state file: a seen id that is not 16 hex digits (move it away to start afresh)' \
	pea scrape --follow --once --state bad-seen.json "$U/feed.xml"
echo '{"format":2,"sources":[]}' > v2.json
t_err 'a state file of another format is refused' 1 \
	'pea-scrape: v2.json: not a usable state file: not format 1 (move it away to start afresh)' \
	pea scrape --follow --once --state v2.json "$U/feed.xml"

echo '<!DOCTYPE html><html><body><p>not a feed</p></body></html>' > www/page.html
t 'not a feed, a 404: one warning each, exit 1 with --once' '
	nope pea scrape --follow --once --json "$U/page.html" "$U/missing.xml" > j.json 2> j.err
	test ! -s j.json
	grep -qx "pea-scrape: warning: $U/page.html: not a feed: the root element is <html>" j.err
	grep -qx "pea-scrape: warning: $U/missing.xml: http status 404" j.err'

cat > www/ttl.xml <<'XML'
<rss version="2.0"><channel><title>t</title><ttl>60</ttl><item><guid>t1</guid><title>T</title></item></channel></rss>
XML
t '<ttl> and Retry-After space the polls beyond --interval' '
	pea scrape --follow -q --json --interval 0.1 "$U/ttl.xml" "$U/busy.xml" > k.json &
	F=$!
	sleep 1.5
	kill -TERM $F
	wait $F
	test "$(hits /ttl.xml)" = 1
	test "$(hits /busy.xml)" = 1'
done_testing
