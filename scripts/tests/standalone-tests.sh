#!/usr/bin/env bash
# Tests of the standalone tests (scripts/standalone/mkstandalone, make
# standalone) against the fake hypervisor: TAP, exit statuses, the kept log,
# QEMU=, ACCEL=, TIMEOUT=, prove, and a test copied away from the harness.
# Output is TAP, then "standalone tests: P passed, F failed".
set -u
SUITE="standalone tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUTDIR=$WORK/tests

# sa NAME [VAR=VALUE...]: run the standalone test NAME with the fake QEMU.
sa() {
	local name=$1
	shift
	env QEMU="$FAKE" TMPDIR="$WORK/tmp" HVT_PROBE_CACHE="$WORK/probe" "$@" "$OUTDIR/$name" >"$out" 2>"$err"
	rc=$?
}

test_generate() {
	mkdir -p "$WORK/tmp"
	make -s -C "$ROOT" standalone-tools >"$out" 2>"$err" || fail "cannot build the static tools"
	{
		cfg_of pass fail skip error hang noboot
		printf '[plain]\nfile = pass.elf\ntimeout = 2\n\n[bochs_only]\nfile = pass.elf\nhypervisors = bochs\n'
	} >"$WORK/sa.cfg"
	UNITTESTS_CFG=$WORK/sa.cfg "$TREE/scripts/standalone/mkstandalone" "$OUTDIR" >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	[[ -x "$OUTDIR/pass" && -x "$OUTDIR/bochs_only" ]] || fail "no executables in $OUTDIR"
	finish "mkstandalone writes one executable per cfg entry"
}

test_verdicts() {
	local m
	for m in pass:0 fail:1 error:99 noboot:99; do
		sa "${m%%:*}" ACCEL=tcg
		expect_rc "${m#*:}"
		[[ "$(head -n 2 "$out")" == $'TAP version 13\n1..1' ]] || fail "no TAP header and plan"
		expect_line "$out" "^(not )?ok 1 - ${m%%:*} \\(qemu-tcg\\)"
		finish "fake mode ${m%%:*}: TAP and exit ${m#*:}"
	done
	sa skip ACCEL=tcg
	expect_rc 77
	[[ "$(cat "$out")" == $'TAP version 13\n1..0 # SKIP every check skipped; first: basic.one: no vmx (qemu-tcg)' ]] ||
		fail "not the TAP of a skipped script"
	finish "fake mode skip: '1..0 # SKIP reason', exit 77"
	sa pass ACCEL=tcg
	expect_line "$out" '^    # Subtest: pass \(qemu-tcg\)$'
	expect_line "$out" '^    ok 1 - basic\.one$'
	expect_line "$out" '^    1\.\.2$'
	finish "the checks are a TAP subtest"
}

test_logs() {
	local dir
	rm -rf "$WORK/tmp" && mkdir -p "$WORK/tmp"
	sa fail ACCEL=tcg
	dir=$(sed -n 's/.*logs kept in \(.*\)\/$/\1/p' "$err")
	[[ -n "$dir" && -f "$dir/log/fail.qemu-tcg.log" ]] || fail "no kept log in '$dir'"
	[[ -d "$dir/tree" ]] && fail "the unpacked tree was kept"
	finish "a failure keeps the console log in a temporary directory and prints its path"

	rm -rf "$WORK/tmp" && mkdir -p "$WORK/tmp"
	sa pass ACCEL=tcg
	[[ -z "$(ls -A "$WORK/tmp")" ]] || fail "left in TMPDIR: $(ls -A "$WORK/tmp")"
	finish "a pass leaves nothing behind"
}

test_environment() {
	: >"$WORK/argv"
	sa plain ACCEL=tcg FAKE_ARGV_FILE="$WORK/argv"
	expect_rc 0
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-accel tcg '
	finish "ACCEL=tcg"

	sa hang ACCEL=tcg TIMEOUT=1
	expect_rc 99
	expect_line "$out" 'timed out after 1 s'
	finish "TIMEOUT= cuts a hanging guest short (99)"

	env QEMU="$WORK/no/qemu" TMPDIR="$WORK/tmp" ACCEL=tcg "$OUTDIR/pass" >"$out" 2>"$err"
	rc=$?
	expect_rc 99
	expect_line "$out" "^  message: 'run_tests.sh failed \\(status 3\\): run_tests.sh: qemu-tcg cannot run guests: QEMU binary '.*no/qemu'' not found"
	finish "a QEMU named with ACCEL that is missing: ERROR (99) naming the cause"

	sa skip ACCEL=tcg HARNESS_ACTIVE=1
	expect_rc 0
	finish "under prove (HARNESS_ACTIVE) a skip exits 0"

	sa bochs_only BOCHS="$WORK/no/bochs"
	expect_rc 77
	expect_line "$out" '^1\.\.0 # SKIP no hypervisor can run it \(.*qemu-tcg: not in the test.s hypervisors; bochs: unavailable; xen: not in the test.s hypervisors\)'
	finish "auto mode: a test that runs only on bochs, without Bochs, skips naming why"

	sa bochs_only BOCHS="$ROOT/scripts/tests/fake-bochs"
	expect_rc 0
	expect_line "$out" '^ok 1 - bochs_only \(bochs\)'
	finish "auto mode: a test that runs only on bochs runs there"

	sa pass ACCEL=xyz
	expect_rc 2
	finish "a bad ACCEL is a usage error"

	sa hang ACCEL=tcg TIMEOUT=0
	expect_rc 2
	expect_line "$err" '^hang: TIMEOUT: 0 is out of range \(1s\.\.1440m\)'
	sa hang ACCEL=tcg TIMEOUT=18446744073709551617
	expect_rc 2
	expect_line "$err" '^hang: TIMEOUT: 18446744073709551617 is out of range'
	finish "TIMEOUT=0 or an overflowing TIMEOUT is a usage error, not a disabled timeout"
}

# A signal to the standalone test's PID reaches run_tests.sh and the
# hypervisor: the test stops at once, says so in TAP and exits 130.
test_signals() {
	local sig pid marker
	for sig in TERM INT; do
		marker=30.$RANDOM$RANDOM
		# Job control: a background job of a script would ignore SIGINT.
		set -m
		env QEMU="$FAKE" TMPDIR="$WORK/tmp" HVT_PROBE_CACHE="$WORK/probe" ACCEL=tcg TIMEOUT=60 \
			FAKE_SLEEP=$marker "$OUTDIR/hang" >"$out" 2>"$err" &
		pid=$!
		set +m
		signal_pid "$sig" "$pid" "$marker"
		expect_rc 130
		expect_line "$out" '^Bail out! hang interrupted'
		expect_line "$err" '^hang: interrupted; logs kept in '
		finish "SIG$sig to a standalone test's PID stops its hypervisor at once (exit 130, TAP Bail out!)"
	done
}

# A copy cut short, inside its script part or inside its archive: ERROR
# (99) with TAP, as the docs say, not a shell syntax error (2).
test_truncated() {
	local n
	for n in 2000 $(($(stat -c %s "$OUTDIR/pass") - 100)); do
		head -c "$n" "$OUTDIR/pass" >"$WORK/cut"
		chmod +x "$WORK/cut"
		env QEMU="$FAKE" TMPDIR="$WORK/tmp" ACCEL=tcg "$WORK/cut" >"$out" 2>"$err"
		rc=$?
		expect_rc 99
		[[ "$(head -n 3 "$out")" == $'TAP version 13\n1..1\nnot ok 1 - pass' ]] || fail "no TAP of an ERROR"
		finish "a standalone test cut after $n bytes: ERROR (99) with TAP"
	done
}

test_elsewhere() {
	mkdir -p "$WORK/elsewhere"
	cp "$OUTDIR/fail" "$WORK/elsewhere/copy"
	(cd / && QEMU=$FAKE ACCEL=tcg TMPDIR=$WORK/tmp "$WORK/elsewhere/copy") >"$out" 2>"$err"
	rc=$?
	expect_rc 1
	expect_line "$out" '^not ok 1 - fail \(qemu-tcg\)'
	finish "a copy outside the harness runs from any directory"
}

test_prove() {
	command -v prove >/dev/null || { skip_test "prove" "no prove"; return; }
	mkdir -p "$WORK/prove"
	cp "$OUTDIR/pass" "$OUTDIR/skip" "$WORK/prove/"
	(cd "$WORK" && QEMU=$FAKE ACCEL=tcg TMPDIR=$WORK/tmp prove --ext '' prove/) >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	expect_line "$out" '^Files=2, Tests=1'
	expect_line "$out" '^prove/skip \.\. skipped: every check skipped'
	expect_line "$out" '^Result: PASS'
	finish "prove runs a directory of standalone tests (pass and skip: PASS)"

	cp "$OUTDIR/fail" "$WORK/prove/"
	(cd "$WORK" && QEMU=$FAKE ACCEL=tcg TMPDIR=$WORK/tmp prove --ext '' prove/) >"$out" 2>"$err"
	rc=$?
	((rc != 0)) || fail "prove passed with a failing test"
	expect_line "$out" '^Result: FAIL'
	finish "prove reports a failing standalone test"
}

run_test_main test_generate test_verdicts test_logs test_environment test_signals test_truncated test_elsewhere test_prove
