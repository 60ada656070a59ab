# A recommender that keeps learning: pea train --follow on a stream whose
# time moves (a window and a half-life seen in the models it publishes),
# edits and deletions, a model published mid-stream picked up by pea
# recommend --reload without dropping a request, and bad input.
. "$PEA_SRC/tests/cli/lib.sh"

# posts T USER... : posts at time T (Unix seconds) by each user, naming
# the items after the colon: "u1:X,A" is u1 posting about X and A
posts() {
	python3 -c 'import json, sys
t = int(sys.argv[1])
for k, a in enumerate(sys.argv[2:]):
    u, items = a.split(":")
    print(json.dumps({"id": "%d-%s" % (t, u), "user": u, "items": items.split(",") if items else [], "time": t}))' "$@"
}
# first ITEM MODEL: the item most like ITEM
first() { pea recommend -m "$2" --similar "$1" -k 1 --json | python3 -c 'import json, sys
r = json.load(sys.stdin)["recs"]
print(r[0] if r else "-")'; }
# meta MODEL KEY
meta() { pea train --show "$1" | python3 -c 'import json, sys
print(json.JSONDecoder().raw_decode(sys.stdin.read())[0][sys.argv[1]])' "$2"; }

T0=1700000000
T1=$((T0 + 36000)) # ten hours later
# X goes with A in five old posts, with B in two new ones
{ posts $T0 u1:X,A u2:X,A u3:X,A u4:X,A u5:X,A; posts $T1 v1:X,B v2:X,B; } > s.jsonl

t 'without a window every interaction counts: X is most like A' '
	pea train -q --algo knn --follow --item items -o all.model s.jsonl
	test "$(first X all.model)" = A
	test "$(meta all.model interactions)" = 14'
t 'a window of 5h keeps the last posts only: A has left the model' '
	pea train -q --algo knn --follow --item items --window 5h -o win.model s.jsonl
	test "$(first X win.model)" = B
	test "$(meta win.model interactions)" = 4
	test "$(meta win.model items)" = 2
	test "$(meta win.model users)" = 2'
t 'a half-life of 1h weighs the old posts down: X is most like B, A still there' '
	pea train -q --algo knn --follow --item items --half-life 1h -o hl.model s.jsonl
	test "$(first X hl.model)" = B
	test "$(meta hl.model items)" = 3'
t 'a half-life of 100h barely weighs them down: X is still most like A' '
	pea train -q --algo knn --follow --item items --half-life 100h -o hl2.model s.jsonl
	test "$(first X hl2.model)" = A'
t 'dates as strings are times too' '
	sed "s/\"time\": $T0/\"time\": \"2023-11-14T22:13:20Z\"/" s.jsonl > d.jsonl
	pea train -q --algo knn --follow --item items --window 5h -o d.model d.jsonl
	test "$(first X d.model)" = B'

# an edit replaces a post's items, a deletion takes them back
{ posts $T0 u1:X,A u2:X,A u3:X,C
  echo "{\"id\": \"$T0-u1\", \"user\": \"u1\", \"items\": [\"X\", \"C\"], \"time\": $T0, \"rev\": 1}"
  echo "{\"id\": \"$T0-u2\", \"deleted\": true, \"text\": \"\"}"; } > e.jsonl
t 'an edit replaces the post, a deletion takes it back' '
	pea train --algo knn --follow --item items -o e.model e.jsonl 2> err
	test "$(first X e.model)" = C
	test "$(meta e.model interactions)" = 4
	grep -q "^pea-train: 5 records: 8 interactions (1 replaced, 1 deleted); published 1 model to e.model, the last from 4 interactions$" err'
t 'a post that names no item counts as a record and adds nothing' '
	{ posts $T0 u1:X,A u9:; } | pea train -q --algo knn --follow --item items -o n.model
	test "$(meta n.model users)" = 1'
t '--max-interactions keeps the newest' '
	pea train --algo knn --follow --item items --max-interactions 4 -o mx.model s.jsonl 2> err
	test "$(meta mx.model interactions)" = 4
	test "$(first X mx.model)" = B
	grep -q "some dropped for --max-interactions" err'

# 20000 posts a second apart by 20000 users: a window of 100 s keeps 100
t 'models published on the way do not change the last one; names that left the window leave' '
	python3 -c "import json
for k in range(20000):
    print(json.dumps({\"id\": k, \"user\": \"user%d\" % k, \"items\": [\"i%d\" % (k % 13), \"j%d\" % (k % 7)], \"time\": 1700000000 + k}))" > many.jsonl
	pea train -q --algo knn --follow --item items --window 100s -o once.model many.jsonl
	pea train --algo knn --follow --item items --window 100s --publish-every 500 -o often.model many.jsonl 2> err
	cmp once.model often.model
	grep -q "published 40 models to often.model, the last from 200 interactions$" err
	test "$(meta often.model users)" = 100
	test "$(meta often.model interactions)" = 200'

t 'a follower stopped and started again with --state goes on with its window, edits and deletions included' '
	head -3 e.jsonl > e1.jsonl
	tail -n +4 e.jsonl > e2.jsonl
	pea train -q --algo knn --follow --item items --state st.pea -o r.model e1.jsonl
	pea train --algo knn --follow --item items --state st.pea -o r.model e2.jsonl 2> err
	pea train -q --algo knn --follow --item items -o whole.model e.jsonl
	cmp r.model whole.model
	grep -q "^pea-train: st.pea: 6 interactions of the previous run$" err
	head -12000 many.jsonl > m1.jsonl
	tail -n +12001 many.jsonl > m2.jsonl
	pea train -q --algo knn --follow --item items --window 100s --state st2.pea -o r2.model m1.jsonl
	test "$(pea count st2.pea)" = 100
	pea train -q --algo knn --follow --item items --window 100s --state st2.pea -o r2.model m2.jsonl
	cmp r2.model once.model'
t_err 'a damaged state file' 1 "pea-train: bad.state: frame 1 at byte 0: unexpected end of file*" \
	sh -c 'head -c 20 st2.pea > bad.state; pea train --algo knn --follow --item items --state bad.state -o x.model < /dev/null'

# wait_for COMMAND...: until it succeeds (10 s at most)
wait_for() {
	for _ in $(seq 200); do
		if "$@" > /dev/null 2>&1; then return 0; fi
		sleep 0.05
	done
	echo "never: $*"
	return 1
}
lines_at_least() { [ -f "$1" ] || return 1; test "$(wc -l < "$1")" -ge "$2"; }
users_are() { test "$(meta "$1" users)" = "$2"; }
interactions_are() { test "$(meta "$1" interactions)" = "$2"; }
items_are() { test "$(meta "$1" items)" = "$2"; }
# catches_term PID: its SIGTERM handler is in place (bit 15 of SigCgt)
catches_term() { test $(( 0x$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status") >> 14 & 1 )) = 1; }
first_is() { test "$(first "$1" "$2")" = "$3"; }

t 'a model published mid-stream is picked up by pea recommend --reload' '
	mkfifo stream requests
	pea train -q --algo knn --follow --item items --window 5h --publish-every 1 -o live.model < stream &
	TR=$!
	exec 3> stream
	posts $T0 u1:X,A u2:X,A u3:X,A >&3
	wait_for test -s live.model
	wait_for first_is X live.model A
	pea recommend -m live.model --reload --json < requests > recs.json 2> rerr &
	RC=$!
	exec 4> requests
	echo "{\"n\": 1, \"history\": [\"X\"]}" >&4
	wait_for lines_at_least recs.json 1
	posts $T1 v1:X,B v2:X,B >&3
	wait_for first_is X live.model B
	echo "{\"n\": 2, \"history\": [\"X\"]}" >&4
	wait_for lines_at_least recs.json 2
	exec 3>&- 4>&-
	wait $TR
	wait $RC
	python3 -c "import json
r = [json.loads(l) for l in open(\"recs.json\")]
assert [x[\"n\"] for x in r] == [1, 2], r
assert r[0][\"recs\"] == [\"A\"], r
assert r[1][\"recs\"] == [\"B\"], r"
	test ! -s rerr'

# the whole way: a Mastodon stream (tests/follow/mastodon.py) through pea
# scrape --follow into the follower, which publishes while the stream runs
python3 "$PEA_SRC/tests/follow/mastodon.py" --port-file port --script "post,post,post,post,post,post,edit:2,delete:3,post" \
	--rate 20 --heartbeat 0.2 --lifetime 120 &
SERVER=$!
# a failed test leaves no follower behind
trap 'kill $SERVER $(cat "$TMP"/pids 2>/dev/null) 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
U="http://127.0.0.1:$(cat port)"
t 'pea scrape --follow | pea train --follow: posts, an edit and a deletion, published live' '
	mkfifo posts
	pea scrape -q --follow --retry-wait 0.1 "$U/api/v1/streaming/public" > posts &
	SC=$!
	pea train -q --algo knn --follow --publish-every 200ms -o m.model < posts &
	TR=$!
	echo $SC $TR > "$TMP"/pids
	wait_for users_are m.model 4
	wait_for interactions_are m.model 7
	kill -TERM $SC
	wait $SC
	wait $TR
	test "$(meta m.model users)" = 4
	test "$(meta m.model interactions)" = 7
	test "$(meta m.model items)" = 3'

t_err 'a record with no user' 1 "pea-train: s2.jsonl: line 2: no 'user' field" \
	sh -c 'printf "%s\n" "{\"user\": \"u\", \"item\": \"a\", \"time\": 1}" "{\"item\": \"a\", \"time\": 1}" > s2.jsonl; pea train --algo knn --follow -o x.model s2.jsonl'
t_err 'a record with no item' 1 "pea-train: (standard input): line 1: no 'items' field" \
	sh -c 'echo "{\"user\": \"u\", \"time\": 1}" | pea train --algo knn --follow --item items -o x.model'
t_err 'a record with neither item nor items' 1 "pea-train: (standard input): line 1: no 'item' field (nor 'items')" \
	sh -c 'echo "{\"user\": \"u\", \"time\": 1}" | pea train --algo knn --follow -o x.model'
t_err 'a record with no time' 1 "pea-train: (standard input): line 1: no 'time' field (the follower needs each interaction's time)" \
	sh -c 'echo "{\"user\": \"u\", \"item\": \"a\"}" | pea train --algo knn --follow -o x.model'
t_err 'a time that is no date' 1 "pea-train: (standard input): line 1: field 'time' is 'soon', not a date" \
	sh -c 'echo "{\"user\": \"u\", \"item\": \"a\", \"time\": \"soon\"}" | pea train --algo knn --follow -o x.model'
t_err 'an item list of numbers' 1 "pea-train: (standard input): line 1: field 'x' is ints, not a string or a list of strings" \
	sh -c 'echo "{\"user\": \"u\", \"x\": [1, 2], \"time\": 1}" | pea train --algo knn --follow --item x -o x.model'
t_err 'a deletion with no id' 1 "pea-train: (standard input): line 1: a deletion with no 'id' field" \
	sh -c 'echo "{\"deleted\": true}" | pea train --algo knn --follow -o x.model'
t_err 'nothing in the window' 1 "pea-train: no interactions to train on" \
	sh -c 'pea train --algo knn --follow -o x.model < /dev/null'
t_err '--window without --follow' 2 "pea-train: --window needs --follow and a recommender" \
	pea train --algo knn --window 3h -o x.model
t_err '--window and --half-life' 2 "pea-train: --window and --half-life are two ways to forget: give one" \
	pea train --algo knn --follow --window 3h --half-life 1h -o x.model
t_err 'a bad duration' 2 "pea-train: --window takes a duration above 0 (24h, 90m, 600s), not '3 weeks'" \
	pea train --algo knn --follow --window '3 weeks' -o x.model
t_err '--follow with a classifier' 2 "pea-train: --follow trains recommenders (--algo pop, knn, als, bpr, ease)" \
	pea train --follow -o x.model
t_err '--similar takes no --reload' 2 "pea-recommend: --similar reads no input and takes no --explain, --include-seen or --reload" \
	pea recommend -m all.model --similar X --reload
t 'als publishes again from the factors of its last model (a warm start)' '
	mkfifo als-in
	pea train -q --algo als --factors 4 --iterations 2 --follow --item items --publish-every 1 -o als.model < als-in &
	TR=$!
	exec 3> als-in
	posts $T0 u1:X,A u2:X,A u3:X,A >&3
	wait_for test -s als.model
	posts $T1 u1:X,B v2:X,B >&3
	wait_for items_are als.model 3
	exec 3>&-
	wait $TR
	test "$(meta als.model users)" = 4'
t 'als in a window: users who left it leave the model, warm start or not' '
	{ posts $T0 u1:X,A u2:X,A u3:X,A; posts $T1 v1:X,B v2:X,B; } > aw.jsonl
	pea train --algo als --factors 4 --iterations 2 --follow --item items --window 5h --publish-every 1 -o aw.model aw.jsonl 2> err
	grep -q "published 5 models to aw.model, the last from 4 interactions$" err
	test "$(meta aw.model users)" = 2
	test "$(meta aw.model items)" = 2'
t 'a record dated far ahead is left out with one warning, not allowed to empty the window' '
	{ posts $T0 u1:X,A u2:X,A; posts 4000000000 w1:X,C w2:X,C; } > fut.jsonl
	pea train --algo knn --follow --item items --window 5h -o fut.model fut.jsonl 2> err
	test "$(meta fut.model users)" = 2
	test "$(first X fut.model)" = A
	grep -q "^pea-train: warning: fut.jsonl: line 3: time 4000000000 is more than a day ahead of this machine.s clock: left out (so are any more, counted)$" err
	grep -q "^pea-train: 2 records dated more than a day ahead were left out$" err'
t 'SIGTERM ends the stream cleanly: a last model and state hold every record read' '
	mkfifo sig-in
	pea train --algo knn --follow --item items --publish-every 1000 --state sig.state -o sig.model < sig-in 2> err &
	TR=$!
	exec 3> sig-in
	posts $T0 u1:X,A u2:X,A u3:X,B >&3
	wait_for catches_term $TR
	kill -TERM $TR
	wait $TR
	exec 3>&-
	test "$(meta sig.model interactions)" = 6
	test "$(first X sig.model)" = A
	test -s sig.state
	grep -q "^pea-train: stopped by a signal: the last model and state hold every record read$" err
	pea train -q --algo knn --follow --item items --state sig.state -o again.model /dev/null
	test "$(meta again.model interactions)" = 6'
done_testing
