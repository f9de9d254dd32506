#!/usr/bin/env bash
# Tests of scripts/bisect against the fake hypervisor (scripts/tests/fake-qemu),
# run from a directory outside the harness as `git bisect run` would, and one
# real `git bisect run` over a throw-away repository. Output is TAP, then
# "bisect tests: P passed, F failed".
set -u
SUITE="bisect tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# bisect [ARG...]: scripts/bisect of the fake tree, from $WORK/hv (the
# "hypervisor's source tree"), with the fake cfg.
bisect() {
	(cd "$WORK/hv" && UNITTESTS_CFG=$WORK/bisect.cfg "$TREE/scripts/bisect" "$@") >"$out" 2>"$err"
	rc=$?
}

setup() {
	mkdir -p "$WORK/hv"
	cp "$FAKE" "$WORK/hv/qemu"	# a relative --qemu path resolves here
	{
		cfg_of pass fail skip error hang silent crash noboot xfail
		printf '[opts]\nfile = pass.elf\nargs = a=1 sel.* -other b=2\ntimeout = 2\n\n'
		# No fake_mode on its command line: $FAKE_MODE decides.
		printf '[plain]\nfile = pass.elf\ntimeout = 2\n\n'
	} >"$WORK/bisect.cfg"
}

test_exit_codes() {
	local m want
	setup
	for m in pass:0 fail:1 skip:125 error:125 hang:125 silent:125 crash:125 noboot:125; do
		bisect "${m%%:*}" --qemu "$FAKE"
		want=${m#*:}
		expect_rc "$want"
		expect_line "$err" "^bisect: [A-Z]+.*: exit $want"
		finish "fake mode ${m%%:*}: exit $want"
	done

	for m in pass:1 fail:0 error:125 skip:125 noboot:125; do
		bisect --invert "${m%%:*}" --qemu "$FAKE"
		expect_rc "${m#*:}"
		finish "--invert, fake mode ${m%%:*}: exit ${m#*:}"
	done
}

test_binaries() {
	bisect pass --qemu "$WORK/no/such/qemu"
	expect_rc 125
	expect_line "$err" "QEMU binary .*no/such/qemu' not found"
	finish "a missing hypervisor binary: exit 125 (skip the commit)"

	(cd "$WORK/hv" && QEMU=./qemu UNITTESTS_CFG=$WORK/bisect.cfg "$TREE/scripts/bisect" fail) >"$out" 2>"$err"
	rc=$?
	expect_rc 1
	finish "QEMU= relative to the tree under bisection"

	bisect pass --qemu ./qemu --hypervisor qemu-tcg
	expect_rc 0
	expect_line "$out" '^PASS +pass \(qemu-tcg\)'
	finish "--qemu relative to the tree under bisection, --hypervisor"

	(cd "$WORK/hv" && ACCEL=tcg BOCHS=/no/bochs UNITTESTS_CFG=$WORK/bisect.cfg "$TREE/scripts/bisect" pass) \
		>"$out" 2>"$err"
	rc=$?
	expect_line "$err" 'on qemu-tcg'
	finish "ACCEL=tcg picks qemu-tcg"

	bisect pass --bochs "$WORK/no/bochs"
	expect_rc 125
	expect_line "$err" 'on bochs at commit'
	expect_line "$err" "^run_tests.sh: bochs cannot run guests: Bochs binary '.*no/bochs' not found"
	finish "--bochs alone bisects on bochs; unavailable: exit 125 with the cause"
}

test_selector() {
	: >"$WORK/argv"
	(cd "$WORK/hv" && FAKE_ARGV_FILE=$WORK/argv UNITTESTS_CFG=$WORK/bisect.cfg \
		"$TREE/scripts/bisect" opts:noncanonical.fs_base --qemu "$FAKE") >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-append a=1 b=2 noncanonical\.fs_base nonce=[0-9a-f]{16} '
	expect_no_line "$WORK/argv1" 'sel\.\*|-other'
	finish "NAME:CHECK passes CHECK as the selector, keeps the cfg's key=value options"

	bisect 'opts:'
	expect_rc 128
	finish "NAME: without a check: usage error (abort)"
}

test_errata() {
	echo "qemu-tcg * xfail:known.bug the fake deviates on purpose (SDM Vol. 0 0.0)" >"$WORK/errata-x.cfg"
	cp "$WORK/errata-x.cfg" "$TREE/errata.cfg"
	bisect xfail --qemu "$FAKE"
	expect_rc 1
	finish "without --errata an expected failure counts as failing"
	bisect --errata xfail --qemu "$FAKE"
	expect_rc 0
	finish "--errata applies errata.cfg"
	: >"$TREE/errata.cfg"
	bisect --errata="$WORK/errata-x.cfg" xfail --qemu "$FAKE"
	expect_rc 0
	finish "--errata=FILE"
}

test_aborts() {
	bisect nosuchtest --qemu "$FAKE"
	expect_rc 128
	expect_line "$err" "unknown test 'nosuchtest'"
	finish "an unknown test name aborts the bisection (exit 128)"

	bisect pass --hypervisor hyperv
	expect_rc 128
	expect_line "$err" "unknown hypervisor 'hyperv'"
	finish "an unknown hypervisor aborts (exit 128)"

	bisect --frobnicate pass
	expect_rc 128
	finish "an unknown option aborts (exit 128)"

	bisect
	expect_rc 128
	finish "no test aborts (exit 128)"

	printf '[gone]\nfile = missing.elf\n' >>"$WORK/bisect.cfg"
	bisect gone --qemu "$FAKE"
	expect_rc 128
	expect_line "$err" 'ERROR.*not found'
	finish "an image that is not built aborts (exit 128)"

	bisect --help
	expect_rc 0
	expect_line "$out" '^Usage: scripts/bisect'
	finish "--help"
}

# A signal to scripts/bisect's PID reaches run_tests.sh and the hypervisor:
# bisect waits for them and exits 130 (SIGINT) or 143 (SIGTERM).
test_signals() {
	local sig want pid marker
	setup
	for sig in TERM:143 INT:130; do
		want=${sig#*:} sig=${sig%%:*} marker=30.$RANDOM$RANDOM
		set -m
		(cd "$WORK/hv" && UNITTESTS_CFG=$WORK/bisect.cfg TIMEOUT=60 FAKE_SLEEP=$marker \
			exec "$TREE/scripts/bisect" hang --qemu "$FAKE") >"$out" 2>"$err" &
		pid=$!
		set +m
		signal_pid "$sig" "$pid" "$marker"
		expect_rc "$want"
		expect_line "$err" "^bisect: interrupted by SIG$sig; aborting"
		finish "SIG$sig to scripts/bisect's PID stops run_tests.sh and the hypervisor (exit $want)"
	done
}

test_logs() {
	local dir
	bisect fail --qemu "$FAKE"
	dir=$(sed -n 's/.*logs in \(.*\)\/$/\1/p' "$err" | tail -n 1)
	[[ "$dir" == "$TREE/logs/bisect-"* && -f "$dir/fail.qemu-tcg.log" ]] || fail "no logs in '$dir'"
	expect_line "$dir/fail.qemu-tcg.log" '^HVT FAIL'
	finish "each step keeps its logs in the harness's logs/bisect-*/"
}

# A real `git bisect run`: commits 1..6 of a "hypervisor" whose behaviour
# is the file `mode`; commit 2 does not start (skipped), 4 is the first bad.
test_git_bisect() {
	local repo=$WORK/repo i mode first
	command -v git >/dev/null || { skip_test "git bisect run" "no git"; return; }
	mkdir -p "$repo"
	(
		cd "$repo" || exit 1
		git init -q . && git config user.email t@example.org && git config user.name t
		# shellcheck disable=SC2016 # expanded by the wrapper itself
		printf '#!/bin/sh\nFAKE_MODE=$(cat "$(dirname "$0")/mode") exec %q "$@"\n' "$FAKE" >qemu
		chmod +x qemu
		for i in 1 2 3 4 5 6; do
			case "$i" in 2) mode=noboot ;; [1-3]) mode=pass ;; *) mode=fail ;; esac
			echo "$mode" >mode
			git add -A && git commit -q --allow-empty -m "commit $i"
			git tag "c$i"
		done
	) || { fail "cannot make the repository"; finish "git bisect run"; return; }
	(
		cd "$repo" && git bisect start c6 c1 >/dev/null &&
			UNITTESTS_CFG=$WORK/bisect.cfg git bisect run "$TREE/scripts/bisect" plain --qemu ./qemu
	) >"$out" 2>"$err"
	rc=$?
	first=$(cd "$repo" && git rev-parse c4)
	expect_rc 0
	expect_line "$out" "^$first is the first bad commit"
	(cd "$repo" && git bisect reset >/dev/null 2>&1)
	finish "git bisect run finds the first failing commit, skipping one that does not start"

	(
		cd "$repo" && git bisect start c6 c1 >/dev/null &&
			UNITTESTS_CFG=$WORK/bisect.cfg git bisect run "$TREE/scripts/bisect" nosuchtest --qemu ./qemu
	) >"$out" 2>"$err"
	rc=$?
	((rc != 0)) || fail "git bisect run succeeded"
	cat "$err" >>"$out"
	expect_line "$out" 'bisect run failed'
	(cd "$repo" && git bisect reset >/dev/null 2>&1)
	finish "git bisect run aborts on an unknown test name"
}

run_test_main test_exit_codes test_binaries test_selector test_errata test_aborts test_signals test_logs test_git_bisect
