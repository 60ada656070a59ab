# Bad input: one clear line naming program, file and place; exit 1; never a
# crash and never silently dropped records.
. "$PEA_SRC/tests/cli/lib.sh"
MK="$PEA_BUILD/tests/mkframe"

pea import "$DATA/mixed.jsonl" > one.pea
size=$(stat -c %s one.pea)
cat one.pea one.pea > two.pea

head -c $((size - 5)) one.pea > cut.pea
t_err 'a truncated payload' 1 "pea-cat: cut.pea: frame 1 at byte 0: unexpected end of file ($((size - 37)) of $((size - 32)) payload bytes)" pea cat cut.pea
head -c 20 one.pea > cuthdr.pea
t_err 'a truncated header' 1 'pea-cat: cuthdr.pea: frame 1 at byte 0: unexpected end of file in the frame header' pea cat cuthdr.pea
cat one.pea cut.pea > onecut.pea
t_err 'truncation in the second frame names it' 1 "pea-count: onecut.pea: frame 2 at byte $size: unexpected end of file*" pea count onecut.pea

cp two.pea flip.pea
printf '\x55' | dd of=flip.pea bs=1 seek=$((size + 40)) conv=notrunc 2>/dev/null
t_err 'a flipped byte in frame 2' 1 "pea-cat: flip.pea: frame 2 at byte $size: checksum mismatch" pea cat flip.pea
t_err 'count --check sees it too' 1 "pea-count: flip.pea: frame 2 at byte $size: checksum mismatch" pea count --check flip.pea
cp two.pea flip2.pea
printf '\x01' | dd of=flip2.pea bs=1 seek=$((size + 13)) conv=notrunc 2>/dev/null
t_err 'a damaged record count' 1 "pea-cat: flip2.pea: frame 2 at byte $size: checksum mismatch" pea cat flip2.pea
{ cat one.pea; printf 'garbage after the frame'; } > junk.pea
t_err 'garbage between frames' 1 "pea-cat: junk.pea: frame 2 at byte $size: bad magic (not a pea frame)" pea cat junk.pea

"$MK" huge > huge.pea
t_err 'an absurd payload size, refused before allocating' 1 'pea-cat: huge.pea: frame 1 at byte 0: payload size * over the limit of *' pea cat huge.pea
"$MK" badutf8 > u.pea
t_err 'invalid UTF-8 in a string field' 1 "pea-cat: u.pea: frame 1 at byte 0: record 1: invalid UTF-8 in text field 'text'" pea cat u.pea
"$MK" dupfield > d.pea
t_err 'a field twice in a record' 1 "pea-cat: d.pea: frame 1 at byte 0: record 1 has field 'text' twice" pea cat d.pea
"$MK" overrun > o.pea
t_err 'a length past the payload' 1 "pea-cat: o.pea: frame 1 at byte 0: record 1: field 'text' runs past the end of the payload" pea cat o.pea
"$MK" badfield > b.pea
t_err 'a field index outside the table' 1 "pea-cat: b.pea: frame 1 at byte 0: record 1 refers to field 4 of 1" pea cat b.pea
"$MK" unsorted > s.pea
t_err 'sparse indices out of order' 1 "pea-cat: s.pea: frame 1 at byte 0: record 1: sparse field 'x': indices not strictly increasing" pea cat s.pea

printf '{"a":1}\n{"a":2}\n{"a":3,}\n{"a":4}\n' > bad.jsonl
t_err 'malformed JSON names the line' 1 'pea-import: bad.jsonl: line 3: invalid JSON at column *' pea import bad.jsonl
printf '{"a":1}\n\n[1]\n' > arr.jsonl
t_err 'a JSON line that is not an object' 1 'pea-cat: arr.jsonl: line 3: not a JSON object (each line must be {...})' pea cat arr.jsonl
printf '{"t":"ok"}\n{"t":"\xc3"}\n' > u8.jsonl
t_err 'invalid UTF-8 in JSON' 1 'pea-import: u8.jsonl: line 2: invalid JSON*' pea import u8.jsonl
printf 'a,b\n1,2\n3\n' > short.csv
t_err 'a short CSV row names the line' 1 'pea-import: short.csv: line 3: 1 fields, the header has 2' pea import short.csv
printf 'ok\n\xff\n' > bad.txt
t_err 'invalid UTF-8 in text' 1 'pea-import: bad.txt: line 2: invalid UTF-8' pea import --text bad.txt
t_err 'a missing file' 1 'pea-cat: nope.pea: No such file or directory' pea cat nope.pea
mkdir adir
t_err 'a directory' 1 'pea-cat: adir: is a directory' pea cat adir
t_err 'a field of the wrong type names the record' 1 "pea-grep: one.pea: frame 1 at byte 0: record 1: field 'id' is int, not text" pea grep -f id x one.pea
t_err 'an unknown option is a usage error' 2 "pea-cat: unknown option '--nope'*" pea cat --nope
t_err 'a bad pattern is a usage error' 2 'pea-grep: pattern error at offset 1: *' pea grep '(' one.pea

t 'an error leaves no output file behind' '
	nope pea import -o out.pea bad.jsonl 2>/dev/null
	nope test -e out.pea
	test -z "$(ls | grep tmp- || true)"
'
t 'a closed pipe ends quietly with status 0' '
	seq 1 300000 | sed "s/.*/{\"id\":&,\"text\":\"some text to fill frames &\"}/" | pea import > big.pea
	pea cat --json big.pea 2> err | head -1 > /dev/null
	test "${PIPESTATUS[0]}" = 0
	test ! -s err
	pea cat big.pea 2> err2 | head -c 10 > /dev/null
	test "${PIPESTATUS[0]}" = 0
	test ! -s err2
'
done_testing
