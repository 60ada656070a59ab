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
# its input has re-run itself with OPENBLAS_THREAD_TIMEOUT=4, and has used
# next to no CPU time while it waits
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t 'a program linked with OpenBLAS does not spin while it waits' '
	mkfifo in.fifo
	for how in "env -u OPENBLAS_THREAD_TIMEOUT -u OMP_WAIT_POLICY" "env -u OPENBLAS_THREAD_TIMEOUT OMP_WAIT_POLICY=PASSIVE"; do
		$how pea-train --algo nb -o m.model in.fifo 2> err.txt & pid=$!
		exec 3> in.fifo # returns once pea-train has opened it
		sleep 0.5
		ticks=$(cpu_ticks $pid)
		env=$(tr "\0" "\n" < /proc/$pid/environ)
		exec 3>&-
		wait $pid || true
		echo "$how: $ticks ticks" >&2
		test "$ticks" -lt 7
		echo "$env" | grep -qx OPENBLAS_THREAD_TIMEOUT=4
		echo "$env" | grep -qx OMP_WAIT_POLICY=PASSIVE
	done
	# the user chose
	OPENBLAS_THREAD_TIMEOUT=9 pea-train --algo nb -o m.model in.fifo 2> err.txt & pid=$!
	exec 3> in.fifo
	env=$(tr "\0" "\n" < /proc/$pid/environ)
	exec 3>&-
	wait $pid || true
	echo "$env" | grep -qx OPENBLAS_THREAD_TIMEOUT=9
'
done_testing
