# `pea NAME` runs pea-NAME; `pea` lists the commands; `pea help NAME`.
. "$PEA_SRC/tests/cli/lib.sh"

t 'pea alone lists every command with a line each' '
	pea > list.txt
	for b in "$PEA_BUILD"/pea-*; do
		[ -f "$b" ] && [ -x "$b" ] || continue
		n=${b##*/pea-}
		grep -q "^  $n  *[a-z]" list.txt || { echo "missing $n"; false; }
	done
'
t 'pea NAME runs pea-NAME with its arguments' '
	printf "{\"id\":1}\n" | pea import > x.pea
	test "$(pea count x.pea)" = 1
	pea cat --version | grep -qx "pea-cat [0-9.]*"
'
t 'pea --version' 'pea --version | grep -qx "pea [0-9.]*"'
t 'pea help NAME shows the manual' '
	MANPAGER=cat MANWIDTH=80 pea help cat > page.txt 2>&1
	grep -q "concatenate record streams" page.txt
	grep -q "EXIT STATUS" page.txt
'
t_err 'an unknown command is a usage error' 2 "pea: 'nope' is not a pea command (see 'pea' for the list)" pea nope
t_err 'a path is not a command' 2 "pea: '../x' is not a pea command" pea ../x
t 'bash completion: commands after pea, long options after a command' '
	ln -s "$PEA_BUILD/pea" pea
	for b in "$PEA_BUILD"/pea-*; do [ -f "$b" ] || continue; ln -s "$b" .; done
	PATH="$PWD:$PATH"
	. "$PEA_SRC/scripts/completion/pea.bash"
	COMP_WORDS=(pea to); COMP_CWORD=1; _pea
	test "${COMPREPLY[*]}" = tokenize
	COMP_WORDS=(pea tokenize --ng); COMP_CWORD=2; _pea
	test "${COMPREPLY[*]}" = --ngrams
	COMP_WORDS=(pea-split --sh); COMP_CWORD=1; _pea
	test "${COMPREPLY[*]}" = --shards
	COMP_WORDS=(pea help cl); COMP_CWORD=2; _pea
	test "${COMPREPLY[*]}" = classify
'
# cli.c: OpenBLAS's pool would spin on a core for its first 0.1 s (10
# ticks of CPU time), and pea never gives it work; a program that has opened
# its input has re-run itself with OPENBLAS_THREAD_TIMEOUT=4, and uses no CPU
# time while it waits.  The ticks are counted from the moment it opened its
# input: starting takes ticks of its own (more in a sanitizer build), and on
# a busy machine the pool of the image before the re-run may get a few.
# With OPENBLAS_THREAD_TIMEOUT=28, OpenBLAS's own default, it waits with
# 5 to 10 ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# waiting_ticks HOW...: pea-train run by HOW waits half a second on a fifo:
# the ticks of CPU time it used meanwhile, and its environment in env.txt
waiting_ticks() {
	rm -f in.fifo
	mkfifo in.fifo
	"$@" pea-train --algo nb -o m.model in.fifo 2> err.txt & local pid=$!
	exec 3> in.fifo # returns once pea-train has opened it
	local t0
	t0=$(cpu_ticks $pid)
	sleep 0.5
	echo $(($(cpu_ticks $pid) - t0))
	tr "\0" "\n" < /proc/$pid/environ > env.txt
	exec 3>&-
	wait $pid || true
}
t 'a program linked with OpenBLAS does not spin while it waits' '
	for how in "env -u OPENBLAS_THREAD_TIMEOUT -u OMP_WAIT_POLICY" "env -u OPENBLAS_THREAD_TIMEOUT OMP_WAIT_POLICY=PASSIVE"; do
		ticks=$(waiting_ticks $how)
		echo "$how: $ticks ticks" >&2
		test "$ticks" -le 2
		grep -qx OPENBLAS_THREAD_TIMEOUT=4 env.txt
		grep -qx OMP_WAIT_POLICY=PASSIVE env.txt
	done
	# the user chose
	waiting_ticks env OPENBLAS_THREAD_TIMEOUT=9 > /dev/null
	grep -qx OPENBLAS_THREAD_TIMEOUT=9 env.txt
'
done_testing
