#!/usr/bin/env bash
# Tests of scripts/coverage's report (docs/coverage.md): small programs built
# with the gcov builds' flags stand in for QEMU (meson's object names) and
# Bochs (make's, C++); their counters land where the wrappers put them
# (GCOV_PREFIX, GCOV_PREFIX_STRIP), and the tables must say what ran.
SUITE="coverage tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "$0")/lib.sh"

COV=$ROOT/scripts/coverage
HVS=$WORK/hv OUTDIR=$WORK/coverage
FLAGS="-O2 -fno-inline --coverage"	# QEMU's: GCOV_FLAGS of scripts/get-hypervisor, with -O2
BFLAGS="-O2 --coverage"			# Bochs': BOCHS_GCOV_FLAGS, with -O2

# cov ARG...: scripts/coverage on the fake trees, with the files list
# $WORK/files (or FILES_LIST).
cov() {
	HVT_HV_DIR=$HVS HVT_COVERAGE_DIR=$OUTDIR HVT_COVERAGE_FILES=${FILES_LIST:-$WORK/files} \
		"$COV" "$@" >"$out" 2>"$err"
	rc=$?
}

# A fake gcov tree: BUILD holds the objects; TREE/gcov/build its .gcno files.
# build_qemu, build_bochs: the two layouts, built once.
QBUILD=$WORK/qsrc/build BBUILD=$WORK/bsrc
build_qemu() {
	mkdir -p "$WORK/qsrc/target/x" "$QBUILD/libq.fa.p"
	# Line 2: never called; 3: called with an argument > 2; 4: main.
	cat >"$WORK/qsrc/target/x/svm.c" <<'EOF'
#include <stdlib.h>
static int never(int x) { return x * 3; }
int once(int x) { if (x > 2) return x; return x + 1; }
int main(int argc, char **argv) { (void)argv; if (argc > 5) return never(argc); return once(argc) == 99; }
EOF
	(cd "$QBUILD" && gcc $FLAGS -c ../target/x/svm.c -o libq.fa.p/target_x_svm.c.o &&
		gcc --coverage libq.fa.p/target_x_svm.c.o -o qemu) || exit 2
	mkdir -p "$HVS/qemu-9.9-gcov/gcov/build/libq.fa.p"
	cp "$QBUILD/libq.fa.p/target_x_svm.c.gcno" "$HVS/qemu-9.9-gcov/gcov/build/libq.fa.p/"
	echo 9.9.1 >"$HVS/qemu-9.9-gcov/version"
	echo "qemu 1:9.9+dfsg-1 source (bookworm), built here in 12 s on 2 CPUs" >"$HVS/qemu-9.9-gcov/source"
}
build_bochs() {
	mkdir -p "$BBUILD/cpu"
	cat >"$BBUILD/cpu/svm.cc" <<'EOF'
struct cpu { int vmrun(int x); int vmexit(int x); };
int cpu::vmrun(int x) { if (x > 2) return x * 7; return x + 1; }
int cpu::vmexit(int x) { return x - 1; }
int main(int argc, char **) { cpu c; return c.vmrun(argc) == 99; }
EOF
	(cd "$BBUILD/cpu" && g++ $BFLAGS -c svm.cc -o svm.o && g++ --coverage svm.o -o ../bochs) || exit 2
	mkdir -p "$HVS/bochs-9.9-gcov/gcov/build/cpu"
	cp "$BBUILD/cpu/svm.gcno" "$HVS/bochs-9.9-gcov/gcov/build/cpu/"
	echo 9.9 >"$HVS/bochs-9.9-gcov/version"
	echo "bochs 9.9+dfsg-1 source (trixie), built here in 7 s on 2 CPUs" >"$HVS/bochs-9.9-gcov/source"
}

# run_as NAME-VERSION BUILD BINARY [ARG...]: run it as the wrapper would.
run_as() {
	local d=$1 build=$2 bin=$3 slashes
	shift 3
	slashes=${build//[^\/]/}
	GCOV_PREFIX=$OUTDIR/gcda/$d GCOV_PREFIX_STRIP=${#slashes} "$bin" "$@"
}

# row FILE: the row of files.tsv for FILE, tab-separated fields after the first two.
row() {
	awk -F'\t' -v f="$1" '$2 == f { print $3, $4, $5, $6 }' "$OUTDIR/files.tsv"
}
calls() {
	awk -F'\t' -v f="$1" -v fn="$2" '$2 == f && $3 == fn { print $5 }' "$OUTDIR/functions.tsv"
}

setup() {
	command -v gcov >/dev/null && command -v jq >/dev/null && command -v g++ >/dev/null || return 1
	build_qemu
	build_bochs
	printf '%s\n' "# test" "qemu-tcg@9.9-gcov target/x/svm.c" "bochs@9.9-gcov cpu/svm.cc" >"$WORK/files"
}

test_counts() {
	rm -rf "$OUTDIR"
	run_as qemu-9.9-gcov "$QBUILD" "$QBUILD/qemu" a b c
	run_as bochs-9.9-gcov "$BBUILD" "$BBUILD/bochs"
	[[ -f "$OUTDIR/gcda/qemu-9.9-gcov/libq.fa.p/target_x_svm.c.gcda" ]] ||
		fail "the counters are not at the build's relative path under GCOV_PREFIX"
	cov report
	expect_rc 0
	[[ "$(row target/x/svm.c)" == "3 2 3 2" ]] || fail "svm.c: '$(row target/x/svm.c)', expected 3 lines, 2 run, 3 functions, 2 reached"
	[[ "$(calls target/x/svm.c once)" == 1 && "$(calls target/x/svm.c never)" == 0 ]] ||
		fail "svm.c: once called $(calls target/x/svm.c once) times, never $(calls target/x/svm.c never)"
	[[ "$(row cpu/svm.cc)" == "3 2 3 2" ]] || fail "svm.cc: '$(row cpu/svm.cc)', expected 3 2 3 2"
	[[ "$(calls cpu/svm.cc 'cpu::vmexit(int)')" == 0 ]] || fail "svm.cc: cpu::vmexit(int) not listed as never called"
	# -O2 inlines cpu::vmrun into main: its own copy is never called, its line ran.
	[[ "$(calls cpu/svm.cc 'cpu::vmrun(int)')" == 0 ]] || fail "svm.cc: cpu::vmrun(int) was not inlined; the test is void"
	expect_line "$OUTDIR/coverage.md" '^\| qemu-tcg@9\.9-gcov \| `target/x/svm\.c` \| 2 / 3 \| 66\.7% \| 2 / 3 \|$'
	expect_line "$OUTDIR/coverage.md" '^\| bochs@9\.9-gcov \| `cpu/svm\.cc` \| 2 / 3 \| 66\.7% \| 2 / 3 \|$'
	expect_line "$OUTDIR/coverage.md" '^- `never` \(line 2\)$'
	expect_line "$OUTDIR/coverage.md" '^- `cpu::vmexit\(int\)` \(line 3\)$'
	expect_no_line "$OUTDIR/coverage.md" '`(once|main|cpu::vmrun\(int\))`'
	expect_line "$OUTDIR/coverage.md" '^\| qemu-tcg@9\.9-gcov \| 9\.9\.1: Debian source qemu 1:9\.9\+dfsg-1 \(bookworm\); its build took 12 s on 2 CPUs \| none recorded'
	finish "lines and functions per file, unreached functions by name, for both object layouts"

	# Two runs at once: libgcov merges them into one file under its lock.
	rm -rf "$OUTDIR/gcda"
	run_as qemu-9.9-gcov "$QBUILD" "$QBUILD/qemu" a b c &
	run_as qemu-9.9-gcov "$QBUILD" "$QBUILD/qemu" a b c &
	run_as qemu-9.9-gcov "$QBUILD" "$QBUILD/qemu" a b c &
	wait
	cov report
	expect_rc 0
	[[ "$(calls target/x/svm.c once)" == 3 ]] || fail "three parallel runs counted $(calls target/x/svm.c once) calls of once"
	finish "parallel runs add up"
}

test_nothing_ran() {
	rm -rf "$OUTDIR"
	cov report
	expect_rc 0
	[[ "$(row target/x/svm.c)" == "3 0 3 0" ]] || fail "svm.c without counters: '$(row target/x/svm.c)', expected 3 0 3 0"
	expect_line "$OUTDIR/coverage.md" '^### qemu-tcg@9\.9-gcov `target/x/svm\.c`: 3 of 3 not reached$'
	finish "without counters nothing is reached (no error)"
}

# The suite through the real run_tests.sh, on a fake QEMU whose wrapper also
# runs the small program as the gcov build would (only for the test's image:
# the availability probe, cached or not, does not count).
test_suite() {
	local slashes=${QBUILD//[^\/]/} hv=$TREE/build/hv/qemu-9.9-gcov first
	mkdir -p "$TREE/build/hv"
	cp -a "$HVS/qemu-9.9-gcov" "$hv" && mkdir -p "$hv/bin" || exit 2
	cat >"$hv/bin/qemu-system-x86_64" <<EOF
#!/bin/sh
case "\$*" in
*pass.elf*) GCOV_PREFIX=\${HVT_GCOV_DIR:-$WORK/nowhere} GCOV_PREFIX_STRIP=${#slashes} "$QBUILD/qemu" a b c ;;
esac
exec "$FAKE" "\$@"
EOF
	chmod +x "$hv/bin/qemu-system-x86_64"
	cfg_of pass >"$WORK/pass.cfg"
	printf '%s\n' "qemu-tcg@9.9-gcov target/x/svm.c" >"$WORK/qfiles"
	HVT_COVERAGE_FILES=$WORK/qfiles QEMU=$FAKE "$TREE/scripts/coverage" suite --config "$WORK/pass.cfg" >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	expect_line "$err" '^coverage: qemu-tcg@9\.9-gcov: 1 passed, 0 failed, 0 skipped \([0-9]+ s; 0 timed out\)$'
	[[ -f "$TREE/build/coverage/gcda/qemu-9.9-gcov/libq.fa.p/target_x_svm.c.gcda" ]] ||
		fail "no counters in build/coverage/gcda/qemu-9.9-gcov: HVT_GCOV_DIR did not reach the hypervisor"
	[[ ! -e "$WORK/nowhere" ]] || fail "the hypervisor ran without HVT_GCOV_DIR"
	expect_line "$TREE/build/coverage/runs/qemu-9.9-gcov" '^result 1 passed, 0 failed, 0 skipped$'
	[[ -f "$TREE/build/coverage/logs/qemu-9.9-gcov/units.tsv" ]] || fail "no run_tests.sh logs in build/coverage/logs"
	finish "suite: run_tests.sh on the gcov build, its counters under build/coverage/gcda"

	HVT_COVERAGE_FILES=$WORK/qfiles "$TREE/scripts/coverage" report >"$out" 2>"$err"
	first=$(awk -F'\t' '$3 == "once" { print $5 }' "$TREE/build/coverage/functions.tsv")
	HVT_COVERAGE_FILES=$WORK/qfiles QEMU=$FAKE "$TREE/scripts/coverage" suite --config "$WORK/pass.cfg" >"$out" 2>"$err"
	HVT_COVERAGE_FILES=$WORK/qfiles "$TREE/scripts/coverage" report >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	[[ "$first" == 1 ]] || fail "one test run counted '$first' calls"
	expect_line "$TREE/build/coverage/functions.tsv" $'^qemu-tcg@9\\.9-gcov\ttarget/x/svm\\.c\tonce\t3\t1$'
	expect_line "$TREE/build/coverage/coverage.md" '^\| qemu-tcg@9\.9-gcov \| .* \| [0-9-]+ [0-9:]+ UTC, [0-9]+ s: 1 passed, 0 failed, 0 skipped \(--config .*pass\.cfg; 0 timed out\) \|$'
	finish "a second suite run starts from reset counters; the report names the run"
}

test_errors() {
	printf '%s\n' "qemu-tcg@9.9-gcov target/x/nothere.c" >"$WORK/bad"
	FILES_LIST=$WORK/bad cov report
	expect_rc 1
	expect_line "$err" 'no \.gcno for target/x/nothere\.c'
	finish "a file the build has no object of: an error naming it"

	printf '%s\n' "qemu-tcg@9.9 target/x/svm.c" >"$WORK/bad"
	FILES_LIST=$WORK/bad cov report
	expect_rc 1
	expect_line "$err" "'qemu-tcg@9\.9' is not a gcov build"
	finish "a hypervisor that is not a gcov build is refused"

	cov frobnicate
	expect_rc 2
	finish "an unknown command: usage error"
}

if ! setup; then
	echo "1..0 # SKIP needs gcov, g++ and jq"
	echo "$SUITE: 0 passed, 0 failed"
	exit 0
fi
run_test_main test_counts test_nothing_ran test_suite test_errors
