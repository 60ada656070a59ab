# mpi.sh - mpirun_ for the MPI tests (sourced after lib.sh): Open MPI with
# its help banners off, ranks allowed to share the cores, and root allowed
# where the tests run as root.  Leaks the MPI library keeps at exit are not
# pea's: the sanitizer build is told to ignore them.
if [ "$(id -u)" = 0 ]; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export LSAN_OPTIONS="suppressions=$PEA_SRC/tests/cli/lsan-mpi.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
mpi_env=""
for v in LSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS; do
	[ -n "$(printenv $v)" ] && mpi_env="$mpi_env -x $v"
done
# shellcheck disable=SC2086
# a rank that hangs fails the test, it does not stall the suite
mpirun_() { timeout 120 mpirun -q --oversubscribe $mpi_env "$@"; }
