# Keys, signatures and publishing models (pea keygen, sign, publish).
. "$PEA_SRC/tests/cli/lib.sh"

printf '{"label":"a","features":{"1":1.0}}\n{"label":"b","features":{"2":1.0}}\n' > d.jsonl
pea train --algo nb -q -o m.model d.jsonl

t 'keygen makes a private key 0600 and a public key, and never overwrites' '
	pea keygen -o k > out.txt
	test "$(stat -c %a k)" = 600
	grep -q "^pea-ed25519-public-key " k.pub
	grep -q "^fingerprint: [0-9a-f]\{16\}$" out.txt
	nope grep -q "$(cut -d" " -f2 k)" out.txt
	nope pea keygen -o k 2>/dev/null
'
pea keygen -o other > /dev/null
t 'sign, then verify' '
	cp m.model s.model
	pea sign --key k s.model
	pea sign --verify k.pub s.model | grep -q "^s.model: good signature by [0-9a-f]\{16\}, digest [0-9a-f]\{32\}$"
	pea sign --key k -o s2.model m.model
	pea sign --verify k.pub s2.model > /dev/null
'
t 'train --sign signs the model it writes; --verify checks it wherever it is loaded' '
	pea train --algo nb -q --sign k -o ts.model d.jsonl
	pea sign --verify k.pub ts.model | grep -q "^ts.model: good signature by "
	pea train --show ts.model --verify k.pub | grep -q "^digest [0-9a-f]\{32\}$"
	pea import d.jsonl | pea classify -m ts.model --verify k.pub > /dev/null
	nope pea train --show ts.model --verify other.pub 2> /dev/null
	nope grep -q "$(cut -d" " -f2 k)" ts.model
'
t_err 'train --sign with a public key is refused' 1 "pea-train: k.pub: not a pea secret key file" \
	pea train --algo nb -q --sign k.pub -o x.model d.jsonl
t_err 'classify --verify refuses an unsigned model' 1 "pea-classify: m.model: the model is not signed (expected key *)" \
	pea classify -m m.model --verify k.pub d.jsonl
t_err 'an unsigned model is refused' 1 "pea-sign: m.model: the model is not signed (expected key *)" pea sign --verify k.pub m.model
t_err 'a model signed by another key is refused' 1 "pea-sign: s.model: the model is signed by key *, not by *" pea sign --verify other.pub s.model
cp s.model bad.model
printf 'X' | dd of=bad.model bs=1 seek=200 conv=notrunc 2>/dev/null
t_err 'a changed byte is refused' 1 "pea-sign: bad.model: model digest mismatch: the file is damaged" pea sign --verify k.pub bad.model
t_err 'a public key cannot sign' 1 "pea-sign: k.pub: not a pea secret key file" pea sign --key k.pub m.model

t 'publish: a content-named model and an atomic manifest' '
	mkdir www
	pea publish s.model www > out.txt
	sha=$(sha256sum s.model | cut -d" " -f1)
	test -f "www/$sha.model"
	cmp s.model "www/$sha.model"
	grep -q "\"sha256\": \"$sha\"" www/s.json
	grep -q "\"model\": \"$sha.model\"" www/s.json
	grep -q "\"algo\": \"nb\"" www/s.json
	grep -q "\"signed_by\": \"[0-9a-f]\{16\}\"" www/s.json
	grep -q "\"labels\": \[" www/s.json
	pea publish --name spam s.model www > /dev/null
	test -f www/spam.json
	test "$(ls www | wc -l)" = 3
	test -z "$(ls www | grep tmp || true)"
'
t_err 'publish --verify refuses an unsigned model' 1 "pea-publish: m.model: the model is not signed*" pea publish --verify k.pub m.model www
done_testing
