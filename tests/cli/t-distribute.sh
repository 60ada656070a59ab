# Models fetched by URL (-m URL): nginx (Debian nginx-light) serves a
# directory pea publish wrote; a small Python server plays the broken
# servers nginx will not be (a transfer cut short).  Revalidation, new
# releases, tampering, wrong keys, 500s, truncation, size limits, --offline
# and --reload.  127.0.0.1 only.
. "$PEA_SRC/tests/cli/lib.sh"

. "$PEA_SRC/tests/cli/nginx.sh"
# HTTPS beside HTTP on the same files: a certificate of the test's own
# authority (a self-signed one), which pea trusts only when told to
SPORT=$(free_port)
TLS=""
if openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2> /dev/null; then
	TLS="server { listen 127.0.0.1:$SPORT ssl; ssl_certificate $TMP/tls.crt; ssl_certificate_key $TMP/tls.key; root $TMP/www; }"
fi
nginx_start '$request_uri $status $body_bytes_sent inm=$http_if_none_match' "$TLS" \
	"location / { if (-f $TMP/down) { return 500; } }"
# a server that promises 100000 bytes and closes after 1000
TPORT=$(free_port)
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: application/octet-stream\r\n\r\n" + open(sys.argv[2], "rb").read()[:1000])
    c.close()' "$TPORT" "$TMP/A.model" 2> logs/cut.err &
CUT_PID=$!
trap 'nginx_stop; kill $CUT_PID 2>/dev/null; wait $CUT_PID 2>/dev/null; rm -rf "$TMP"' EXIT

export XDG_CACHE_HOME="$TMP/cache"
pea keygen -o k > /dev/null
pea keygen -o other > /dev/null
two_label_texts a b 200 | pea tokenize | pea vectorize | pea train -q --sign k -o A.model
two_label_texts c d 200 | pea tokenize | pea vectorize | pea train -q --sign k -o B.model
two_label_texts e f 200 | pea tokenize | pea vectorize | pea train -q --sign k -o C.model
two_label_texts x y 40 | pea tokenize | pea vectorize --binary > in.pea
sha() { sha256sum "$1" | cut -d" " -f1; }
preds() { python3 -c 'import json, sys
print(" ".join(sorted(set(json.loads(l)["pred"] for l in open(sys.argv[1])))))' "$1"; }
# the access log without the probes, once nginx has written every line
# before a probe (one worker: requests are logged in order)
log() {
	local m="/sync-$RANDOM$RANDOM"
	python3 -c "import sys, urllib.request as u, urllib.error as e
try: u.urlopen(sys.argv[1])
except e.HTTPError: pass" "$U$m"
	for _ in $(seq 200); do grep -q "^$m " logs/access.log && break; sleep 0.02; done
	grep -v "^/sync-" logs/access.log
}
hits() { log | grep -c "^$1 " || true; }
parts() { find cache -name ".part-*" | wc -l; }
# nginx's ETag is the manifest's mtime (in seconds) and size: releases in
# one second would look the same, so each release gets its own second
rel=1700000000
release() { # NAME MODEL
	pea publish --name "$1" "$2" www > /dev/null
	rel=$((rel + 10))
	touch -d "@$rel" "www/$1.json"
}
release spam A.model

t 'a first fetch downloads the model it names, verified, and classifies as the local file does' '
	pea classify -m "$U/spam.json" --verify k.pub --json < in.pea > url.json
	pea classify -m A.model --json < in.pea > local.json
	cmp url.json local.json
	test "$(hits "/$(sha A.model).model 200")" = 1
	cmp A.model "cache/pea/models/$(sha A.model).model"'
t 'a second run revalidates the manifest only (If-None-Match, 304)' '
	pea classify -m "$U/spam.json" --verify k.pub --json < in.pea > url2.json
	cmp url2.json local.json
	log | tail -1 | grep -q "^/spam.json 304 0 inm=\\\\x22"
	test "$(log | grep -c "\.model ")" = 1'
t '--offline uses the cache alone' '
	n=$(log | wc -l)
	pea classify -m "$U/spam.json" --offline --json < in.pea | cmp - local.json
	test "$(log | wc -l)" = "$n"'
t_err '--offline without a cached copy is an error' 1 "pea-classify: $U/other.json: not in the cache * (--offline)" \
	pea classify -m "$U/other.json" --offline < in.pea

release spam B.model
t 'a new release is picked up: the new model is downloaded once' '
	pea classify -m "$U/spam.json" --verify k.pub --json < in.pea > b.json
	test "$(preds b.json)" = "c d"
	pea classify -m "$U/spam.json" --json < in.pea | cmp - b.json
	test "$(hits "/$(sha B.model).model 200")" = 1'
t 'train --show and vectorize -m take URLs too' '
	pea train --show "$U/spam.json" | grep -q "^digest [0-9a-f]\{32\}$"
	pea train --show "$U/spam.json" --offline > show.txt
	pea train --show B.model | cmp - show.txt
	two_label_texts a b 20 | pea tokenize > tok.pea
	pea vectorize --fit v.model --fit-only < tok.pea
	pea publish v.model www > /dev/null
	pea vectorize -m "$U/v.json" --json < tok.pea > v1.json
	pea vectorize -m v.model --json < tok.pea | cmp - v1.json'

release spam C.model
bad="www/$(sha C.model).model"
printf "X" | dd of="$bad" bs=1 seek=300 conv=notrunc 2> /dev/null
t 'a tampered model is refused; the good cached model goes on, with a warning' '
	pea classify -m "$U/spam.json" --verify k.pub --json < in.pea > t.json 2> t.err
	test "$(preds t.json)" = "c d"
	grep -q "^pea-classify: warning: $U/spam.json: $U/$(sha C.model).model: its sha256 is [0-9a-f]*\.\.\., the manifest says $(sha C.model | cut -c1-16)\.\.\.: refused (damaged or tampered with): using the model cached on .* (sha256 $(sha B.model | cut -c1-16)\.\.\.)$" t.err
	test "$(wc -l < t.err)" = 1
	test ! -e "cache/pea/models/$(sha C.model).model"
	test "$(parts)" = 0'
t_err 'a tampered model with --no-stale is an error' 1 \
	"pea-classify: $U/spam.json: $U/$(sha C.model).model: its sha256 is *: refused (damaged or tampered with) (--no-stale: the cached model is not used)" \
	pea classify -m "$U/spam.json" --no-stale < in.pea

cp C.model "$bad"
t_err 'a model signed by another key is refused before it is downloaded' 1 \
	"pea-classify: $U/spam.json: the manifest's model is signed by key *, not by *: not downloaded" \
	pea classify -m "$U/spam.json" --verify other.pub --cache-dir c2 < in.pea
t 'nothing usable is left behind by the refusal' '
	test -z "$(find c2 -type f)"'
zfp=$(pea keygen -o zero | sed -n 's/^fingerprint: //p')
python3 -c 'import json, sys; m = json.load(open("www/spam.json")); m["signed_by"] = sys.argv[1]; json.dump(m, open("www/lying.json", "w"))' "$zfp"
t_err 'a manifest lying about the signer: the model itself is refused, and not cached' 1 \
	"pea-classify: $U/lying.json: $U/$(sha C.model).model: refused: the model is signed by key *, not by $zfp" \
	pea classify -m "$U/lying.json" --verify zero.pub --cache-dir c2b < in.pea
t 'nothing usable is left behind by that refusal' '
	test -z "$(find c2b -type f)"'
pea train -q -o www/x.model in.pea
t_err 'an unsigned model is refused under --verify' 1 \
	"pea-classify: $U/x.model: refused: the model is not signed (expected key *)" \
	pea classify -m "$U/x.model" --verify k.pub --cache-dir c3 < in.pea
release plain www/x.model
t_err 'a manifest of an unsigned model is refused under --verify before any download' 1 \
	"pea-classify: $U/plain.json: the manifest's model is not signed (expected key *): not downloaded" \
	pea classify -m "$U/plain.json" --verify k.pub --cache-dir c3b < in.pea
t 'a model URL (no manifest) is fetched, then revalidated' '
	pea classify -m "$U/x.model" --json < in.pea > x1.json
	pea classify -m "$U/x.model" --json < in.pea | cmp - x1.json
	log | tail -1 | grep -q "^/x.model 304 0 inm=\\\\x22"'

t 'a server returning 500 falls back to the verified cache, saying so' '
	pea classify -m "$U/spam.json" --json < in.pea > ok.json
	test "$(preds ok.json)" = "e f"
	touch down
	pea classify -m "$U/spam.json" --verify k.pub --json < in.pea > s.json 2> s.err
	rm down
	cmp s.json ok.json
	grep -q "^pea-classify: warning: $U/spam.json: http status 500: using the model cached on .* (sha256 $(sha C.model | cut -c1-16)\.\.\.)$" s.err'
touch down
t_err 'a 500 with --no-stale is an error' 1 "pea-classify: $U/spam.json: http status 500 (--no-stale: the cached model is not used)" \
	pea classify -m "$U/spam.json" --no-stale < in.pea
t_err 'a 500 with nothing cached is an error' 1 "pea-classify: $U/spam.json: http status 500" \
	pea classify -m "$U/spam.json" --cache-dir c4 < in.pea
rm down

t_err 'a truncated transfer is an error' 1 "pea-classify: http://127.0.0.1:$TPORT/cut.model: transfer closed with * bytes remaining to read" \
	pea classify -m "http://127.0.0.1:$TPORT/cut.model" --cache-dir c5 < in.pea
t 'a truncated transfer leaves nothing usable behind' '
	test -z "$(find c5 -type f)"'
t 'a download killed long ago leaves no file for ever' '
	echo partial > c5/models/.part-old
	echo partial > c5/models/.part-new
	touch -d "@1700000000" c5/models/.part-old
	pea classify -m "$U/spam.json" --cache-dir c5 < in.pea > /dev/null
	test ! -e c5/models/.part-old
	test -e c5/models/.part-new'

truncate -s 2G www/big.model
t_err 'a 2 GB Content-Length beyond the limit is refused' 1 "pea-classify: $U/big.model: the model is larger than 1073741824 bytes (--max-download): not downloaded" \
	pea classify -m "$U/big.model" < in.pea
t '... before downloading it' '
	n=$(log | grep "^/big.model " | cut -d" " -f3)
	between "$n" -1 67108864 # what sat in socket buffers, not 2 GB
	test "$(parts)" = 0'
python3 -c 'import json; m = json.load(open("www/spam.json")); m["size"] = 2 << 30; m["sha256"] = "0" * 64; m["model"] = "big.model"; json.dump(m, open("www/big.json", "w"))'
t_err 'a manifest naming a model beyond the limit is refused before any download' 1 \
	"pea-classify: $U/big.json: the model is 2147483648 bytes, more than --max-download 1073741824: not downloaded" \
	pea classify -m "$U/big.json" < in.pea
t '... the model was never asked for' '
	test "$(log | grep -c "^/big.model ")" = 1'
t_err '--max-download lowers the limit' 1 "pea-classify: $U/x.model: the model is larger than 1000 bytes (--max-download): not downloaded" \
	pea classify -m "$U/x.model" --max-download 1000 --cache-dir c6 < in.pea
printf 'not json' > www/junk.json
t_err 'a manifest that is not JSON is refused' 1 "pea-classify: $U/junk.json: not a pea manifest: not a JSON object" \
	pea classify -m "$U/junk.json" < in.pea
printf '{"model":"x.model","sha256":"abc","size":10}' > www/junk.json
t_err 'a manifest with a bad sha256 is refused' 1 "pea-classify: $U/junk.json: not a pea manifest: it needs *" \
	pea classify -m "$U/junk.json" < in.pea
t_err 'only http(s) URLs' 1 "pea-classify: ftp://x/m.model: *" pea classify -m ftp://x/m.model < in.pea

# --reload: a release made while classify runs is picked up between records
release live A.model
t '--reload re-checks a manifest and switches to a new release, saying so' '
	mkfifo fifo
	pea classify --reload --reload-every 0.1 -m "$U/live.json" --verify k.pub --json < fifo > r.json 2> r.err &
	C=$!
	exec 3> fifo
	cat in.pea >&3
	wait_lines r.json 40
	release live B.model
	sleep 0.3
	cat in.pea >&3
	exec 3>&-
	wait $C
	test "$(head -40 r.json | preds /dev/stdin)" = "a b"
	test "$(tail -40 r.json | preds /dev/stdin)" = "c d"
	grep -q "^pea-classify: $U/live.json: switched to the new model $(sha B.model | cut -c1-16)\.\.\.$" r.err'
printf '{"user":"u%d","item":"X"}\n{"user":"u%d","item":"A"}\n' 1 1 2 2 3 3 | pea train -q --algo knn -o R1.model
printf '{"user":"u%d","item":"X"}\n{"user":"u%d","item":"B"}\n' 1 1 2 2 3 3 | pea train -q --algo knn -o R2.model
release recs R1.model
t 'pea recommend --reload switches to a new release of a manifest too' '
	mkfifo rq
	pea recommend --reload --reload-every 0.1 -m "$U/recs.json" -k 1 --json < rq > rr.json 2> rr.err &
	C=$!
	exec 4> rq
	echo "{\"n\": 1, \"history\": [\"X\"]}" >&4
	wait_lines rr.json 1
	release recs R2.model
	sleep 0.3
	echo "{\"n\": 2, \"history\": [\"X\"]}" >&4
	exec 4>&-
	wait $C
	python3 -c "import json
r = [json.loads(l) for l in open(\"rr.json\")]
assert [x[\"recs\"] for x in r] == [[\"A\"], [\"B\"]], r"
	grep -q "^pea-recommend: $U/recs.json: switched to the new model $(sha R2.model | cut -c1-16)\.\.\.$" rr.err'

# signed manifests (pea publish --sign): releases only go forward
jget() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
srelease() { # MODEL [MANIFEST NAME]
	pea publish --sign k --name "${2:-signed}" "$1" www > /dev/null
	rel=$((rel + 10))
	touch -d "@$rel" "www/${2:-signed}.json"
}
put_back() { # an old manifest served again, under a new ETag
	cp "$1" www/signed.json
	rel=$((rel + 10))
	touch -d "@$rel" www/signed.json
}
SV="pea classify -m $U/signed.json --verify k.pub --cache-dir cs"
srelease A.model
cp www/signed.json signed-1.json
test "$(jget www/signed.json release)" = 1 || echo "release 1 expected" > release.err
srelease B.model # (not in a test: a subshell would not keep the time)
t 'pea publish numbers the releases of a name, and --sign signs the manifest' '
	test ! -e release.err
	test "$(jget www/signed.json release)" = 2
	test "$(jget www/signed.json manifest_signed_by)" = "$(jget www/spam.json signed_by)"
	$SV --json < in.pea > s2.json
	test "$(preds s2.json)" = "c d"'
put_back signed-1.json
t 'a server going back to release 1 (a rollback) is refused: release 2 goes on, with a warning' '
	$SV --json < in.pea > s3.json 2> s3.err
	test "$(preds s3.json)" = "c d"
	grep -q "^pea-classify: warning: $U/signed.json: release 1 is older than release 2, seen before: refused (a rollback): using the model cached on " s3.err'
t_err '... an error with --no-stale' 1 \
	"pea-classify: $U/signed.json: release 1 is older than release 2, seen before: refused (a rollback) (--no-stale: the cached model is not used)" \
	$SV --no-stale < in.pea
t_err 'the cached models deleted, the rollback is still refused: the pin outlives them' 1 \
	"pea-classify: $U/signed.json: release 1 is older than release 2, seen before: refused (a rollback)" \
	sh -c "rm cs/models/*.model; $SV < in.pea"
t 'a fetch without --verify cannot check, but keeps what the cache saw signed' '
	pea classify -m "$U/signed.json" --cache-dir cs --json < in.pea > s4.json
	test "$(preds s4.json)" = "a b"
	$SV --json < in.pea 2> s5.err > /dev/null
	grep -q "release 1 is older than release 2, seen before: refused (a rollback)" s5.err'
srelease C.model
python3 -c 'import json; m = json.load(open("www/signed.json")); del m["manifest_signature"]; json.dump(m, open("www/signed.json", "w"))'
rel=$((rel + 10))
touch -d "@$rel" www/signed.json
t_err 'a manifest whose signature was stripped is refused where a signed one was seen' 1 \
	"pea-classify: $U/signed.json: the manifest is not signed, where release 2 was: refused (--no-stale: the cached model is not used)" \
	$SV --no-stale < in.pea
srelease C.model
python3 -c 'import json; m = json.load(open("www/signed.json")); m["release"] = 99; json.dump(m, open("www/signed.json", "w"))'
rel=$((rel + 10))
touch -d "@$rel" www/signed.json
t_err 'a signed manifest changed since (its release number) is refused' 1 \
	"pea-classify: $U/signed.json: the manifest's signature is not key $(jget www/spam.json signed_by)'s, or the manifest was changed since: refused (--no-stale: the cached model is not used)" \
	$SV --no-stale < in.pea
srelease C.model
python3 -c 'import json; m = json.load(open("www/signed.json")); m["manifest_signature"] = "not base64!"; json.dump(m, open("www/garbled.json", "w"))'
t_err 'a signed manifest whose signature is not base64 is refused' 1 \
	"pea-classify: $U/garbled.json: not a pea manifest: a bad \"manifest_signature\", \"name\" or \"release\"" \
	pea classify -m "$U/garbled.json" --verify k.pub --cache-dir cg < in.pea
cp www/signed.json www/renamed.json
t_err 'a signed manifest served under another name is refused' 1 \
	"pea-classify: $U/renamed.json: the manifest is signed for 'signed', not for this URL: refused" \
	pea classify -m "$U/renamed.json" --verify k.pub --cache-dir cs < in.pea
t 'the next signed release is taken' '
	$SV --json < in.pea > s6.json
	test "$(preds s6.json)" = "e f"'
python3 -c 'import json; json.dump({"release": 7, "labels": ["x" * 100] * 1000}, open("www/big.json", "w"))'
t 'pea publish numbers on from a large manifest (100 KB of labels)' '
	pea publish --name big A.model www > /dev/null
	test "$(jget www/big.json release)" = 8'
head -c 1048577 /dev/zero > www/huge.json
t_err 'pea publish refuses a manifest larger than clients read, naming no option' 1 \
	"pea-publish: www/huge.json: file of 1048577 bytes exceeds the limit of 1048576" \
	pea publish --name huge A.model www
echo "not json" > www/broken.json
t_err 'pea publish will not renumber over a manifest it cannot read' 1 \
	"pea-publish: www/broken.json: not a pea manifest (move it away to start the releases of this name again)" \
	pea publish --name broken A.model www

S="https://127.0.0.1:$SPORT"
if [ -n "$TLS" ]; then
	unset CURL_CA_BUNDLE SSL_CERT_FILE # this machine's own: the tests name theirs
	t 'https: a model from a server whose authority CURL_CA_BUNDLE names, verified, classifying as over http' '
		CURL_CA_BUNDLE=tls.crt XDG_CACHE_HOME="$TMP/cache-tls" pea classify -m "$S/spam.json" --verify k.pub --json < in.pea > tls.json
		pea classify -m "$U/spam.json" --json < in.pea > plain.json
		cmp tls.json plain.json
		test "$(hits "/$(sha C.model).model 200")" -ge 1'
	t 'https: SSL_CERT_FILE names the authority as well' '
		SSL_CERT_FILE=tls.crt XDG_CACHE_HOME="$TMP/cache-tls2" pea classify -m "$S/spam.json" --json < in.pea > tls2.json
		cmp tls2.json plain.json'
	t_err 'https: a certificate no trusted authority signed is refused' 1 \
		"pea-classify: $S/spam.json: SSL certificate problem: *" \
		env XDG_CACHE_HOME="$TMP/cache-tls3" pea classify -m "$S/spam.json" < in.pea
	t 'https: pea scrape fetches pages the same way' '
		echo "<html><head><title>Over TLS</title></head><body><p>sealed text</p></body></html>" > www/page.html
		CURL_CA_BUNDLE=tls.crt pea scrape -q "$S/page.html" | pea cat --json > page.json
		grep -q "sealed text" page.json'
else
	for c in 'https model' 'https SSL_CERT_FILE' 'https refused' 'https scrape'; do
		t_skip "$c" "openssl cannot make a certificate here (Debian openssl)"
	done
fi
done_testing
