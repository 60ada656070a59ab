# pea-image: IDX, PNG, JPEG, folders and records into dense + shape; every
# bad input is a one-line error naming the file or record.
. "$PEA_SRC/tests/cli/lib.sh"
I="$DATA/img"
js() { pea image "$@" --json; }

t 'IDX of every element type gives the same values' '
	for ty in byte short int float double; do
		js "$I/idx-$ty" --raw > $ty.json
	done
	test "$(wc -l < byte.json)" = 3
	grep -q "\"dense\":\[6.0,7.0,8.0,9.0,10.0,11.0\],\"shape\":\[1,2,3\]" byte.json
	grep -q "\[-1.0,-2.0,100.0,120.0,127.0,50.0\]" byte.json
	for ty in short int float double; do cmp byte.json $ty.json; done
'
t 'IDX unsigned bytes are scaled to [0,1], gzip or plain, with labels' '
	js "$I/idx-ubyte" --labels "$I/labels" > a.json
	js "$I/idx-ubyte.gz" --labels "$I/labels" > b.json
	cmp a.json b.json
	head -1 a.json | grep -q "^{\"id\":0,\"label\":\"4\",\"dense\":\[0.0,0.003921569,"
	sed -n 3p a.json | grep -q "\"label\":\"9\",\"dense\":\[1.0,"
	js "$I/idx-ubyte" --raw | sed -n 3p | grep -q "\[255.0,254.0,100.0,120.0,127.0,50.0\]"
'
t 'PNG gray, RGB, RGBA, palette and 16-bit' '
	js "$I/gray.png" | grep -q "\"shape\":\[1,6,8\]"
	js "$I/rgb.png" | grep -q "\"shape\":\[3,6,8\]"
	js "$I/rgba.png" | grep -q "\"shape\":\[3,6,8\]"
	js "$I/palette.png" | grep -q "\"shape\":\[3,6,8\]"
	js "$I/gray16.png" | grep -q "\"shape\":\[1,6,8\]"
	# 16-bit samples v*257 scale to the same values as the 8-bit image
	js "$I/gray.png" | grep -o "\"dense\":\[[^]]*\]" | tr , "\n" | cut -c1-6 > g8
	js "$I/gray16.png" | grep -o "\"dense\":\[[^]]*\]" | tr , "\n" | cut -c1-6 > g16
	cmp g8 g16
	js "$I/gray16.png" --raw | grep -q "\"dense\":\[0.0,9252.0,"
	# the red plane of the RGB image is the gray image
	js "$I/rgb.png" --raw | grep -q "\"dense\":\[0.0,36.0,72.0,109.0,145.0,182.0,218.0,255.0,7.0,"
	js "$I/rgba.png" --raw | grep -q "\"dense\":\[0.0,36.0,72.0,"
'
t 'JPEG gray and RGB, DCT-scaled when shrinking' '
	js "$I/rgb.jpg" | grep -q "\"shape\":\[3,24,32\]"
	js "$I/gray.jpg" | grep -q "\"shape\":\[1,24,32\]"
	js "$I/rgb.jpg" --size 8x6 | grep -q "\"shape\":\[3,6,8\]"
	js "$I/rgb.jpg" --size 8x6 --gray | grep -q "\"shape\":\[1,6,8\]"
	js "$I/rgb.jpg" --size 64x48 | grep -q "\"shape\":\[3,48,64\]"
'
t '--size averages areas exactly when shrinking, interpolates when enlarging' '
	js "$I/blocks.png" --size 2x2 --raw | grep -q "\"dense\":\[0.0,255.0,255.0,0.0\],\"shape\":\[1,2,2\]"
	js "$I/blocks.png" --size 1x1 --raw | grep -q "\"dense\":\[127.5\]"
	js "$I/blocks.png" --size 8x8 | grep -q "\"shape\":\[1,8,8\]"
'
t '--gray, --rgb, --mean and --std' '
	js "$I/gray.png" --rgb | grep -q "\"shape\":\[3,6,8\]"
	js "$I/rgb.png" --gray | grep -q "\"shape\":\[1,6,8\]"
	js "$I/blocks.png" --mean 0.5 --std 0.5 | grep -q "\"dense\":\[-1.0,-1.0,1.0,1.0,"
	js "$I/rgb.png" --mean 0,0,0 --std 1,1,1 > /dev/null
	nope pea image "$I/gray.png" --mean 0,0,0 --json
'
t 'folders: subfolder names are labels, in a fixed order' '
	mkdir -p set/cat set/dog/more set/.hidden
	cp "$I/gray.png" set/cat/b.png; cp "$I/gray.jpg" set/cat/a.jpg
	cp "$I/rgb.png" set/dog/more/c.png; cp "$I/rgb.png" set/.hidden/x.png
	pea image set --gray --size 4x3 | pea export --tsv --fields path,label > l.tsv
	printf "set/cat/a.jpg\tcat\nset/cat/b.png\tcat\nset/dog/more/c.png\tdog\n" | cmp - l.tsv
'
t 'records carrying image bytes: fields pass through, bytes become dense' '
	for f in gray.png rgb.jpg; do
		printf "{\"url\":\"http://x/%s\",\"body\":{\"base64\":\"%s\"}}\n" $f "$(base64 -w0 "$I/$f")"
	done > r.jsonl
	pea import r.jsonl > rec.pea
	pea image rec.pea --json > out.json
	head -1 out.json | grep -q "^{\"url\":\"http://x/gray.png\",\"dense\":\[0.0,0.14117648,"
	head -1 out.json | grep -q "\"shape\":\[1,6,8\]}$"
	sed -n 2p out.json | grep -q "\"shape\":\[3,24,32\]}$"
	nope grep -q body out.json
	pea image -j 2 --json < rec.pea | cmp - out.json
	pea image rec.pea --gray --size 4x4 | pea image --json -f nothing 2>&1 | grep -q "no field .nothing."
'
t_err 'a record with a broken image names it' 1 'pea-image: bad.jsonl: line 1: http://x/t.png: truncated PNG' sh -c 'printf "{\"url\":\"http://x/t.png\",\"body\":{\"base64\":\"%s\"}}\n" "$(head -c 50 "'"$I"'/rgb.png" | base64 -w0)" > bad.jsonl; pea image bad.jsonl'
# ---- bad input ----
head -c 60 "$I/rgb.png" > trunc.png
cp "$I/rgb.png" crc.png; printf "\000" | dd of=crc.png bs=1 seek=30 conv=notrunc 2> /dev/null
cp "$I/rgb.png" crc2.png; printf "\000\000" | dd of=crc2.png bs=1 seek=73 conv=notrunc 2> /dev/null
head -c 700 "$I/rgb.jpg" > trunc.jpg
{ printf "\377\330\377"; head -c 300 "$I/rgb.png"; } > garbage.jpg
head -c 30 "$I/idx-ubyte" > short.idx
cat "$I/idx-ubyte" "$I/labels" > long.idx
printf "hello" > notimage.png
mkdir -p unread/cat; cp "$I/gray.png" unread/cat/ok.png; ln -s /nonexistent/x.png unread/cat/gone.png
t_err 'truncated PNG' 1 'pea-image: trunc.png: truncated PNG' pea image trunc.png
t_err 'bad CRC in a header' 1 'pea-image: crc.png: bad CRC in PNG' pea image crc.png
t_err 'bad CRC after the image data' 1 'pea-image: crc2.png: bad CRC in PNG' pea image crc2.png
t_err 'truncated JPEG' 1 'pea-image: trunc.jpg: truncated JPEG' pea image trunc.jpg
t_err 'JPEG garbage' 1 'pea-image: garbage.jpg: corrupt JPEG: *' pea image garbage.jpg
t_err 'a PNG header claiming 100000x100000' 1 'pea-image: */huge.png: image of 100000x100000 pixels exceeds the limit of 40000000 (--max-pixels)' pea image "$I/huge.png"
t_err '--max-pixels' 1 'pea-image: */rgb.png: image of 8x6 pixels exceeds the limit of 47 (--max-pixels)' pea image --max-pixels 47 "$I/rgb.png"
t_err '--max-bytes' 1 'pea-image: */rgb.jpg: file of 1173 bytes exceeds the limit of 1000 (--max-bytes)' pea image --max-bytes 1000 "$I/rgb.jpg"
t_err 'an IDX whose header size exceeds the file' 1 'pea-image: short.idx: IDX header promises 34 bytes, the file has 30' pea image short.idx
t_err 'an IDX with data after its items' 1 'pea-image: long.idx: IDX header promises 34 bytes, the file has 45' pea image long.idx
t_err 'a truncated gzip IDX' 1 'pea-image: short.gz: truncated IDX: item 3 of 3 is incomplete' sh -c 'gzip -c short.idx > short.gz; pea image short.gz'
t_err 'labels that do not match' 1 'pea-image: */labels: 3 labels for 1 images in one.idx' sh -c '{ printf "\\000\\000\\010\\003\\000\\000\\000\\001\\000\\000\\000\\002\\000\\000\\000\\003"; head -c 6 /dev/zero; } > one.idx; pea image one.idx --labels "'"$I"'/labels"'
t_err 'not an image' 1 'pea-image: notimage.png: not an image, IDX file or record stream' pea image notimage.png
t_err 'a directory with unreadable files' 1 'pea-image: unread/cat/gone.png: No such file or directory' pea image unread
t 'skip-bad counts and reports' '
	pea image unread --skip-bad 2> err.txt | pea count > n.txt
	test "$(cat n.txt)" = 1
	grep -qx "pea-image: 1 bad image skipped (the first: unread/cat/gone.png: No such file or directory)" err.txt
'
t_err 'a record without image bytes' 1 'pea-image: x.jsonl: line 1: http://x/a: no field '"'body'"' with image bytes' sh -c 'echo "{\"url\":\"http://x/a\"}" > x.jsonl; pea image x.jsonl'
t_err 'usage: --gray with --rgb' 2 'pea-image: give one of --gray or --rgb' pea image --gray --rgb "$I/rgb.png"
t_err 'usage: bad --size' 2 "pea-image: --size wants WxH (e.g. 28x28), not '28'" pea image --size 28 "$I/rgb.png"
t 'pea scrape passes images on to pea image' '
	mkdir -p pics
	cp "$DATA/img/gray.png" "$DATA/img/gray.jpg" pics/
	pea scrape -q pics | pea image --size 4x4 --gray | pea export --tsv --fields content_type,shape | sort > s.tsv
	printf "image/jpeg\t[1,4,4]\nimage/png\t[1,4,4]\n" | cmp - s.tsv
'
t 'mail records keep their header block' '
	pea scrape -q "$DATA/scrape/nested.eml" | pea export --tsv --fields headers > h.tsv
	tr -d "\\\\" < h.tsv | grep -q "^From: Carol <carol@example.com>nTo: dave@example.com"
'
done_testing
