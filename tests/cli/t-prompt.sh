# Live pipelines: every filter passes a record on while its input stays
# open and quiet (a follower between posts), instead of holding it until
# more comes.  Each command gets one record through a FIFO that is kept
# open; its output must show the record before the FIFO is closed.
. "$PEA_SRC/tests/cli/lib.sh"

echo '{"id":"1","text":"cheap pills now","label":"spam"}' > rec.jsonl
echo '{"id":"2","text":"lunch at noon","label":"ham"}' > other.jsonl
cat rec.jsonl other.jsonl | pea tokenize | pea vectorize | pea train -q -o m.model
pea tokenize < rec.jsonl | pea vectorize > vec.pea

# prompt NAME INPUT COMMAND...: COMMAND reads INPUT through a FIFO held
# open; its output must appear while it is open
prompt() {
	local name=$1 input=$2
	shift 2
	rm -f fifo out
	mkfifo fifo
	"$@" < fifo > out 2> err &
	local pid=$!
	exec 3> fifo
	cat "$input" >&3
	local seen=no
	for _ in $(seq 200); do
		if [ -s out ]; then
			seen=yes
			break
		fi
		sleep 0.05
	done
	exec 3>&-
	wait $pid
	if [ $seen = yes ]; then _report pass "$name passes a record on while its input is quiet"
	else _report fail "$name passes a record on while its input is quiet"; cat err; fi
}

prompt 'pea cat' rec.jsonl pea cat --json
prompt 'pea head' rec.jsonl pea head -n 5 --json
prompt 'pea grep' rec.jsonl pea grep --json pills
prompt 'pea sample --fraction' rec.jsonl pea sample --fraction 1 --json
prompt 'pea tokenize' rec.jsonl pea tokenize --json
prompt 'pea vectorize' vec.pea pea vectorize --json -f tokens
prompt 'pea classify' vec.pea pea classify -m m.model --json
prompt 'pea export' vec.pea pea export
prompt 'pea split' rec.jsonl pea split --test 0 -o /dev/stdout,test.pea
t '-o /dev/stdout into a file writes the file and leaves /dev/stdout a link' '
	pea split --test 0 -o /dev/stdout,t2.pea < rec.jsonl > s.pea
	test -L /dev/stdout
	test "$(pea cat --json s.pea)" = "$(cat rec.jsonl)"'
done_testing
