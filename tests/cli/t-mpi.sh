# pea train --mpi on several ranks of this machine (mpirun --oversubscribe):
# naive Bayes identical to one process, logreg and svm as accurate, the same
# model on every run, networks split their batches, a bad shard on one rank
# ends every rank, and the usage errors.  Skipped (not passed) when pea was
# built without MPI or mpirun is missing.
. "$PEA_SRC/tests/cli/lib.sh"

if [ -z "${PEA_MPI:-}" ] || ! command -v mpirun > /dev/null; then
	why="pea was built without MPI (meson -Dmpi=enabled, Debian libopenmpi-dev openmpi-bin)"
	if [ -n "${PEA_MPI:-}" ]; then why="no mpirun on PATH (Debian openmpi-bin)"; fi
	for c in 'nb identical' 'logreg' 'svm' 'feature of one rank' 'threads' 'networks' 'sparse networks refused' \
		'bad shard' 'shared text refused' \
		'usage' 'usage merge' 'usage recommender'; do
		t_skip "$c" "$why"
	done
	done_testing
	exit
fi
. "$PEA_SRC/tests/cli/mpi.sh"

# the corpus of t-learn.sh: ham and spam from two overlapping vocabularies
awk 'BEGIN {
	split("meeting report lunch schedule team project review budget notes draft agenda call", ham)
	split("free winner cash offer click prize viagra cheap deal money unsubscribe urgent", spam)
	split("the a to and of you your we this please", common)
	s = 7
	for (i = 0; i < 600; i++) {
		lab = i % 3 ? "ham" : "spam"
		text = ""
		for (w = 0; w < 12; w++) {
			s = (s * 1103515245 + 12345) % 2147483648
			r = int(s / 65536) % 100
			k = int(s / 256) % 12 + 1
			if (r < 40) word = common[k % 10 + 1]
			else if (r < 88) word = (lab == "ham" ? ham[k] : spam[k])
			else word = (lab == "ham" ? spam[k] : ham[k])
			text = text (w ? " " : "") word
		}
		printf "{\"id\":\"m%d\",\"label\":\"%s\",\"text\":\"%s\"}\n", i, lab, text
	}
}' > mail.jsonl
pea tokenize -q mail.jsonl | pea vectorize -q --bits 12 --unsigned -o countsall.pea
pea tokenize -q mail.jsonl | pea vectorize -q --bits 12 -o all.pea
for f in countsall all; do
	pea split --test 0.25 --by id -o "${f}-train.pea,${f}-test.pea" "$f.pea"
	for n in 2 3; do pea split --shards $n --by id -o "$f-$n-%d.pea" "$f-train.pea"; done
	# one shared file of many frames (frames concatenate)
	cat "$f"-3-*.pea "$f"-2-*.pea > "$f-frames.pea"
done
acc() { pea classify -m "$1" "$2" | pea eval --json | sed 's/.*"accuracy":\([0-9.]*\).*/\1/'; }
# |a - b| <= d, in accuracy points
near() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { x = 100 * (a - b); if (x < 0) x = -x; if (x > d) { print a " and " b " differ by " x " points"; exit 1 } }'; }

t 'nb: 2 and 3 ranks, own shards or shared frames, make the single-process model byte for byte' '
	pea train -q --algo nb -o one.model countsall-train.pea
	pea train -q --algo nb -o frames.model countsall-frames.pea
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo nb -o two.model "countsall-2-%r.pea"
	mpirun_ -np 3 pea-train --mpi -q -j 1 --algo nb -o three.model "countsall-3-%r.pea"
	mpirun_ -np 3 pea-train --mpi -q -j 1 --algo nb -o striped.model countsall-frames.pea
	cmp one.model two.model
	cmp one.model three.model
	cmp frames.model striped.model
	test "$(acc one.model countsall-test.pea)" = "$(acc three.model countsall-test.pea)"'
# (on 150 test records one record is 0.67 points: the 0.5-point check on the
# SpamAssassin split is in t-mpi-spam.sh)
t 'logreg: 2 and 3 ranks within 2 accuracy points of one process; the same model on every run' '
	pea train -q --algo logreg -o one.model all-train.pea
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo logreg -o two.model "all-2-%r.pea"
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo logreg -o two-again.model "all-2-%r.pea"
	mpirun_ -np 3 pea-train --mpi -q -j 1 --algo logreg -o three.model all-frames.pea
	cmp two.model two-again.model
	a1=$(acc one.model all-test.pea)
	near "$a1" "$(acc two.model all-test.pea)" 2
	near "$a1" "$(acc three.model all-test.pea)" 2
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo logreg --l1 0.001 -o ftrl.model "all-2-%r.pea"
	pea train -q --algo logreg --l1 0.001 -o ftrl1.model all-train.pea
	near "$(acc ftrl1.model all-test.pea)" "$(acc ftrl.model all-test.pea)" 2'
t 'svm: 2 ranks (CoCoA) as accurate as one process, the same model on every run, labels only one rank has' '
	pea train -q --algo svm -o one.model all-train.pea
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo svm -o two.model "all-2-%r.pea"
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo svm -o two-again.model "all-2-%r.pea"
	cmp two.model two-again.model
	near "$(acc one.model all-test.pea)" "$(acc two.model all-test.pea)" 1
	# a third label on rank 1 only: every rank learns three columns
	pea cat --json all-2-1.pea | head -5 | sed "s/\"label\":\"[a-z]*\"/\"label\":\"other\"/" | pea cat -o odd.pea
	cat all-2-1.pea odd.pea > with-1.pea
	cp all-2-0.pea with-0.pea
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo svm -o three.model "with-%r.pea"
	pea train --show three.model | tr -d " \n" | grep -q "\"labels\":\[\"ham\",\"other\",\"spam\"\]"'

# A word only rank 1's records have, always spam: the mixes carry only the
# features some rank has, and this one must be among them, or rank 0 (which
# writes the model) would never learn it.
for i in 1 2 3 4 5 6; do echo "{\"id\":\"z$i\",\"label\":\"spam\",\"text\":\"zzqx the a\"}"; done \
	| pea tokenize -q | pea vectorize -q --bits 12 -o zz.pea
cat all-2-1.pea zz.pea > zz-1.pea
cp all-2-0.pea zz-0.pea
echo '{"id":"q","text":"zzqx"}' | pea tokenize -q | pea vectorize -q --bits 12 -o zzq.pea
t 'logreg and svm on 2 ranks learn a feature only one rank has' '
	for a in logreg svm; do
		mpirun_ -np 2 pea-train --mpi -q -j 1 --algo $a -o zz-$a.model "zz-%r.pea"
		pea classify -m zz-$a.model zzq.pea | pea cat --json | grep -q "\"pred\":\"spam\""
	done'
# networks: 120 images of 8x8, a bright quadrant each
awk 'BEGIN{srand(3); for(i=0;i<120;i++){q=i%4; printf "{\"id\":%d,\"label\":\"q%d\",\"dense\":[",i,q;
	for(r=0;r<8;r++)for(c=0;c<8;c++){v=((r<4)==(q<2))*((c<4)==(q%2==0))?0.8:0.1; v+=rand()*0.3;
	printf "%s%.3f",(r||c)?",":"",v}; printf "],\"shape\":[1,8,8]}\n"}}' > quad.jsonl
pea import quad.jsonl -o quad.pea
pea split --shards 2 --by id -o "quad-%d.pea" quad.pea
t 'ranks x threads: logreg, svm and mlp give the same model at -j 1 and -j 2' '
	for a in logreg svm; do
		mpirun_ -np 2 pea-train --mpi -q -j 1 --algo $a -o j1-$a.model "all-2-%r.pea"
		mpirun_ -np 2 pea-train --mpi -q -j 2 --algo $a -o j2-$a.model "all-2-%r.pea"
		cmp j1-$a.model j2-$a.model
	done
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo mlp --epochs 3 --batch 16 -o j1-mlp.model "quad-%r.pea"
	mpirun_ -np 2 pea-train --mpi -q -j 2 --algo mlp --epochs 3 --batch 16 -o j2-mlp.model "quad-%r.pea"
	cmp j1-mlp.model j2-mlp.model'
NET='conv3x3:4,bn,relu,maxpool2,fc:8,relu,fc'
t 'cnn: 2 ranks share every batch, learn the set, and give the same model on every run' '
	for i in a b; do
		mpirun_ -np 2 pea-train --mpi -q -j 1 --algo cnn --net "$NET" --epochs 15 --batch 16 --lr 0.01 \
			-o cnn-$i.model "quad-%r.pea"
	done
	cmp cnn-a.model cnn-b.model
	test "$(acc cnn-a.model quad.pea)" = 1.0
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo mlp --epochs 15 --batch 16 --lr 0.01 -o mlp.model "quad-%r.pea"
	test "$(acc mlp.model quad.pea)" = 1.0'
# an error every rank meets: every rank says it, and nothing else is said
# (but for Open MPI's runtime, whose lines start "[host:pid] ", and which
# may log a race of its own when every rank aborts at once)
t_err_ranks() { # DESCRIPTION MESSAGE COMMAND...
	local desc=$1 msg=$2
	shift 2
	t "$desc" "
		if $* 2> ranks.err; then echo unexpected success; exit 1; fi
		cat ranks.err
		test \"\$(grep -v '^\\[[^]]*\\] ' ranks.err | sort -u)\" = \"$msg\""
}
t_err_ranks 'networks over sparse features refuse several ranks' \
	'pea-train: networks over sparse features train on one rank only (dense inputs train on several)' \
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo mlp -o x.model "all-2-%r.pea"

# a shard cut short: rank 1 fails, and every rank ends
head -c 3000 all-2-1.pea > bad-1.pea
cp all-2-0.pea bad-0.pea
t 'a bad shard on rank 1 ends every rank with its message' '
	if mpirun_ -np 2 pea-train --mpi -q -j 1 --algo logreg -o bad.model "bad-%r.pea" 2> bad.err; then
		echo "unexpected success"; exit 1
	fi
	grep -q "^pea-train: bad-1.pea: frame 1 at byte 0: unexpected end of file" bad.err
	test ! -e bad.model'
t_err_ranks 'a shared text file is refused' \
	'pea-train: mail.jsonl: only a file of pea frames can be shared by several readers (convert it with pea cat -o, or give each its own file)' \
	mpirun_ -np 2 pea-train --mpi -q -j 1 --algo nb mail.jsonl -o x.model
t_err '--mpi needs files' 2 '*--mpi reads files*' pea-train --mpi -o x.model
t_err '--mpi and --merge' 2 'pea-train: --merge combines model files on one process: no --mpi' \
	pea-train --mpi --merge -o x.model a.model b.model
t_err '--mpi and a recommender' 2 'pea-train: --mpi trains nb, logreg, svm, mlp and cnn; --algo als trains on one process' \
	pea-train --mpi --algo als -o x.model x.pea
done_testing
