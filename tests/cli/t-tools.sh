. "$PEA_SRC/tests/cli/lib.sh"
done_testing
