#!/usr/bin/env bash
# Tests of run_tests.sh and x86/run against a fake hypervisor
# (scripts/tests/fake-qemu). They run in a temporary tree that links to the
# real scripts and host tools, so the repository's logs/ and x86/ are left
# alone. Output is TAP, then "runner tests: P passed, F failed"; the exit
# status is non-zero when a test failed.
set -u

SUITE="runner tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------ fixtures

# run_tests [ARG...]: run the runner in the tree with the fake hypervisor.
run_tests() {
	QEMU=${QEMU_OVERRIDE:-$FAKE} "$TREE/run_tests.sh" "$@" >"$out" 2>"$err"
	rc=$?
}

x86_run() {
	QEMU=${QEMU_OVERRIDE:-$FAKE} "$TREE/x86/run" "$@" >"$out" 2>"$err"
	rc=$?
}

# Processes still alive (not zombies) whose command line holds $1.
leftovers() {
	ps -eo stat=,args= | awk -v m="$1" '$1 !~ /^Z/ && index($0, m) && !/awk/'
}

# ------------------------------------------------------------ verdicts

test_verdicts() {
	local m line want
	cfg_of pass fail skip error hang silent reset garbage forged nonce crash noboot \
		>"$WORK/verdicts.cfg"
	run_tests --config "$WORK/verdicts.cfg" --hypervisor qemu-tcg -j 6
	expect_rc 1
	expect_last_line "$out" "1 passed, 10 failed, 1 skipped"
	expect_line "$out" '^\(checks: [0-9]+ pass, [0-9]+ fail, [0-9]+ skip, [0-9]+ expected failures'
	finish "a run of every fake mode ends with the counts and exits 1"

	for line in "pass:PASS" "fail:FAIL" "skip:SKIP" "error:ERROR" \
		"hang:ERROR.*timed out" "silent:ERROR.*end marker" \
		"reset:ERROR.*(begin|reset)" "garbage:ERROR" "forged:ERROR.*after" \
		"nonce:ERROR.*nonce" "crash:ERROR.*SIGSEGV" "noboot:ERROR.*could not load kernel"; do
		m=${line%%:*} want=${line#*:}
		expect_line "$out" "^${want%%.\**} +$m \(qemu-tcg\) +[0-9]+\.[0-9]+ s"
		[[ "$want" == *'.*'* ]] && expect_line "$out" "^${want%%.\**} +$m \(qemu-tcg\).*${want#*.\*}"
		finish "fake mode $m gives ${want%%.\**}"
	done
}

test_hang_cleanup() {
	local marker=$RANDOM$RANDOM start end
	cfg_of hang >"$WORK/hang.cfg"
	start=$SECONDS
	FAKE_SLEEP=1000.$marker run_tests --config "$WORK/hang.cfg" --hypervisor qemu-tcg
	end=$SECONDS
	expect_rc 1
	expect_line "$out" '^ERROR hang \(qemu-tcg\) +[23]\.[0-9]+ s: .*timed out'
	((end - start < 10)) || fail "took $((end - start)) s for a 2 s timeout"
	sleep 0.2
	[[ -z "$(leftovers "1000.$marker")" ]] || fail "left behind: $(leftovers "1000.$marker")"
	finish "a hanging guest times out as ERROR and leaves no process behind"
}

# A hypervisor that crashes, or never exits, after the guest's end marker is
# not a pass: hvt-verdict gets its exit status and names the signal or the
# timeout.
test_abnormal_end() {
	cfg_of endcrash endhang >"$WORK/end.cfg"
	run_tests --config "$WORK/end.cfg" --hypervisor qemu-tcg
	expect_rc 1
	expect_line "$out" '^ERROR endcrash \(qemu-tcg\).*: the guest finished, but qemu-tcg was then killed by SIGSEGV \(exit status 139\)'
	expect_line "$out" '^ERROR endhang \(qemu-tcg\).*: the guest finished, but qemu-tcg did not exit: timed out after 2 s'
	expect_last_line "$out" "0 passed, 2 failed, 0 skipped"
	dir=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$out")
	expect_line "$TREE/$dir/units.tsv" $'^endcrash\tqemu-tcg\tERROR\t.*SIGSEGV'
	expect_line "$TREE/$dir/endhang.qemu-tcg.summary" '^reason=.*timed out after 2 s'
	finish "a hypervisor that crashes or hangs after END is ERROR, naming the signal or the timeout"
}

# The guest's BEGIN line must name the image that was booted; the cfg entry
# may be named otherwise (xen_p2m_fixup boots xen_p2m.elf).
test_image_name() {
	printf '[alias]\nfile = pass.elf\nargs = fake_mode=pass\n' >"$WORK/alias.cfg"
	run_tests --config "$WORK/alias.cfg" --hypervisor qemu-tcg
	expect_rc 0
	expect_line "$out" '^PASS  alias \(qemu-tcg\)'
	finish "a cfg entry named otherwise than its image passes"

	cfg_of pass >"$WORK/pass.cfg"
	FAKE_TEST=boot run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	expect_rc 1
	expect_line "$out" "^ERROR pass \\(qemu-tcg\\).*: the guest reports test 'boot', but the image booted is test 'pass'"
	finish "a guest whose BEGIN names another test than the image is ERROR"

	FAKE_TEST=boot ACCEL=tcg x86_run "$TREE/x86/pass.elf"
	expect_rc 99
	expect_line "$out" "the guest reports test 'boot', but the image booted is test 'pass'"
	finish "x86/run: a guest whose BEGIN names another test than the image is ERROR"
}

# What the hypervisor says on stderr reaches the progress line, results.txt
# and units.tsv bounded and without control bytes (no ANSI escapes).
test_hv_stderr() {
	local dir f
	cfg_of rant >"$WORK/rant.cfg"
	run_tests --config "$WORK/rant.cfg" --hypervisor qemu-tcg
	expect_rc 1
	dir=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$out")
	expect_line "$out" '^ERROR rant \(qemu-tcg\).*; qemu-tcg said: \?\[2J\?\[31mqemu-system-x86_64: red alert\? xxx'
	for f in "$out" "$TREE/$dir/results.txt" "$TREE/$dir/units.tsv"; do
		LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$f" && fail "control bytes in ${f##*/}"
		(($(wc -L <"$f") < 1000)) || fail "a line of ${f##*/} is $(wc -L <"$f") bytes long"
	done
	[[ $(stat -c %s "$TREE/$dir/rant.qemu-tcg.err") -gt 1048576 ]] || fail "the .err file is not kept whole"
	finish "the hypervisor's stderr in the reason is bounded and has no control bytes"
}

# A hypervisor that ignores the timeout's SIGTERM gets SIGKILL 5 s later:
# it still timed out, and is reported so.
test_stubborn_timeout() {
	local marker=$RANDOM$RANDOM
	cfg_of stubborn >"$WORK/stubborn.cfg"
	FAKE_SLEEP=1000.$marker run_tests --config "$WORK/stubborn.cfg" --hypervisor qemu-tcg
	expect_rc 1
	expect_line "$out" '^ERROR stubborn \(qemu-tcg\).*: timed out after 2 s'
	expect_no_line "$out" 'SIGKILL'
	sleep 0.2
	[[ -z "$(leftovers "1000.$marker")" ]] || fail "left behind: $(leftovers "1000.$marker")"
	finish "a hypervisor that ignores SIGTERM at the timeout is reported as timed out, not killed"
}

# ------------------------------------------------------------ configuration

test_bad_cfg() {
	printf '[ok]\nfile = pass.elf\n[bad]\nfile = pass.elf\nsmp = 100\n' >"$WORK/bad.cfg"
	: >"$WORK/argv"
	FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/bad.cfg" --hypervisor qemu-tcg
	expect_rc 2
	expect_line "$err" "bad\.cfg:5: smp: 100 is out of range"
	[[ -s "$WORK/argv" ]] && fail "a hypervisor was started"
	finish "a malformed cfg stops the run with FILE:LINE: message and boots nothing"

	UNITTESTS_CFG=$WORK/bad.cfg run_tests --hypervisor qemu-tcg
	expect_rc 2
	expect_line "$err" "bad\.cfg:5:"
	finish "UNITTESTS_CFG selects the cfg too"

	{ printf '[long]\nfile = pass.elf\nargs = '; head -c 204800 /dev/zero | tr '\0' x; echo; } >"$WORK/long.cfg"
	run_tests --config "$WORK/long.cfg" --hypervisor qemu-tcg
	expect_rc 2
	expect_line "$err" "long\.cfg:3: args: the value is 204800 bytes long \(at most 4096\)"
	finish "a 200 KiB cfg value is a cfg error, not an exec failure"
}

# TIMEOUT is checked like the cfg's timeout: 0 and overflowing values would
# disable the timeout or wrap around; -j is bounded.
test_bad_settings() {
	local v want
	cfg_of pass >"$WORK/pass.cfg"
	for v in "0:0 is out of range (1s..1440m)" "0m:0m is out of range" \
		"18446744073709551617:18446744073709551617 is out of range" "1441m:1441m is out of range" \
		"86401:86401 is out of range" "5x:'5x' is not a duration (seconds, or with a suffix s or m)"; do
		want=${v#*:} v=${v%%:*}
		: >"$WORK/argv"
		TIMEOUT=$v FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
		expect_rc 2
		expect_line "$err" "^run_tests.sh: TIMEOUT: ${want//[()]/.}"
		[[ -s "$WORK/argv" ]] && fail "a hypervisor was started"
		TIMEOUT=$v ACCEL=tcg x86_run "$TREE/x86/pass.elf"
		expect_rc 2
		expect_line "$err" "^x86/run: TIMEOUT: ${want//[()]/.}"
		finish "TIMEOUT=$v is refused like the cfg's timeout (run_tests.sh, x86/run)"
	done

	TIMEOUT=1440m run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	expect_rc 0
	finish "TIMEOUT=1440m, the cfg's longest timeout, is accepted"

	for v in 9223372036854775808 0 1025 -1; do
		run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg -j "$v"
		expect_rc 2
		expect_line "$err" "^run_tests.sh: -j needs a number from 1 to 1024, not '$v'"
		finish "-j $v is a usage error"
	done
}

test_bad_errata() {
	cfg_of pass >"$WORK/pass.cfg"
	echo "qemu-tcg * pass:basic.one" >"$WORK/bad-errata.cfg"
	run_tests --config "$WORK/pass.cfg" --errata "$WORK/bad-errata.cfg" --hypervisor qemu-tcg
	expect_rc 2
	expect_line "$err" "bad-errata\.cfg:1:"
	finish "a malformed errata file stops the run before booting"
}

test_selection_errors() {
	cfg_of pass fail >"$WORK/sel.cfg"
	run_tests --config "$WORK/sel.cfg" --hypervisor qemu-tcg pass nosuchtest
	expect_rc 2
	expect_line "$err" "unknown test 'nosuchtest'"
	finish "an unknown test name is an error (exit 2)"

	run_tests --config "$WORK/sel.cfg" --hypervisor qemu-tcg -g nosuchgroup
	expect_rc 2
	expect_line "$err" "group 'nosuchgroup' selects no test"
	finish "a group that selects nothing is an error (exit 2)"

	run_tests --config "$WORK/sel.cfg" --hypervisor hyperv
	expect_rc 2
	expect_line "$err" "unknown hypervisor 'hyperv'"
	finish "an unknown hypervisor is an error (exit 2)"

	run_tests --config "$WORK/sel.cfg" --list
	expect_rc 0
	[[ "$(cat "$out")" == $'pass\nfail' ]] || fail "list is '$(cat "$out")'"
	finish "--list prints the selected tests"

	run_tests --config "$WORK/sel.cfg" --hypervisor qemu-tcg -g all fail
	expect_rc 1
	expect_last_line "$out" "0 passed, 1 failed, 0 skipped"
	finish "names and the implicit group all select together"
}

# ------------------------------------------------------------ skips, errata, TAP

test_skips() {
	{
		printf '[needs_vmx]\nfile = pass.elf\nrequires = vmx\n'
		printf '[kvm_only]\nfile = pass.elf\nhypervisors = qemu-kvm\n'
		printf '[no_image]\nfile = missing.elf\n'
	} >"$WORK/skips.cfg"
	run_tests --config "$WORK/skips.cfg" --hypervisor qemu-tcg   # probes once
	: >"$WORK/argv"
	FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/skips.cfg" --hypervisor qemu-tcg
	expect_rc 1
	expect_line "$out" '^SKIP  needs_vmx \(qemu-tcg\): qemu-tcg lacks vmx \(CPU model max\)$'
	expect_line "$out" '^SKIP  kvm_only \(qemu-tcg\): not run on qemu-tcg'
	expect_line "$out" '^ERROR no_image \(qemu-tcg\): image x86/missing.elf not found'
	expect_last_line "$out" "0 passed, 1 failed, 2 skipped"
	[[ -s "$WORK/argv" ]] && fail "a hypervisor was started"
	finish "requires and hypervisors skip without booting (the probe is cached)"
}

# ------------------------------------------------------------ availability

# How many times the probe guest was booted, from a FAKE_ARGV_FILE.
probe_boots() {
	grep -c 'hvprobe\.elf$' "$1"
}

test_availability() {
	local n
	cfg_of pass >"$WORK/pass.cfg"
	printf '[svm]\nfile = pass.elf\nrequires = svm\n\n[vmx]\nfile = pass.elf\nrequires = vmx\nbochs_cpu = corei7_skylake_x\n' \
		>"$WORK/arch.cfg"
	printf '[vmx]\nfile = pass.elf\nrequires = vmx\nbochs_cpu = corei7_skylake_x\n' >"$WORK/vmx.cfg"

	for bin in "$WORK/no/such/qemu" "$ROOT/scripts/tests/fake-bochs"; do
		forget_probes
		QEMU_OVERRIDE=$bin run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
		expect_rc 3
		expect_line "$err" "^run_tests.sh: qemu-tcg cannot run guests: "
		[[ "$(grep -c 'cannot run guests' "$err")" == 1 ]] || fail "the cause is not said once"
		expect_no_line "$out" '^(PASS|SKIP|ERROR|FAIL) '
		finish "--hypervisor qemu-tcg with QEMU=${bin##*/}: exit 3, one line naming the cause, no test"
	done
	expect_line "$err" "cannot run guests: .*(exit status|killed)"

	forget_probes
	FAKE_PROBE=crash run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	expect_rc 3
	expect_line "$err" "^run_tests.sh: qemu-tcg cannot run guests: .*killed by SIGSEGV"
	finish "a QEMU that crashes at start: exit 3, the signal named"

	forget_probes
	BOCHS=$ROOT/scripts/tests/fake-bochs QEMU_OVERRIDE=$WORK/no/such/qemu \
		run_tests --config "$WORK/arch.cfg"
	expect_rc 0
	expect_line "$out" "^  qemu-tcg: passed over, unavailable: QEMU binary '.*no/such/qemu' not found"
	expect_line "$out" '^PASS  vmx \(bochs\)'
	expect_line "$out" '^SKIP  svm \(none\): no hypervisor can run it \(qemu-kvm: unavailable; qemu-tcg: unavailable; bochs: lacks svm \(CPU model corei7_skylake_x\); xen: unavailable\)'
	[[ "$(grep -c 'no/such/qemu' "$out")" == 2 ]] || fail "each unavailable hypervisor is not said once"
	finish "auto mode passes over a missing QEMU, says why once, and runs the rest on Bochs"

	forget_probes
	: >"$WORK/argv"
	BOCHS=$WORK/no/bochs FAKE_FEATURES="vmx ept" FAKE_BAD_CPUS="host" FAKE_ARGV_FILE=$WORK/argv \
		run_tests --config "$WORK/vmx.cfg" -t
	expect_rc 0
	expect_line "$err" '^  qemu-kvm: .* -cpu host,-arch-capabilities \(-cpu host does not boot: .*failed to set MSR 0x10a.*SIGABRT'
	expect_line "$err" '^PASS  vmx \(qemu-kvm\)'
	expect_line "$out" '^# qemu-kvm: .*-cpu host,-arch-capabilities \(-cpu host does not boot'
	expect_line "$WORK/argv" '^host,-arch-capabilities$'
	finish "qemu-kvm falls back to the first CPU model that boots, and says which (progress, TAP)"

	printf '[vmx]\nfile = fail.elf\nargs = fake_mode=fail\nrequires = vmx\n' >"$WORK/vmxfail.cfg"
	FAKE_FEATURES="vmx ept" FAKE_BAD_CPUS="host" run_tests --config "$WORK/vmxfail.cfg" \
		--hypervisor qemu-kvm -t
	expect_line "$out" '^  cpu: "host,-arch-capabilities"'
	finish "the TAP diagnostics of a test that did not pass name the CPU model"

	: >"$WORK/argv"
	BOCHS=$WORK/no/bochs FAKE_FEATURES="vmx ept" FAKE_BAD_CPUS="host" FAKE_ARGV_FILE=$WORK/argv \
		run_tests --config "$WORK/vmx.cfg"
	expect_rc 0
	n=$(probe_boots "$WORK/argv")
	[[ "$n" == 0 ]] || fail "the second run booted the probe $n times"
	finish "a second run reads the probe cache and boots no probe"

	cp -p "$FAKE" "$WORK/fake-qemu-copy"
	: >"$WORK/argv"
	QEMU_OVERRIDE=$WORK/fake-qemu-copy FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	n=$(probe_boots "$WORK/argv")
	[[ "$n" == 1 ]] || fail "another binary booted the probe $n times, not once"
	touch -d '+1 minute' "$WORK/fake-qemu-copy"
	: >"$WORK/argv"
	QEMU_OVERRIDE=$WORK/fake-qemu-copy FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	n=$(probe_boots "$WORK/argv")
	[[ "$n" == 1 ]] || fail "a changed binary booted the probe $n times, not once"
	finish "the probe cache is keyed by the binary (path, size, time)"

	forget_probes
	CPU=host FAKE_BAD_CPUS="host" run_tests --config "$WORK/pass.cfg" --hypervisor qemu-kvm
	expect_rc 3
	expect_line "$err" 'qemu-kvm cannot run guests: .*failed to set MSR 0x10a'
	finish "CPU= wins over the fallbacks: a model that does not boot is the cause"

	forget_probes
	FAKE_FEATURES="" run_tests --config "$WORK/arch.cfg" --hypervisor qemu-tcg
	expect_rc 77
	expect_line "$out" '^SKIP  svm \(qemu-tcg\): qemu-tcg lacks svm \(CPU model max\)$'
	expect_last_line "$out" "0 passed, 0 failed, 2 skipped"
	expect_line "$out" "no test ran"
	finish "a model that hides a feature skips the test, naming it; a run that ran nothing exits 77"

	forget_probes
	BOCHS=$WORK/no/bochs FAKE_ACCELS=tcg run_tests --config "$WORK/pass.cfg" --hypervisor all
	expect_rc 0
	expect_line "$out" '^  qemu-kvm: passed over, unavailable: .*invalid accelerator kvm'
	expect_line "$out" '^  bochs: passed over, unavailable: Bochs binary'
	expect_line "$out" '^PASS  pass \(qemu-tcg\)'
	expect_last_line "$out" "1 passed, 0 failed, 0 skipped"
	finish "--hypervisor all runs on every available hypervisor and names the others"

	run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg@99.1
	expect_rc 3
	expect_line "$err" 'qemu-tcg@99.1 cannot run guests: qemu-tcg 99.1 is not provisioned: .*scripts/get-hypervisor qemu 99.1'
	finish "a version that is not provisioned is named, with the command that provisions it"

	# The configured QEMU is 7.2.0 (the fake's default), but not a gcov build.
	run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg@7.2-gcov
	expect_rc 3
	expect_line "$err" 'qemu-tcg 7\.2-gcov is not provisioned: build/hv/qemu-7\.2-gcov is missing \(run scripts/get-hypervisor qemu 7\.2-gcov\)$'
	finish "a gcov build is never the configured binary, even of that version"
	mkdir -p "$TREE/build/hv/qemu-7.2-gcov/bin"
	ln -s "$FAKE" "$TREE/build/hv/qemu-7.2-gcov/bin/qemu-system-x86_64"
	run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg@7.2-gcov
	expect_rc 0
	expect_line "$out" '^PASS  pass \(qemu-tcg@7\.2-gcov\)'
	finish "a provisioned gcov build runs as build/hv/qemu-VERSION-gcov"
	rm -rf "$TREE/build/hv/qemu-7.2-gcov"
	run_tests --config "$WORK/pass.cfg" --hypervisor xen@4.20-gcov
	expect_rc 2
	expect_line "$err" "unknown hypervisor 'xen@4\.20-gcov'"
	finish "Xen has no gcov build"
	forget_probes
}

# ------------------------------------------------------------ Xen backend

test_xen() {
	echo "not really Xen" >"$WORK/xen"
	cfg_of pass >"$WORK/pass.cfg"
	printf '[p2m]\nfile = pass.elf\nargs = fake_mode=pass a=b,c\nxen_params = dom0=pvh,pf-fixup loglvl=all\nqemu_params = -device pc-testdev\n' \
		>"$WORK/xen.cfg"
	forget_probes
	: >"$WORK/argv"
	XEN=$WORK/xen FAKE_FEATURES="xen" FAKE_ARGV_FILE=$WORK/argv \
		run_tests --config "$WORK/xen.cfg" --hypervisor xen
	expect_rc 0
	expect_line "$out" '^PASS  p2m \(xen\)'
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-machine q35 -accel tcg -cpu max -m 1024 '
	expect_line "$WORK/argv1" '-device amd-iommu '
	expect_line "$WORK/argv1" "-kernel $WORK/xen -append console=com2 com2=115200,8n1,0x2f8,3 dom0=pvh,pf-fixup dom0_mem=256M noreboot loglvl=all "
	expect_line "$WORK/argv1" '-initrd x86/pass.elf fake_mode=pass a=b,,c nonce=[0-9a-f]{16} -device pc-testdev'
	finish "xen: the test is Xen's PVH dom0 under QEMU TCG; the cfg's xen_params and qemu_params apply"

	forget_probes
	XEN=$WORK/xen FAKE_XEN_PANIC="iommu must be enabled for PVH hardware domain" \
		run_tests --config "$WORK/pass.cfg" --hypervisor xen
	expect_rc 3
	expect_line "$err" '^run_tests.sh: xen cannot run guests: xen: Panic on CPU 0: iommu must be enabled for PVH hardware domain'
	finish "a Xen that panics at boot: the run ends before any test, quoting Xen"

	forget_probes
	XEN=$WORK/xen FAKE_FEATURES="xen" run_tests --config "$WORK/pass.cfg" --hypervisor xen
	XEN=$WORK/xen FAKE_FEATURES="xen" FAKE_XEN_PANIC="Assertion 'x' failed at p2m.c:42" \
		run_tests --config "$WORK/pass.cfg" --hypervisor xen
	expect_rc 1
	expect_line "$out" "^ERROR pass \\(xen\\).*xen said: xen: Panic on CPU 0: Assertion 'x' failed at p2m.c:42"
	finish "a Xen panic during a test: ERROR, the reason quotes Xen, no timeout waited for"

	run_tests --config "$WORK/pass.cfg" --hypervisor xen@4.99
	expect_rc 3
	expect_line "$err" 'xen 4.99 is not provisioned: .*scripts/get-hypervisor xen 4.99'
	finish "xen@VERSION names the provisioned Xen"
	forget_probes
}

test_errata() {
	cfg_of xfail >"$WORK/xfail.cfg"
	echo "qemu-tcg * xfail:known.bug the fake deviates on purpose (SDM Vol. 0 0.0)" >"$WORK/errata.cfg"
	run_tests --config "$WORK/xfail.cfg" --errata "$WORK/errata.cfg" --hypervisor qemu-tcg
	expect_rc 0
	expect_line "$out" '^PASS  xfail \(qemu-tcg\)'
	expect_line "$out" '^\(checks: 1 pass, 0 fail, 0 skip, 1 expected failures\)$'
	finish "an errata entry turns a failure into an expected failure"

	ERRATA_CFG=$WORK/errata.cfg run_tests --config "$WORK/xfail.cfg" --hypervisor qemu-kvm
	expect_rc 1
	expect_line "$out" '^FAIL  xfail \(qemu-kvm\)'
	finish "errata apply per hypervisor (ERRATA_CFG)"
}

test_tap() {
	cfg_of pass fail skip >"$WORK/tap.cfg"
	run_tests --config "$WORK/tap.cfg" --hypervisor qemu-tcg -t
	expect_rc 1
	[[ "$(head -n 2 "$out")" == $'TAP version 13\n1..3' ]] || fail "no TAP header and plan"
	[[ $(grep -cE '^(not )?ok [1-3] - ' "$out") == 3 ]] || fail "not 3 test points"
	expect_line "$out" '^not ok [1-3] - fail'
	expect_line "$out" '^ok [1-3] - skip.*# SKIP'
	expect_last_line "$out" "1 passed, 1 failed, 1 skipped"
	expect_line "$err" '^PASS  pass \(qemu-tcg\)'
	expect_no_line "$out" '^PASS  pass'
	finish "-t prints TAP 13 on stdout and progress on stderr"

	run_tests --config "$WORK/tap.cfg" --hypervisor qemu-tcg -v fail
	expect_line "$out" 'HVT FAIL 2 basic.two'
	finish "-v shows the console of a failing test"
}

# ------------------------------------------------------------ command, nonce, logs

test_command() {
	local nonce1 nonce2
	printf '[cmd]\nfile = pass.elf\nargs = a=1 sel.*\nsmp = 2\nmemory = 1G\nqemu_cpu = Haswell\nqemu_params = -machine q35 -s\n' \
		>"$WORK/cmd.cfg"
	: >"$WORK/argv"
	FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/cmd.cfg" --hypervisor qemu-tcg
	expect_rc 0
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-machine pc -accel tcg -cpu Haswell -m 1024 -smp 2 '
	expect_line "$WORK/argv1" '-display none -vga none -nodefaults -no-reboot '
	expect_line "$WORK/argv1" '-device isa-debug-exit,iobase=0xf4,iosize=0x04 '
	expect_line "$WORK/argv1" '-kernel x86/pass.elf -append a=1 sel\.\* nonce=[0-9a-f]{16} -machine q35 -s +$'
	nonce1=$(grep -oE 'nonce=[0-9a-f]{16}' "$WORK/argv1")
	finish "the QEMU command follows the cfg entry and appends a nonce"

	: >"$WORK/argv"
	FAKE_ARGV_FILE=$WORK/argv ACCEL=kvm run_tests --config "$WORK/cmd.cfg"
	nonce2=$(tr '\n' ' ' <"$WORK/argv" | grep -oE 'nonce=[0-9a-f]{16}')
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv2"
	expect_line "$WORK/argv2" '-accel kvm '
	[[ -n "$nonce1" && "$nonce1" != "$nonce2" ]] || fail "nonce not fresh: '$nonce1' '$nonce2'"
	expect_line "$out" '\(qemu-kvm\)'
	finish "ACCEL=kvm selects qemu-kvm; every run has a fresh nonce"
}

test_logs() {
	local dir
	cfg_of pass >"$WORK/pass.cfg"
	run_tests --config "$WORK/pass.cfg" --hypervisor qemu-tcg
	dir=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$out")
	[[ -n "$dir" && -d "$TREE/$dir" ]] || fail "no run directory announced"
	[[ "$(readlink "$TREE/logs/latest")" == "${dir#logs/}" ]] || fail "logs/latest does not point at $dir"
	expect_line "$TREE/logs/pass.qemu-tcg.log" '^HVT END '
	[[ -L "$TREE/logs/pass.qemu-tcg.log" ]] || fail "logs/pass.qemu-tcg.log is not a link"
	for f in log cmd summary tap; do
		[[ -f "$TREE/$dir/pass.qemu-tcg.$f" ]] || fail "no $dir/pass.qemu-tcg.$f"
	done
	[[ -f "$TREE/$dir/results.tap" && -f "$TREE/$dir/results.txt" ]] || fail "no results files"
	finish "logs: a run directory, logs/latest and logs/NAME.HYPERVISOR.log"
}

test_concurrent_runs() {
	local rc1 rc2 d1 d2
	cfg_of slow pass >"$WORK/two.cfg"
	QEMU=$FAKE FAKE_SLEEP=1 "$TREE/run_tests.sh" --config "$WORK/two.cfg" --hypervisor qemu-tcg \
		>"$WORK/out1" 2>&1 &
	local p1=$!
	QEMU=$FAKE FAKE_SLEEP=1 "$TREE/run_tests.sh" --config "$WORK/two.cfg" --hypervisor qemu-tcg \
		>"$WORK/out2" 2>&1 &
	local p2=$!
	wait "$p1"; rc1=$?
	wait "$p2"; rc2=$?
	d1=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$WORK/out1")
	d2=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$WORK/out2")
	((rc1 == 0 && rc2 == 0)) || fail "exit statuses $rc1 and $rc2"
	[[ -n "$d1" && "$d1" != "$d2" ]] || fail "run directories '$d1' and '$d2'"
	expect_last_line "$WORK/out1" "2 passed, 0 failed, 0 skipped"
	expect_last_line "$WORK/out2" "2 passed, 0 failed, 0 skipped"
	for d in "$d1" "$d2"; do
		[[ $(grep -c '^HVT BEGIN' "$TREE/$d/slow.qemu-tcg.log" 2>/dev/null) == 1 ]] ||
			fail "$d/slow.qemu-tcg.log does not hold exactly one run"
	done
	finish "two runs in one tree at once keep separate logs"
}

# ------------------------------------------------------------ Ctrl-C

# Milliseconds since START (an $EPOCHREALTIME value).
hvt_ms() {
	local now=$EPOCHREALTIME
	echo $(( (${now/./} - ${1/./}) / 1000 ))
}

test_interrupt() {
	local marker=$RANDOM$RANDOM pid i dir start
	{
		for i in 1 2 3 4 5; do
			printf '[slow%s]\nfile = slow.elf\nargs = fake_mode=slow\n' "$i"
		done
	} >"$WORK/int.cfg"
	# Job control: the runner gets a process group of its own and, unlike
	# a plain background job, does not ignore SIGINT.
	set -m
	QEMU=$FAKE FAKE_SLEEP=30.$marker "$TREE/run_tests.sh" --config "$WORK/int.cfg" \
		--hypervisor qemu-tcg -j 3 >"$out" 2>"$err" &
	pid=$!
	set +m
	for ((i = 0; i < 100; i++)); do
		[[ $(leftovers "30.$marker" | grep -c 'sleep') -ge 3 ]] && break
		sleep 0.1
	done
	[[ $(leftovers "30.$marker" | grep -c 'sleep') -ge 3 ]] || fail "3 guests did not start"
	# As a terminal does: SIGINT to the whole foreground process group.
	start=$EPOCHREALTIME
	kill -INT -- "-$pid"
	wait "$pid"
	rc=$?
	expect_rc 130
	# The guests stop at once, all together (not 2 s each, one after another).
	(($(hvt_ms "$start") < 2500)) || fail "took $(hvt_ms "$start") ms to stop 3 guests"
	sleep 0.3
	[[ -z "$(leftovers "$marker")" ]] || fail "left behind: $(leftovers "$marker")"
	expect_line "$out" 'interrupted by SIGINT'
	expect_last_line "$out" "0 passed, 0 failed, 0 skipped, 5 not run"
	dir=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$out" | head -n 1)
	[[ $(cat "$TREE/$dir"/slow*.qemu-tcg.log 2>/dev/null | grep -c '^HVT BEGIN') == 3 ]] ||
		fail "the partial logs of the 3 running guests are not kept in $dir"
	finish "Ctrl-C stops every guest, keeps the partial logs and exits 130"
}

# A Ctrl-C right after hvt-verdict judged a test, while the runner reports
# it: that test did not finish. Every report agrees on the tests that did
# (TAP, results.txt, units.tsv, JUnit, the totals), and the JUnit file and
# the last line list the others as not run. An hvt-verdict wrapper in a tree
# of its own sends the SIGINT, to the runner's process group as a terminal does.
test_interrupt_reports() {
	local TREE=$WORK/itree pid dir
	make_tree
	rm "$TREE/build/host"
	mkdir "$TREE/build/host"
	ln -s "$ROOT/build/host/hvt-cfg" "$TREE/build/host/hvt-cfg"
	ln -s "$ROOT/build/host/hvt-job" "$TREE/build/host/hvt-job"
	# shellcheck disable=SC2016 # the wrapper's own words
	printf '#!/bin/bash\n%q "$@"\nrc=$?\n[[ " $* " == *" --test victim "* ]] && { trap "" INT; kill -INT 0; sleep 0.2; }\nexit $rc\n' \
		"$ROOT/build/host/hvt-verdict" >"$TREE/build/host/hvt-verdict"
	chmod +x "$TREE/build/host/hvt-verdict"
	{
		cfg_of pass
		printf '[victim]\nfile = pass.elf\nargs = fake_mode=pass\n\n'
		printf '[slow%s]\nfile = slow.elf\nargs = fake_mode=slow\n\n' 1 2
	} >"$WORK/ireport.cfg"
	set -m
	QEMU=$FAKE FAKE_SLEEP=30 "$TREE/run_tests.sh" --config "$WORK/ireport.cfg" --hypervisor qemu-tcg \
		-j 1 --junit "$WORK/ireport.xml" >"$out" 2>"$err" &
	pid=$!
	set +m
	wait "$pid"
	rc=$?
	expect_rc 130
	expect_last_line "$out" "1 passed, 0 failed, 0 skipped, 3 not run"
	expect_line "$out" '^not run: victim \(qemu-tcg\) slow1 \(qemu-tcg\) slow2 \(qemu-tcg\)$'
	expect_no_line "$out" 'hvt-verdict failed'
	dir=$(sed -n 's/.*logs in \(logs\/run-[^ ]*\)\/$/\1/p' "$out" | head -n 1)
	[[ "$(cut -f 1,3 "$TREE/$dir/units.tsv")" == $'pass\tPASS' ]] || fail "units.tsv: $(cat "$TREE/$dir/units.tsv")"
	[[ "$(grep -E '^(not )?ok ' "$TREE/$dir/results.tap")" == "ok 1 - pass (qemu-tcg)" ]] ||
		fail "results.tap: $(cat "$TREE/$dir/results.tap")"
	expect_line "$TREE/$dir/results.tap" '^Bail out! interrupted by SIGINT'
	[[ "$(grep -c '(qemu-tcg)' "$TREE/$dir/results.txt")" == 1 ]] || fail "results.txt: $(cat "$TREE/$dir/results.txt")"
	python3 - "$WORK/ireport.xml" >"$WORK/ireport.cases" 2>&1 <<'PY' || fail "JUnit: $(cat "$WORK/ireport.cases")"
import sys, xml.etree.ElementTree as ET
for c in ET.parse(sys.argv[1]).getroot().findall("testsuite/testcase"):
    kids = [k for k in c if k.tag != "system-out"]
    print(c.get("classname"), c.get("name"), kids[0].tag + ": " + kids[0].get("message") if kids else "pass")
PY
	[[ "$(cat "$WORK/ireport.cases")" == "hvtest.qemu-tcg.pass basic.one pass
hvtest.qemu-tcg.pass basic.two pass
hvtest.qemu-tcg.victim victim skipped: not run: the run was interrupted by SIGINT
hvtest.qemu-tcg.slow1 slow1 skipped: not run: the run was interrupted by SIGINT
hvtest.qemu-tcg.slow2 slow2 skipped: not run: the run was interrupted by SIGINT" ]] ||
		fail "JUnit cases: $(cat "$WORK/ireport.cases")"
	finish "a Ctrl-C while a test is being reported: all reports agree, the rest is listed as not run"
}

# ------------------------------------------------------------ x86/run

test_x86_run() {
	local m want
	printf '[pass]\nfile = pass.elf\nsmp = 3\nargs = fake_mode=fail\n' >"$WORK/run.cfg"
	export UNITTESTS_CFG=$WORK/run.cfg
	: >"$WORK/argv"
	ACCEL=tcg FAKE_ARGV_FILE=$WORK/argv x86_run "$TREE/x86/pass.elf" fake_mode=pass
	expect_rc 0
	expect_line "$out" '^HVT END pass=2 '
	expect_line "$out" '^PASS'
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-smp 3 '
	expect_line "$WORK/argv1" '-append fake_mode=pass nonce=[0-9a-f]{16} '
	expect_line "$WORK/argv1" '-chardev file,id=com1,path=[^ ]*/logs/run-[^ ]*/pass\.qemu-tcg\.log '
	finish "x86/run: console on stdout, cfg settings, command-line args win"

	ACCEL=tcg x86_run "$TREE/x86/pass.elf"
	expect_rc 1
	finish "x86/run: the cfg entry's args apply without command-line args (FAIL = 1)"
	unset UNITTESTS_CFG

	for m in skip:77 silent:99 crash:99 noboot:99; do
		ACCEL=tcg x86_run "$TREE/x86/${m%%:*}.elf" "fake_mode=${m%%:*}"
		expect_rc "${m#*:}"
		finish "x86/run: fake mode ${m%%:*} exits ${m#*:}"
	done

	ACCEL=tcg TIMEOUT=1 x86_run "$TREE/x86/hang.elf" fake_mode=hang
	expect_rc 99
	expect_line "$out" 'timed out'
	finish "x86/run: TIMEOUT= cuts a hanging guest short (ERROR = 99)"

	: >"$WORK/argv"
	ACCEL=tcg SMP=4 MEM=2G CPU=qemu64 FAKE_ARGV_FILE=$WORK/argv \
		x86_run "$TREE/x86/pass.elf" -- -s -S
	expect_rc 0
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-cpu qemu64 -m 2048 -smp 4 '
	expect_line "$WORK/argv1" 'nonce=[0-9a-f]{16} -s -S +$'
	finish "x86/run: SMP, MEM, CPU and QEMU arguments after --"

	ACCEL=tcg QEMU_OVERRIDE=$WORK/no/such/qemu x86_run "$TREE/x86/pass.elf"
	expect_rc 99
	expect_line "$out" "^ERROR .*qemu-tcg cannot run guests: QEMU binary .* not found"
	finish "x86/run: a missing QEMU binary is an ERROR (99) naming the cause"

	printf '[vmx]
file = pass.elf
requires = vmx
' >"$WORK/vmxrun.cfg"
	forget_probes
	UNITTESTS_CFG=$WORK/vmxrun.cfg BOCHS=$ROOT/scripts/tests/fake-bochs x86_run "$TREE/x86/pass.elf"
	expect_rc 0
	expect_line "$err" '^# vmx on bochs'
	finish "x86/run: auto mode boots a test that needs VMX on the hypervisor that offers it"

	x86_run --help
	expect_rc 0
	expect_line "$out" '^Usage: x86/run'
	finish "x86/run --help"
}

run_test_main test_verdicts test_hang_cleanup test_abnormal_end test_image_name test_hv_stderr test_stubborn_timeout test_bad_cfg test_bad_settings test_bad_errata test_selection_errors test_skips test_availability test_xen test_errata test_tap test_command test_logs test_concurrent_runs test_interrupt test_interrupt_reports test_x86_run
