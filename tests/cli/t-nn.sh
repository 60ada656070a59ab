# pea train --algo mlp / cnn and pea classify with networks: learning a tiny
# set, bit-identical models at any thread count, checkpoints and --init,
# sparse input, and clear errors for a mismatched model or a bad network.
. "$PEA_SRC/tests/cli/lib.sh"

# 80 images of 8x8: four classes, a bright quadrant each, with noise
awk 'BEGIN{srand(3); for(i=0;i<80;i++){q=i%4; printf "{\"id\":%d,\"label\":\"q%d\",\"dense\":[",i,q;
	for(r=0;r<8;r++)for(c=0;c<8;c++){v=((r<4)==(q<2))*((c<4)==(q%2==0))?0.8:0.1; v+=rand()*0.3;
	printf "%s%.3f",(r||c)?",":"",v}; printf "],\"shape\":[1,8,8]}\n"}}' > quad.jsonl
pea import quad.jsonl > quad.pea
NET='conv3x3:4,relu,maxpool2,fc:8,relu,fc'
train() { pea train -q --epochs 15 --batch 16 --lr 0.01 "$@"; }
acc() { pea classify -m "$1" quad.pea | pea eval | head -1 | awk '{print $4}'; }

t 'a CNN learns a tiny set to 100 %' '
	train --algo cnn --net "$NET" -o cnn.model quad.pea
	test "$(acc cnn.model)" = "100.00%"
'
t 'so does an MLP, and the default networks build' '
	train --algo mlp -o mlp.model quad.pea
	test "$(acc mlp.model)" = "100.00%"
	pea train -q --algo cnn --epochs 1 --shape 1x8x8 --net "conv3x3:8,bn,relu,avgpool2,fc:16,relu,dropout:0.3,fc" -o bn.model quad.pea
	pea train -q --algo cnn --epochs 1 -o default.model quad.pea
	pea train --show default.model | grep -q "\"net\": \"conv3x3:64:p1,bn,relu,maxpool2,conv3x3:128"
'
t 'the same seed gives the same model file at 1, 2 and 3 threads' '
	train --algo cnn --net "conv3x3:4,bn,relu,maxpool2,fc:8,relu,dropout:0.2,fc" --augment 1 --seed 7 -j 1 -o a.model quad.pea
	train --algo cnn --net "conv3x3:4,bn,relu,maxpool2,fc:8,relu,dropout:0.2,fc" --augment 1 --seed 7 -j 2 -o b.model quad.pea
	train --algo cnn --net "conv3x3:4,bn,relu,maxpool2,fc:8,relu,dropout:0.2,fc" --augment 1 --seed 7 -j 3 -o c.model quad.pea
	cmp a.model b.model
	cmp a.model c.model
	train --algo cnn --net "conv3x3:4,bn,relu,maxpool2,fc:8,relu,dropout:0.2,fc" --augment 1 --seed 8 -j 2 -o d.model quad.pea
	nope cmp -s a.model d.model
'
t 'predictions survive saving and loading, at any thread count' '
	pea classify -j 1 -m cnn.model quad.pea | pea export --tsv --fields pred > p1
	pea classify -j 2 -m cnn.model quad.pea | pea export --tsv --fields pred > p2
	cmp p1 p2
	pea export --tsv --fields label quad.pea | cmp - p1
'
t 'checkpoints every epoch, and --init resumes' '
	train --algo cnn --net "$NET" --epochs 3 --checkpoint ck.model -o three.model quad.pea
	pea classify -m ck.model quad.pea | pea export --tsv --fields pred,probs > c1
	pea classify -m three.model quad.pea | pea export --tsv --fields pred,probs > c2
	cmp c1 c2
	train --algo cnn --init ck.model --epochs 12 -o resumed.model quad.pea
	test "$(acc resumed.model)" = "100.00%"
'
t 'an MLP on sparse features (text)' '
	awk "BEGIN{srand(5); for(i=0;i<80;i++){q=i%2; printf \"{\\\"label\\\":\\\"c%d\\\",\\\"features\\\":{\", q;
		for(j=0;j<5;j++) printf \"%s\\\"%d\\\":1\", (j?\",\":\"\"), j*10+q*5+int(rand()*3); printf \"}}\\n\"}}" > sp.jsonl
	pea import sp.jsonl > sp.pea
	pea train -q --algo mlp --epochs 10 --batch 8 --lr 0.01 -o sp.model sp.pea
	pea classify -m sp.model sp.pea | pea eval | head -1 | grep -q "accuracy 100.00%"
	pea train --show sp.model | grep -q "\"input\": \"sparse\""
'
t_err 'a model for other images' 1 'pea-classify: wide.pea: frame 1 at byte 0: record 1: the model takes images of 1x8x8 (channels x height x width), the record'"'"'s shape is 1x4x16' \
	sh -c 'sed "s/\"shape\":\[1,8,8\]/\"shape\":[1,4,16]/" quad.jsonl | pea import > wide.pea; pea classify -m cnn.model wide.pea'
t_err 'a model for dense input given sparse' 1 'pea-classify: sp.pea: frame 1 at byte 0: record 1: the model takes dense features, the record has sparse ones' \
	pea classify -m cnn.model sp.pea
t_err 'a bad layer' 1 "pea-train: net: bad layer 'banana' (layers: *" \
	pea train -q --algo cnn --net conv3x3:4,banana,fc -o x.model quad.pea
t_err 'conv after fc' 1 "pea-train: net: 'conv3x3:2' needs an image, but comes after fc" \
	pea train -q --algo cnn --net fc:8,conv3x3:2,fc -o x.model quad.pea
t_err 'a CNN on sparse features' 1 'pea-train: --algo cnn needs images (dense vectors), the records have sparse features' \
	pea train -q --algo cnn -o x.model sp.pea
t_err 'a shape that does not fit' 1 "pea-train: --shape '3x8x8' is not CxHxW of 64 values" \
	pea train -q --algo cnn --shape 3x8x8 -o x.model quad.pea
t_err 'network options mean nothing to svm' 1 'pea-train: --net means nothing to --algo svm' \
	pea train -q --algo svm --net fc -o x.model quad.pea
t_err 'networks do not merge' 1 'pea-train: cannot merge: networks cannot be merged*' \
	pea train --merge -o m.model cnn.model cnn.model
done_testing
