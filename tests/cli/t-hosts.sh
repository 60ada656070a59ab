# Several hosts on this machine: two sshd instances on 127.0.0.1 ports of
# their own, with a throwaway host key and login key, each login put into a
# working directory of its own.  Over them: the GNU parallel recipes of the
# README (--sshlogin with --transferfile, --basefile, --return, --cleanup,
# and --pipe) and one `mpirun -H` training run.  Everything is torn down at
# the end.  Skipped (not passed) where sshd, ssh, rsync or GNU parallel is
# missing, or sshd cannot start here.
. "$PEA_SRC/tests/cli/lib.sh"

CHECKS=('classify per shard on two hosts' 'pipe over two hosts' 'recommend per shard on two hosts' 'train-mix over two hosts' 'mpirun -H two hosts' 'mpirun -H mlp')
skip_all() {
	for c in "${CHECKS[@]}"; do t_skip "$c" "$1"; done
	done_testing
	exit
}
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
for p in "$SSHD" ssh ssh-keygen rsync parallel python3; do
	command -v "$p" > /dev/null || skip_all "no $p here (Debian openssh-server, openssh-client, rsync, parallel)"
done
# sshd started by root needs its privilege separation directory
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd 2> /dev/null || skip_all "sshd cannot run here: no /run/sshd"
fi
export PARALLEL_HOME="$TMP/.parallel"
mkdir -p "$PARALLEL_HOME"
touch "$PARALLEL_HOME/will-cite"

PIDS=()
teardown() {
	for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null; done
	rm -rf "$TMP"
}
trap teardown EXIT

ssh-keygen -q -t ed25519 -N '' -C pea-test-host -f "$TMP/hostkey"
ssh-keygen -q -t ed25519 -N '' -C pea-test-login -f "$TMP/loginkey"
: > "$TMP/ssh_config"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for h in a b; do
	mkdir "$TMP/host-$h" "$TMP/tmp-$h"
	# the login runs in the host's own directory, with this build's pea on
	# PATH and a TMPDIR of its own, as on a host of its own (Open MPI's
	# daemons keep their session directories there: sharing one, the two
	# hosts' daemons could clean up each other's)
	printf 'command="cd %s || exit 1; PATH=%s:$PATH; TMPDIR=%s; export PATH TMPDIR; eval \\"${SSH_ORIGINAL_COMMAND:-true}\\"",no-port-forwarding,no-agent-forwarding,no-X11-forwarding %s\n' \
		"$TMP/host-$h" "$PEA_BUILD" "$TMP/tmp-$h" "$(cat "$TMP/loginkey.pub")" > "$TMP/auth-$h"
	port=$(free_port)
	cat > "$TMP/sshd-$h.conf" << EOF
Port $port
ListenAddress 127.0.0.1
HostKey $TMP/hostkey
AuthorizedKeysFile $TMP/auth-$h
PidFile $TMP/sshd-$h.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
MaxStartups 50
MaxSessions 50
EOF
	"$SSHD" -D -f "$TMP/sshd-$h.conf" -E "$TMP/sshd-$h.log" &
	PIDS+=($!)
	cat >> "$TMP/ssh_config" << EOF
Host host$h
  HostName 127.0.0.1
  Port $port
  User $(id -un)
  IdentityFile $TMP/loginkey
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
EOF
done
SSH="ssh -F $TMP/ssh_config"
for h in a b; do
	up=0
	for _ in $(seq 50); do
		if [ "$($SSH host$h pwd 2> /dev/null)" = "$TMP/host-$h" ]; then up=1; break; fi
		sleep 0.2
	done
	[ $up = 1 ] || skip_all "sshd does not start here: $(tail -1 "$TMP/sshd-$h.log" 2> /dev/null)"
done
logins() { grep -c "Accepted publickey" "$TMP/sshd-$1.log"; }

mail_jsonl 400 13 0 15 > mail.jsonl
pea import -q mail.jsonl -o mail.pea
pea tokenize -q mail.pea | pea vectorize -q --bits 12 --unsigned -o vec.pea
pea train -q --algo nb -o spam.model vec.pea
CLASSIFY='pea tokenize -q | pea vectorize -q --bits 12 --unsigned | pea classify -q -m spam.model'
eval "$CLASSIFY" < mail.pea | pea cat --json | sort > one.json

t 'classify per shard on two hosts: --transferfile, --basefile, --return, --cleanup; cat is one stream' '
	pea split --shards 4 -o "part-%d.pea" mail.pea
	a0=$(logins a) b0=$(logins b)
	parallel --ssh "$SSH" -S 1/hosta,1/hostb --transferfile {} --basefile spam.model --return {.}.out --cleanup \
		"pea tokenize -q {} | pea vectorize -q --bits 12 --unsigned | pea classify -q -m spam.model -o {.}.out" \
		::: part-0.pea part-1.pea part-2.pea part-3.pea
	cat part-*.out > hosts.pea
	pea cat -q hosts.pea > /dev/null
	pea cat --json hosts.pea | sort > hosts.json
	cmp one.json hosts.json
	# both hosts worked, and they are left as they were found
	test "$(logins a)" -gt "$a0"
	test "$(logins b)" -gt "$b0"
	test -z "$(find host-a host-b -mindepth 1)"'
t 'parallel --pipe over two hosts: blocks cut on frame starts go by ssh, the records of one process' '
	for i in $(seq 0 19); do sed -n "$((i * 20 + 1)),$((i * 20 + 20))p" mail.jsonl | pea import -q --jsonl; done > frames.pea
	parallel --ssh "$SSH" -S 1/hosta,1/hostb --basefile spam.model --cleanup --pipe -k \
		--recstart $'"'"'\xffPEAFRM\xfe'"'"' --recend "" --block 2k "$CLASSIFY" < frames.pea > piped.pea
	pea cat --json piped.pea | sort > piped.json
	cmp one.json piped.json'

t 'scripts/train-mix over two hosts (-S): the model of the same mixing on this machine' '
	pea split --shards 2 --by id -o "vec-%d.pea" vec.pea
	"$PEA_SRC/scripts/train-mix" -r 2 -o here.model vec-0.pea vec-1.pea -- --algo logreg
	a0=$(logins a) b0=$(logins b)
	PARALLEL_SSH="$SSH" "$PEA_SRC/scripts/train-mix" -r 2 -S 1/hosta,1/hostb -o there.model vec-0.pea vec-1.pea -- --algo logreg
	cmp here.model there.model
	test "$(logins a)" -gt "$a0"
	test "$(logins b)" -gt "$b0"'

awk 'BEGIN { s = 5; print "user\titem"; for (u = 0; u < 40; u++) for (k = 0; k < 6; k++) {
	s = (s * 1103515245 + 12345) % 2147483648; printf "u%02d\ti%d\n", u, (u % 4) * 5 + int(s / 65536) % 7 } }' > plays.tsv
pea import -q --tsv plays.tsv -o plays.pea
t 'recommend per shard on two hosts: the recommendations of one process' '
	pea train -q --algo knn -o recs.model plays.pea
	awk "NR > 1 { print \$1 }" plays.tsv | sort -u | awk "{ printf \"{\\\"user\\\":\\\"%s\\\"}\\n\", \$1 }" | pea import -q --jsonl -o users.pea
	pea recommend -q -m recs.model users.pea | pea cat --json | sort > rec1.json
	pea split --shards 2 --by user -o "users-%d.pea" users.pea
	parallel --ssh "$SSH" -S 1/hosta,1/hostb --transferfile {} --basefile recs.model --return {.}.out --cleanup \
		"pea recommend -q -m recs.model {} -o {.}.out" ::: users-0.pea users-1.pea
	cat users-0.out users-1.out | pea cat --json | sort > recn.json
	cmp rec1.json recn.json
	test "$(grep -c "\"recs\":\[\"i" recn.json)" = 40'

if [ -z "${PEA_MPI:-}" ] || ! command -v mpirun > /dev/null; then
	for c in 4 5; do
		t_skip "${CHECKS[$c]}" "pea was built without MPI, or no mpirun (Debian libopenmpi-dev, openmpi-bin)"
	done
else
	. "$PEA_SRC/tests/cli/mpi.sh"
	t 'mpirun -H over two sshd hosts: naive Bayes on a shard per host, the single-process model byte for byte' '
		pea split --shards 2 --by id -o "vec-%d.pea" vec.pea
		a0=$(logins a) b0=$(logins b)
		mpirun_ --mca plm_rsh_agent "$SSH" -H hosta,hostb -np 2 pea-train --mpi -q -j 1 --algo nb \
			-o two.model "$TMP/vec-%r.pea"
		cmp spam.model two.model
		test "$(logins a)" -gt "$a0"
		test "$(logins b)" -gt "$b0"'
	# 64 images of 8x8, a bright quadrant each
	awk 'BEGIN { srand(5); for (i = 0; i < 64; i++) { q = i % 4; printf "{\"id\":%d,\"label\":\"q%d\",\"dense\":[", i, q
		for (p = 0; p < 64; p++) { r = int(p / 8); c = p % 8; v = ((r < 4) == (q < 2)) * ((c < 4) == (q % 2 == 0)) ? 0.8 : 0.1
			printf "%s%.3f", p ? "," : "", v + rand() * 0.3 }
		printf "],\"shape\":[1,8,8]}\n" } }' | pea import -q --jsonl -o quad.pea
	pea split --shards 2 --by id -o "quad-%d.pea" quad.pea
	t 'mpirun -H over two sshd hosts: mlp and logreg sums by messages make the models 2 ranks on one host make in shared memory' '
		mpirun_ -np 2 pea-train --mpi -q -j 1 --algo mlp --epochs 3 --batch 16 -o one-host.model "$TMP/quad-%r.pea"
		mpirun_ --mca plm_rsh_agent "$SSH" -H hosta,hostb -np 2 pea-train --mpi -q -j 1 --algo mlp --epochs 3 \
			--batch 16 -o two-hosts.model "$TMP/quad-%r.pea"
		cmp one-host.model two-hosts.model
		mpirun_ -np 2 pea-train --mpi -q -j 1 --algo logreg -o lr-one-host.model "$TMP/vec-%r.pea"
		mpirun_ --mca plm_rsh_agent "$SSH" -H hosta,hostb -np 2 pea-train --mpi -q -j 1 --algo logreg \
			-o lr-two-hosts.model "$TMP/vec-%r.pea"
		cmp lr-one-host.model lr-two-hosts.model'
fi
done_testing
