#!/usr/bin/env bash
# Tests of run_tests.sh's reports (--junit, --matrix, --matrix-html,
# --log-dir, --check), of scripts/matrix and scripts/skipped-everywhere, and of the faults that
# runner-tests.sh does not cover (a reset loop, an endless flood of garbage,
# SIGTERM, a Ctrl-C of x86/run), against the fake hypervisor. Output is TAP,
# then "report tests: P passed, F failed".
set -u
SUITE="report tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

run_tests() {
	QEMU=$FAKE "$TREE/run_tests.sh" "$@" >"$out" 2>"$err"
	rc=$?
}

# junit_check FILE SUITES CASES: FILE is well-formed JUnit with SUITES
# testsuites and CASES testcases; prints "classname name status" lines.
junit_check() {
	python3 - "$@" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = root.findall("testsuite")
cases = root.findall("testsuite/testcase")
assert root.tag == "testsuites", root.tag
assert len(suites) == int(sys.argv[2]), ("suites", len(suites))
assert int(sys.argv[3]) < 0 or len(cases) == int(sys.argv[3]), ("cases", len(cases))
for c in cases:
    kids = [k.tag for k in c if k.tag != "system-out"]
    assert len(kids) <= 1, kids
    print(c.get("classname"), c.get("name"), kids[0] if kids else "pass")
PY
}

test_junit() {
	local res
	{
		cfg_of pass fail skip error hang crash noboot xfail xmlchars
		printf '[needs_vmx]\nfile = pass.elf\nrequires = vmx\n\n[no_image]\nfile = missing.elf\n'
	} >"$WORK/junit.cfg"
	echo "qemu-tcg * xfail:known.bug the fake deviates on purpose (SDM Vol. 0 0.0)" >"$WORK/errata.cfg"
	# "all": the fake QEMU under both accelerators; bochs is passed over.
	BOCHS=$WORK/no/bochs run_tests --config "$WORK/junit.cfg" --errata "$WORK/errata.cfg" \
		--hypervisor all -j 6 --junit "$WORK/junit.xml"
	expect_rc 1
	expect_line "$out" '^  bochs: passed over, unavailable: Bochs binary'
	# Per QEMU hypervisor: pass 2, fail 2, skip 2, error 2, hang 2 (a check
	# and the console), crash 1, noboot 1, xfail 2 (1 on qemu-kvm, whose
	# errata are others: 2 as well), xmlchars 2, needs_vmx 1, no_image 1.
	res=$(junit_check "$WORK/junit.xml" 22 $((2 * (2 + 2 + 2 + 2 + 2 + 1 + 1 + 2 + 2 + 1 + 1))))
	[[ "$res" == *Error* ]] && fail "JUnit: $res"
	printf '%s\n' "$res" >"$WORK/cases"
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.pass basic\.one pass$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.fail basic\.two failure$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.skip basic\.one skipped$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.error - error$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.hang console error$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.xfail known\.bug skipped$'
	expect_line "$WORK/cases" "^hvtest\.qemu-tcg\.xmlchars a<b>&\"c' failure$"
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.needs_vmx needs_vmx skipped$'
	expect_line "$WORK/cases" '^hvtest\.qemu-tcg\.no_image no_image error$'
	expect_line "$WORK/cases" '^hvtest\.qemu-kvm\.xfail known\.bug failure$'
	finish "--junit: one valid document, a testsuite per test and hypervisor, a testcase per check"
}

test_junit_interrupted() {
	local pid i
	{
		cfg_of pass
		printf '[slow1]\nfile = slow.elf\nargs = fake_mode=slow\n[slow2]\nfile = slow.elf\nargs = fake_mode=slow\n'
	} >"$WORK/int.cfg"
	set -m
	QEMU=$FAKE FAKE_SLEEP=30 "$TREE/run_tests.sh" --config "$WORK/int.cfg" --hypervisor qemu-tcg \
		-j 3 --junit "$WORK/int.xml" >"$out" 2>"$err" &
	pid=$!
	set +m
	for ((i = 0; i < 50; i++)); do
		grep -q '^PASS  pass' "$out" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.3
	kill -INT -- "-$pid"
	wait "$pid"
	rc=$?
	expect_rc 130
	res=$(junit_check "$WORK/int.xml" 3 4)
	[[ "$res" == *"hvtest.qemu-tcg.pass basic.one pass"* ]] || fail "JUnit after Ctrl-C: $res"
	[[ "$res" == *"hvtest.qemu-tcg.slow1 slow1 skipped"*"hvtest.qemu-tcg.slow2 slow2 skipped"* ]] ||
		fail "JUnit after Ctrl-C does not list the unfinished tests: $res"
	expect_last_line "$out" "1 passed, 0 failed, 0 skipped, 2 not run"
	finish "--junit after a Ctrl-C: valid, with the tests that finished and the others as not run"
}

test_log_dir() {
	local latest
	cfg_of pass fail >"$WORK/ld.cfg"
	latest=$(readlink "$TREE/logs/latest")
	run_tests --config "$WORK/ld.cfg" --hypervisor qemu-tcg --log-dir "$WORK/ld"
	expect_rc 1
	[[ -f "$WORK/ld/pass.qemu-tcg.log" && -f "$WORK/ld/fail.qemu-tcg.checks" ]] || fail "no logs in --log-dir"
	[[ "$(readlink "$TREE/logs/latest")" == "$latest" ]] || fail "logs/latest was changed"
	[[ "$(cat "$WORK/ld/units.tsv")" == $'pass\tqemu-tcg\tPASS\t\nfail\tqemu-tcg\tFAIL\t'* ]] ||
		fail "units.tsv: $(cat "$WORK/ld/units.tsv")"
	expect_line "$WORK/ld/fail.qemu-tcg.checks" $'^FAIL\tbasic\\.two$'
	finish "--log-dir keeps the run in DIR, with units.tsv and the .checks lists"

	run_tests --config "$WORK/ld.cfg" --hypervisor qemu-tcg --log-dir "$WORK/ld"
	expect_rc 2
	expect_line "$err" 'not an empty directory'
	finish "--log-dir refuses a directory that holds files"
}

# Runs started at the same instant with one --log-dir: exactly one of them
# claims it (a new directory, or an existing empty one); the others stop
# with exit 2 before booting anything.
test_log_dir_race() {
	local g i pids=() rcs won lost
	cfg_of pass >"$WORK/race.cfg"
	run_tests --config "$WORK/race.cfg" --hypervisor qemu-tcg	# the probe, cached
	mkdir -p "$WORK/race-empty"
	for g in race-new1 race-new2 race-new3 race-empty; do
		pids=()
		for ((i = 0; i < 8; i++)); do
			QEMU=$FAKE "$TREE/run_tests.sh" --config "$WORK/race.cfg" --hypervisor qemu-tcg \
				--log-dir "$WORK/$g" >"$WORK/$g.out$i" 2>&1 &
			pids+=($!)
		done
		rcs=""
		for i in "${pids[@]}"; do
			wait "$i"
			rcs+=" $?"
		done
		won=$(grep -o ' 0' <<<"$rcs" | wc -l) lost=$(grep -o ' 2' <<<"$rcs" | wc -l)
		((won == 1 && lost == 7)) || fail "$g: exit statuses$rcs (one 0 and seven 2 expected)"
		[[ $(grep -c '^HVT BEGIN' "$WORK/$g/pass.qemu-tcg.log" 2>/dev/null) == 1 ]] ||
			fail "$g/pass.qemu-tcg.log does not hold exactly one run"
		cat "$WORK/$g".out* >"$out"
		expect_line "$out" 'run_tests.sh: --log-dir .* is not an empty directory'
	done
	finish "runs started at once with one --log-dir: exactly one claims it"
}

test_check_option() {
	printf '[opts]\nfile = pass.elf\nargs = a=1 sel.* b=2\n' >"$WORK/opts.cfg"
	: >"$WORK/argv"
	FAKE_ARGV_FILE=$WORK/argv run_tests --config "$WORK/opts.cfg" --hypervisor qemu-tcg --check 'x.*'
	expect_rc 0
	tr '\n' ' ' <"$WORK/argv" >"$WORK/argv1"
	expect_line "$WORK/argv1" '-append a=1 b=2 x\.\* nonce='
	finish "--check replaces the cfg's selectors, keeps its options"
	run_tests --config "$WORK/opts.cfg" --hypervisor qemu-tcg --check 'a b'
	expect_rc 2
	finish "--check with a space is a usage error"
}

# The JUnit file and the HTML matrix are written through a fresh temporary
# file, never through a guessable name such as FILE.tmp.PID: a symbolic link
# planted there must not be followed. (exec keeps the PID the plant used.)
test_report_temporaries() {
	local d=$WORK/plant
	mkdir -p "$d"
	cfg_of pass >"$WORK/plant.cfg"
	echo precious >"$d/victim"
	QEMU=$FAKE bash -c 'ln -s "$1/victim" "$1/out.xml.tmp.$$"; shift; exec "$@"' - "$d" \
		"$TREE/run_tests.sh" --config "$WORK/plant.cfg" --hypervisor qemu-tcg --junit "$d/out.xml" \
		--log-dir "$d/run" >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	[[ "$(cat "$d/victim")" == precious ]] || fail "the planted link's target was overwritten"
	res=$(junit_check "$d/out.xml" 1 2)
	[[ "$res" == *Error* ]] && fail "JUnit: $res"
	[[ -z "$(find "$d" -maxdepth 1 -name '.out.xml.*')" ]] || fail "a temporary file was left behind"
	finish "--junit writes through a fresh temporary file, not FILE.tmp.PID"

	bash -c 'ln -s "$1/victim" "$1/m.html.tmp.$$"; shift; exec "$@"' - "$d" \
		"$ROOT/scripts/matrix" --html "$d/m.html" "$d/run" >"$out" 2>"$err"
	rc=$?
	expect_rc 0
	[[ "$(cat "$d/victim")" == precious ]] || fail "the planted link's target was overwritten"
	expect_line "$d/m.html" '</html>'
	[[ "$(stat -c %a "$d/m.html")" == "$(printf '%o' $((0666 & ~$(umask))))" ]] ||
		fail "the page's mode is $(stat -c %a "$d/m.html")"
	finish "--matrix-html (scripts/matrix --html) writes through a fresh temporary file"
}

# scripts/matrix on run directory $2, the HTML page to $1; sets rc.
run_matrix() {
	"$ROOT/scripts/matrix" --html "$1" --text "$2" >"$out" 2>"$err"
	rc=$?
}

# A run directory made by hand: the matrix's rules without any hypervisor.
test_matrix_script() {
	local d=$WORK/mx
	mkdir -p "$d"
	printf 't\tqemu-tcg\tPASS\t\nt\tqemu-kvm\tFAIL\t1 failure\nu\tqemu-tcg\tSKIP\tno vmx\nu\tqemu-kvm\tPASS\t\nw\tqemu-tcg\tSKIP\tnot run\nw\tqemu-kvm\tERROR\timage <missing>\n' \
		>"$d/units.tsv"
	printf 'PASS\tsame\nXFAIL\tdiffers\nSKIP\tskips\nNOTRUN\tkept.out\nPASS\t<b>&\n' >"$d/t.qemu-tcg.checks"
	printf 'PASS\tsame\nPASS\tdiffers\nPASS\tskips\nPASS\tkept.out\nPASS\t<b>&\nERROR\t-\n' >"$d/t.qemu-kvm.checks"
	printf 'PASS\tone\n' >"$d/u.qemu-kvm.checks"
	run_matrix "$WORK/m.html" "$d"
	expect_rc 0
	expect_line "$out" '^matrix: 8 checks on 2 hypervisors; 2 checks disagree \(marked \*\)$'
	expect_line "$out" '^  CHECK +qemu-tcg +qemu-kvm$'
	expect_line "$out" '^\* t:differs +XFAIL +PASS$'
	expect_line "$out" '^\* t:kept\.out +NOTRUN +PASS$'
	expect_line "$out" '^  t:skips +SKIP +PASS$'
	expect_line "$out" '^  t:same +PASS +PASS$'
	expect_line "$out" '^  t:- +- +ERROR$'
	expect_line "$out" '^  u:one +SKIP +PASS$'
	expect_line "$out" '^  w +SKIP +ERROR$'
	[[ "$(sed -n '3p;4p;5p' "$out" | cut -c1)" == $'*\n*\n ' ]] || fail "disagreeing rows are not first"
	finish "scripts/matrix: cells, disagreement (SKIP and not run left out), disagreeing rows first"

	expect_line "$WORK/m.html" '<strong>2 checks disagree</strong>'
	expect_line "$WORK/m.html" 't:&lt;b&gt;&amp;<'
	expect_line "$WORK/m.html" 'title="the test did not boot: image &lt;missing&gt;"'
	expect_line "$WORK/m.html" '<tr class="disagree"><td class="name">&#8800; t:differs'
	expect_no_line "$WORK/m.html" '(src|href)=|https?:|@import'
	python3 -c '
import sys, html.parser
class P(html.parser.HTMLParser):
    pass
P().feed(open(sys.argv[1]).read())' "$WORK/m.html" || fail "HTML does not parse"
	finish "scripts/matrix --html: summary, escaping, marked rows, no external assets"

	"$ROOT/scripts/matrix" "$WORK/nothing" >"$out" 2>"$err"
	rc=$?
	expect_rc 2
	finish "scripts/matrix without a run directory: exit 2"
}

# State cases (TEST_states:sS:cC) on which hypervisors disagree come first of all.
test_matrix_states() {
	local d=$WORK/mxs
	mkdir -p "$d"
	printf 'a\tqemu-tcg\tPASS\t\na\tbochs\tFAIL\t1 failure\nsvm_states\tqemu-tcg\tPASS\t\nsvm_states\tbochs\tFAIL\t1 failure\n' \
		>"$d/units.tsv"
	printf 'PASS\tfirst\n' >"$d/a.qemu-tcg.checks"
	printf 'FAIL\tfirst\n' >"$d/a.bochs.checks"
	printf 'PASS\tvalid\nPASS\ts1:c0\nPASS\ts1:c1\nNOTRUN\tcr3.mbz\nPASS\ts2:c17\n' >"$d/svm_states.qemu-tcg.checks"
	printf 'FAIL\tvalid\nPASS\ts1:c0\nFAIL\ts1:c1\nPASS\tcr3.mbz\nXFAIL\ts2:c17\n' >"$d/svm_states.bochs.checks"
	run_matrix "$WORK/ms.html" "$d"
	expect_rc 0
	expect_line "$out" '^matrix: 6 checks on 2 hypervisors; 5 checks disagree \(marked \*\)$'
	expect_line "$out" '^  2 state cases disagree \(listed first\)$'
	[[ "$(grep '^\*' "$out" | cut -c3- | awk '{print $1}' | tr '\n' ' ')" == "svm_states:s1:c1 svm_states:s2:c17 a:first svm_states:valid svm_states:cr3.mbz " ]] ||
		fail "state cases that disagree are not listed first, in run order: $(grep '^\*' "$out" | tr '\n' '|')"
	expect_line "$out" '^  svm_states:s1:c0 +PASS +PASS$'
	finish "scripts/matrix: disagreeing state cases first, counted; other state-test checks stay ordinary rows"

	expect_line "$WORK/ms.html" '<strong>2 state cases disagree</strong> \(listed first\)'
	finish "scripts/matrix --html: the state cases that disagree are counted"
}

test_matrix_run() {
	cfg_of pass xfail >"$WORK/m.cfg"
	echo "qemu-tcg * xfail:known.bug the fake deviates on purpose (SDM Vol. 0 0.0)" >"$WORK/errata.cfg"
	run_tests --config "$WORK/m.cfg" --errata "$WORK/errata.cfg" --hypervisor qemu-tcg --matrix \
		--matrix-html "$WORK/run.html"
	expect_rc 0
	expect_line "$out" '^  xfail:known\.bug +XFAIL$'
	expect_line "$out" '^0 passed|^2 passed, 0 failed, 0 skipped$'
	[[ "$(tail -n 1 "$out")" == "2 passed, 0 failed, 0 skipped" ]] || fail "the totals are not last"
	[[ -s "$WORK/run.html" ]] || fail "no HTML matrix"
	finish "--matrix on one hypervisor prints the matrix before the totals; --matrix-html"

	run_tests --config "$WORK/m.cfg" --hypervisor qemu-tcg
	expect_no_line "$out" '^matrix:'
	finish "one hypervisor without --matrix: no matrix"

	# The fake QEMU boots under either accelerator.
	run_tests --config "$WORK/m.cfg" --errata "$WORK/errata.cfg" --hypervisor qemu-tcg,qemu-kvm -t
	expect_rc 1
	expect_line "$err" '^\* xfail:known\.bug +XFAIL +FAIL$'
	expect_no_line "$out" '^matrix:'
	finish "two hypervisors print the matrix (on stderr with -t, so the TAP stays clean)"
}

# Two versions of one hypervisor: a check that deviates on the older and
# holds on the newer is "fixed in" the newer, and comes first.
test_matrix_versions() {
	mkdir -p "$TREE/build/hv/qemu-8.0/bin"
	printf '#!/bin/sh\nFAKE_VERSION=8.0.1 exec %q "$@"\n' "$FAKE" >"$TREE/build/hv/qemu-8.0/bin/qemu-system-x86_64"
	chmod +x "$TREE/build/hv/qemu-8.0/bin/qemu-system-x86_64"
	cfg_of pass fixed8 >"$WORK/v.cfg"
	echo "qemu-tcg <8.0 fixed8:known.bug the fake deviates before 8.0 (SDM Vol. 0 0.0)" >"$WORK/v-errata.cfg"
	run_tests --config "$WORK/v.cfg" --errata "$WORK/v-errata.cfg" --hypervisor qemu-tcg@7.2,qemu-tcg@8.0 \
		--matrix-html "$WORK/v.html"
	expect_rc 0
	expect_line "$out" '^PASS  fixed8 \(qemu-tcg@7\.2\).*1 expected failure'
	expect_line "$out" '^PASS  fixed8 \(qemu-tcg@8\.0\)'
	expect_line "$out" '^  1 check changed between versions'
	expect_line "$out" '^  qemu-tcg@8.0: .*build/hv/qemu-8.0/bin/qemu-system-x86_64 8.0.1, -cpu max'
	[[ "$(grep -A 1 '^  CHECK' "$out" | tail -n 1)" =~ ^\*\ fixed8:known\.bug\ +XFAIL\ +PASS\ +fixed\ in\ qemu-tcg\ 8\.0\.1$ ]] ||
		fail "the first row is not the fixed check"
	grep -q 'fixed in qemu-tcg 8.0.1' "$WORK/v.html" || fail "the HTML matrix does not say fixed in"
	finish "versions of one hypervisor side by side: fixed-in rows first, in text and HTML"
	rm -rf "$TREE/build/hv" "$TREE/build/cache/probe"
}

# ------------------------------------------------------------ faults

test_faults() {
	local start
	cfg_of resetloop flood >"$WORK/faults.cfg"
	start=$SECONDS
	run_tests --config "$WORK/faults.cfg" --hypervisor qemu-tcg --junit "$WORK/faults.xml"
	expect_rc 1
	expect_line "$out" '^ERROR resetloop \(qemu-tcg\).*(begin|reset)'
	expect_line "$out" '^ERROR flood \(qemu-tcg\).*timed out'
	((SECONDS - start < 15)) || fail "took $((SECONDS - start)) s"
	res=$(junit_check "$WORK/faults.xml" 2 3)
	[[ "$res" == *"console error"* ]] || fail "JUnit: $res"
	finish "a guest that resets in a loop or floods the console ends as ERROR within its timeout"
}

test_sigterm() {
	local pid i
	printf '[slow]\nfile = slow.elf\nargs = fake_mode=slow\n' >"$WORK/term.cfg"
	QEMU=$FAKE FAKE_SLEEP=30 "$TREE/run_tests.sh" --config "$WORK/term.cfg" --hypervisor qemu-tcg \
		>"$out" 2>"$err" &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		grep -q '^HVT BEGIN' "$TREE"/logs/latest/slow.qemu-tcg.log 2>/dev/null && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	expect_rc 143
	expect_line "$out" 'interrupted by SIGTERM'
	finish "SIGTERM stops the run (exit 143)"
}

test_x86_run_interrupt() {
	local pid i marker=$RANDOM$RANDOM
	set -m
	QEMU=$FAKE FAKE_SLEEP=30.$marker ACCEL=tcg "$TREE/x86/run" "$TREE/x86/hang.elf" fake_mode=hang \
		>"$out" 2>"$err" &
	pid=$!
	set +m
	for ((i = 0; i < 50; i++)); do
		grep -q 'HVT PASS' "$out" && break
		sleep 0.1
	done
	kill -INT -- "-$pid"
	wait "$pid"
	rc=$?
	expect_rc 130
	sleep 0.3
	ps -eo stat=,args= | awk -v m="30.$marker" '$1 !~ /^Z/ && index($0, m) && !/awk/' >"$WORK/left"
	[[ -s "$WORK/left" ]] && fail "left behind: $(cat "$WORK/left")"
	expect_line "$err" 'interrupted; console kept'
	finish "Ctrl-C stops x86/run and its guest (exit 130)"
}

# skipped_everywhere CFG DOC ARG...: scripts/skipped-everywhere with that cfg
# and skip list; sets rc.
skipped_everywhere() {
	local cfg=$1 doc=$2
	shift 2
	"$ROOT/scripts/skipped-everywhere" --config "$cfg" --doc "$doc" "$@" >"$out" 2>"$err"
	rc=$?
}

# scripts/skipped-everywhere on real runs of the fake hypervisor (two
# accelerators: the skip test skips both of its checks on both).
test_skipped_everywhere_run() {
	local d=$WORK/se-run
	cfg_of pass skip >"$WORK/se.cfg"
	run_tests --config "$WORK/se.cfg" --hypervisor qemu-tcg --log-dir "$d/tcg"
	run_tests --config "$WORK/se.cfg" --hypervisor qemu-kvm --log-dir "$d/kvm"
	printf '| check | waits for |\n| --- | --- |\n| `skip:basic.one` | vmx |\n' >"$WORK/se1.md"
	skipped_everywhere "$WORK/se.cfg" "$WORK/se1.md" "$d/tcg" "$d/kvm"
	expect_rc 1
	expect_line "$out" '^2 checks skipped on every hypervisor \(2 hypervisors, 2 test images\)$'
	expect_line "$out" '^unexplained: skip:basic\.two: no vmx$'
	expect_no_line "$out" 'basic\.one'
	finish "skipped-everywhere: counts the checks that skipped on both runs, lists the unexplained one"
	printf '| `skip:*` | vmx |\n' >"$WORK/se2.md"
	skipped_everywhere "$WORK/se.cfg" "$WORK/se2.md" --list "$d/tcg" "$d/kvm"
	expect_rc 0
	expect_line "$out" '^skip:basic\.one: no vmx  \[skip:\*\]$'
	expect_line "$out" '^skip:basic\.two: no vmx  \[skip:\*\]$'
	finish "skipped-everywhere: a glob row explains both; --list names the row"
}

# The rules, on log directories written by hand: a check that ran anywhere
# does not count, nor an entry skipped whole where its results ran; a test
# that booted nowhere counts as TEST:*; cfg entries of one image share names.
test_skipped_everywhere_rules() {
	local a=$WORK/se-a b=$WORK/se-b
	mkdir -p "$a" "$b"
	printf '[t]\nfile = t.elf\n[t_other_cpu]\nfile = t.elf\n[v]\nfile = v.elf\n[u]\nfile = u.elf\n' \
		>"$WORK/se-rules.cfg"
	printf 't\thv1\tPASS\t\nv\thv1\tPASS\t\nu\thv1\tSKIP\thv1 lacks kvm\n' >"$a/units.tsv"
	printf 'PASS\tran\nSKIP\tboth\nSKIP\twhole\nSKIP\tonly_here\nSKIP\ta.b\nSKIP\taXb\n' >"$a/t.hv1.checks"
	printf '    ok 2 - both # SKIP no feature X\n    ok 6 - aXb # SKIP no feature Y\n' >"$a/t.hv1.tap"
	printf 'SKIP\tother_cpu.needs_model\n' >"$a/v.hv1.checks"
	printf 't\thv2\tPASS\t\nt_other_cpu\thv2\tPASS\t\nu\thv2\tSKIP\thv2 lacks kvm\n' >"$b/units.tsv"
	printf 'SKIP\tran\nSKIP\tboth\nPASS\twhole.sub\nSKIP\ta.b\nSKIP\taXb\n' >"$b/t.hv2.checks"
	printf 'PASS\tonly_here\n' >"$b/t_other_cpu.hv2.checks"
	printf '| `t:a.b` | a dot is a dot, not aXb |\n| `v:other_cpu.*` | a model |\n' >"$WORK/se-rules.md"
	skipped_everywhere "$WORK/se-rules.cfg" "$WORK/se-rules.md" "$a" "$b"
	expect_rc 1
	expect_line "$out" '^5 checks skipped on every hypervisor \(2 hypervisors, 3 test images\)$'
	expect_line "$out" '^unexplained: t:both: no feature X$'
	expect_line "$out" '^unexplained: t:aXb: no feature Y$'
	expect_line "$out" '^unexplained: u:\*: the test booted nowhere \(hv1: hv1 lacks kvm\)$'
	expect_line "$out" '^3 of them not explained in the skip list$'
	expect_no_line "$out" 't:ran|t:whole|only_here|other_cpu|t:a\.b'
	finish "skipped-everywhere: ran anywhere, ran as results, image names, a test that booted nowhere"
	skipped_everywhere "$WORK/se-rules.cfg" "$WORK/se-rules.md" "$a" "$WORK"
	expect_rc 2
	expect_line "$err" 'no units\.tsv'
	"$ROOT/scripts/skipped-everywhere" >"$out" 2>"$err"
	rc=$?
	expect_rc 2
	expect_line "$err" '^usage: '
	finish "skipped-everywhere: a directory without units.tsv, or none at all, is a usage error"
}

ln_x86_run() {
	ln -s "$ROOT/x86/run" "$TREE/x86/run"
}

run_test_main ln_x86_run test_matrix_versions test_junit test_junit_interrupted test_log_dir test_log_dir_race test_report_temporaries test_check_option \
	test_matrix_script test_matrix_states test_matrix_run test_faults test_sigterm test_x86_run_interrupt \
	test_skipped_everywhere_run test_skipped_everywhere_rules
