#!/usr/bin/env bash
# The guest runtime's own error paths, booted for real under QEMU TCG: an
# unexpected exception ends the run as ERROR with a register dump and keeps the
# verdicts printed before it; a typo on the command line is an ERROR, never a pass.
# Prints TAP and a final "harness tests: P passed, F failed" line.
set -u

HVT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$HVT_ROOT" || exit 2

passed=0 failed=0 number=0
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT

ok() {
	number=$((number + 1))
	if [[ "$1" == 0 ]]; then
		passed=$((passed + 1))
		echo "ok $number - $2"
	else
		failed=$((failed + 1))
		echo "not ok $number - $2"
		[[ -f "$work/out" ]] && sed 's/^/    # /' "$work/out" | tail -n 20
	fi
}

# boot IMAGE ARGS...: x86/run on TCG; output in $work/out, exit status in $status.
boot() {
	ACCEL=tcg TIMEOUT=30 x86/run "$@" >"$work/out" 2>&1 </dev/null
	status=$?
}

has() { grep -qE -- "$1" "$work/out"; }

if [[ ! -x x86/run || ! -f x86/selftest.elf ]]; then
	echo "harness-tests: run make first" >&2
	exit 2
fi
# shellcheck source=/dev/null
. ./config.sh
if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "1..0 # SKIP QEMU ('$QEMU') is not installed"
	echo "harness tests: 0 passed, 0 failed"
	exit 0
fi

boot x86/selftest.elf catch.ud unexpected.ud
ok "$(( status == 99 ? 0 : 1 ))" "unexpected #UD: the run is ERROR (exit $status)"
has '^HVT PASS 1 catch.ud'; ok $? "unexpected #UD: the verdict printed before it is kept"
has '^# unexpected #UD \(vector 6\)' && has '^# rip [0-9a-f]{16} cs 0008' && has '^# rax '
ok $? "unexpected #UD: vector and registers are dumped"
has '^HVT ERROR 2 unexpected.ud: unexpected #UD'; ok $? "unexpected #UD: the ERROR names the check"

boot x86/selftest.elf unexpected.pf
ok "$(( status == 99 ? 0 : 1 ))" "unexpected #PF: the run is ERROR (exit $status)"
has 'cr2 0000008000000000'; ok $? "unexpected #PF: CR2 is dumped"

boot x86/selftest.elf catch.nonexistent
ok "$(( status == 99 ? 0 : 1 ))" "a selector that matches nothing is ERROR (exit $status)"
has "no check of test selftest matches 'catch.nonexistent'"; ok $? "... and says which"

boot x86/selftest.elf probe=1 bogus_option=1
ok "$(( status == 99 ? 0 : 1 ))" "an unknown option is ERROR (exit $status)"
has "unknown option 'bogus_option=1'"; ok $? "... and says which"

boot x86/selftest.elf -catch.bp 'catch.*'
ok "$(( status == 0 ? 0 : 1 ))" "selectors: include a group, exclude one entry (exit $status)"
has '^HVT PASS [0-9]+ catch.ud' && ! has '^HVT .*catch\.bp' && ! has '^HVT .*printf'
ok $? "... only the selected checks ran"

boot x86/selftest.elf probe=0x5eee cmdline
ok "$(( status == 1 ? 0 : 1 ))" "a wrong probe value is a FAIL (exit $status)"

boot x86/selftest.elf unexpected
ok "$(( status == 99 ? 0 : 1 ))" "on-request entries run when a pattern selects them (exit $status)"

boot x86/selftest.elf
! has 'unexpected'; ok $? "on-request entries do not run by default"

echo "1..$number"
echo "harness tests: $passed passed, $failed failed"
((failed == 0))
