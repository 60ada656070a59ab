# Every binary: --help with usage, options and an example; --version; a man
# page that renders without warnings and documents every long option.
. "$PEA_SRC/tests/cli/lib.sh"

for b in "$PEA_BUILD"/pea-*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	n=${b##*/}
	page="$PEA_SRC/man/$n.1"
	t "$n --help and --version" '
		"$b" --help > help.txt
		grep -q "^Usage: pea " help.txt
		grep -q "^Example:" help.txt
		"$b" --version | grep -qx "$n [0-9.]*"
	'
	t "$n has a man page that renders cleanly" '
		test -f "$page"
		if command -v man > /dev/null; then
			MANWIDTH=80 man --warnings -l "$page" 2> warn.txt > /dev/null
			test ! -s warn.txt || { cat warn.txt; false; }
		fi
	'
	t "$n: every long option of --help is in its man page" '
		"$b" --help | grep -o -- "--[a-z][a-z0-9-]*" | sort -u > opts.txt
		sed "s/\\\\-/-/g" "$page" > page.txt
		missing=""
		while read -r o; do
			grep -q -- "$o\\b" page.txt || missing="$missing $o"
		done < opts.txt
		test -z "$missing" || { echo "not in $page:$missing"; false; }
	'
done
t 'pea-format(5) and pea(1) render cleanly' '
	for p in "$PEA_SRC/man/pea-format.5" "$PEA_SRC/man/pea.1"; do
		MANWIDTH=80 man --warnings -l "$p" 2> warn.txt > /dev/null
		test ! -s warn.txt || { cat warn.txt; false; }
	done
'
t 'test scripts assert with simple commands (set -e skips negations and and-lists)' '
	bad=$(grep -n " && \|^[[:space:]]*! " "$PEA_SRC"/tests/cli/t-*.sh | grep -v "\bif \|||\|&& break\|\[ \$[a-z]* = [a-z]* \] &&" || true)
	test -z "$bad" || { echo "$bad"; false; }
'
done_testing
