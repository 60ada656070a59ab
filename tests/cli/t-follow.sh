# pea scrape --follow on a Mastodon stream: tests/follow/mastodon.py on
# 127.0.0.1 publishes posts, edits, deletes, a malformed and an oversized
# event, heartbeats, drops the connection and answers 429 with Retry-After.
. "$PEA_SRC/tests/cli/lib.sh"

TOKEN=tok-$$-s3cret
echo "$TOKEN" > token
# posts 6-10 come while the follower is away (a drop, then a 429); the
# delete waits until it is back
SCRIPT="post,post,post,bad,edit:2,post,big,post,drop,429,post,post,post,post,post,await,delete:3,post"
python3 "$PEA_SRC/tests/follow/mastodon.py" --port-file port --token "$TOKEN" --script "$SCRIPT" \
	--rate 20 --max-limit 3 --heartbeat 0.2 --lifetime 200 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
U="http://127.0.0.1:$(cat port)"
S="$U/api/v1/streaming/public"

# wait_for FILE N: until FILE holds N lines (at most 20 s)
wait_for() {
	for _ in $(seq 400); do
		if [ "$(wc -l < "$1")" -ge "$2" ]; then return 0; fi
		sleep 0.05
	done
	echo "only $(wc -l < "$1") of $2 records in $1"
	return 1
}
# stop PID: SIGTERM, and the follower must exit 0
stop() { kill -TERM "$1"; wait "$1"; }
# posts FILE: the ids of the posts (not edits, not deletions), in order
posts() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if not r.get("deleted") and "rev" not in r: print(r["id"])' "$1"; }
stat_of() { python3 -c "import json,urllib.request as u; print(json.load(u.urlopen('$U/_stats'))['$1'])"; }

t 'a stream: every post once and in order, across a drop, a 429 and a backfill' '
	pea scrape --follow --json --state st.json --token-file token --retry-wait 0.1 "$S" > a.json 2> a.err &
	F=$!
	wait_for a.json 13
	stop $F
	test "$(posts a.json | tr "\n" " ")" = "1 2 3 4 5 6 7 8 9 10 11 "
	test "$(stat_of refused_429)" = 1
	test "$(stat_of streams)" = 2'
t 'the 429 Retry-After was waited out before reconnecting' '
	python3 -c "import json,urllib.request as u,sys
s = json.load(u.urlopen(\"$U/_stats\"))
sys.exit(0 if s[\"after_429\"] and min(s[\"after_429\"]) >= 0.99 else 1)"'
t 'the gap was backfilled page by page through the timeline' '
	test "$(stat_of timeline)" -ge 3'
t 'an edit is a record with the same id, a rev and the new text' '
	python3 -c "import json
r = [json.loads(l) for l in open(\"a.json\")]
e = [x for x in r if \"rev\" in x]
assert len(e) == 1 and e[0][\"id\"] == \"2\" and e[0][\"rev\"] > 0, e
assert e[0][\"text\"].endswith(\"edited #pea0\"), e[0][\"text\"]"'
t 'a delete is a record with deleted true' '
	python3 -c "import json
r = [json.loads(l) for l in open(\"a.json\")]
d = [x for x in r if x.get(\"deleted\")]
assert len(d) == 1 and d[0][\"id\"] == \"3\", d"'
t 'records carry author, user, time, text, tags, lang, items and source' '
	python3 -c "import json
r = [x for x in map(json.loads, open(\"a.json\")) if x[\"id\"] == \"4\"][0]
assert r[\"id\"] == \"4\" and r[\"author\"] == \"user4\" and r[\"user\"] == \"user4\", r
assert r[\"time\"] == 1714564804 and r[\"lang\"] == \"en\" and r[\"tags\"] == [\"pea0\"], r
assert r[\"items\"] == [\"@friend@other.example\", \"#pea0\"], r
assert r[\"text\"].startswith(\"post 4: \") and \"<\" not in r[\"text\"], r
assert r[\"source\"].endswith(\"/api/v1/streaming/public\"), r"'
t 'malformed and oversized events are reported once each kind and skipped' '
	grep -q "malformed update event skipped: invalid JSON" a.err
	grep -q "malformed stream event skipped: larger than --max-event" a.err
	grep -q "2 malformed events skipped" a.err'
t 'the token never appears in records, messages or the state file' '
	nope grep -q "$TOKEN" a.json
	nope grep -q "$TOKEN" a.err
	nope grep -q "$TOKEN" st.json
	test "$(stat_of unauthorized)" = 0'
t 'a restart with the state file backfills what it missed, and repeats nothing' '
	python3 -c "import urllib.request as u; u.urlopen(\"$U/_publish?n=4\").read()"
	for _ in $(seq 100); do [ "$(stat_of published)" -ge 15 ] && break; sleep 0.05; done
	TOKEN_VAR=$TOKEN pea scrape --follow --json --state st.json --token-env TOKEN_VAR "$S" > b.json 2> b.err &
	F=$!
	wait_for b.json 4
	python3 -c "import urllib.request as u; u.urlopen(\"$U/_publish?n=2\").read()"
	wait_for b.json 6
	stop $F
	test "$(posts b.json | tr "\n" " ")" = "12 13 14 15 16 17 "'
t 'a stream gone silent (no heartbeat either) is reconnected and backfilled' '
	python3 "$PEA_SRC/tests/follow/mastodon.py" --port-file port2 --script "post,post,silence,post,post,await,post" \
		--rate 20 --heartbeat 0.2 --lifetime 60 &
	S2=$!
	for _ in $(seq 100); do [ -s port2 ] && break; sleep 0.05; done
	pea scrape --follow --json --stall 1 --retry-wait 0.1 "http://127.0.0.1:$(cat port2)/api/v1/streaming/public" > s.json 2> s.err &
	F=$!
	wait_for s.json 5
	stop $F
	kill $S2
	test "$(posts s.json | tr "\n" " ")" = "1 2 3 4 5 "
	grep -q "no data for 1 s; reconnecting" s.err'
t 'a wrong token: one line naming the stream, exit 1, the token unsaid' '
	echo wrong-token-value > bad
	nope pea scrape --follow --token-file bad "$S" > c.out 2> c.err
	test "$(cat c.err)" = "pea-scrape: $S: http status 401 (check the token)"
	nope grep -q wrong-token-value c.err'
t_err 'an unset token variable' 1 'pea-scrape: environment variable NO_SUCH_VAR_PEA is not set' \
	pea scrape --follow --token-env NO_SUCH_VAR_PEA "$S"
printf 'a b\n' > spaced
t_err 'a token with a space is refused' 1 'pea-scrape: spaced: a token is one line of visible ASCII characters' \
	pea scrape --follow --token-file spaced "$S"
t_err '--follow needs URLs' 2 'pea-scrape: --follow needs the URLs of the streams or feeds to follow' \
	pea scrape --follow
t_err '--follow takes no files' 2 'pea-scrape: mail/: --follow takes http or https URLs' \
	pea scrape --follow mail/
t_err '--once is for feeds' 2 "pea-scrape: $S: --once polls feeds; a stream has no end" \
	pea scrape --follow --once "$S"
t_err '--state without --follow' 2 'pea-scrape: --state, --once, --token-file and --token-env go with --follow' \
	pea scrape --state x.json "$U/"
done_testing
