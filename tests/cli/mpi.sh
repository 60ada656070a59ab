# mpi.sh - mpirun_ for the MPI tests (sourced after lib.sh): Open MPI with
# its help banners off, ranks allowed to share the cores, and root allowed
# where the tests run as root.
if [ "$(id -u)" = 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Leaks the MPI library keeps at exit are not pea's: the sanitizer build is
# told to ignore them, which needs whole stacks (the MPI libraries have no
# frame pointers for the fast unwinder).
export LSAN_OPTIONS="suppressions=$PEA_SRC/tests/cli/lsan-mpi.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
mpi_env=""
for v in LSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS; do
	[ -n "$(printenv $v)" ] && mpi_env="$mpi_env -x $v"
done
# A rank that hangs fails the test (timeout), it does not stall the suite.
# Ranks waiting in a collective yield their core (they share two with the
# rest of the machine) and are not pinned to one.
# shellcheck disable=SC2086
mpirun_() { timeout 120 mpirun -q --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 --mca orte_base_help_aggregate 0 $mpi_env "$@"; }
