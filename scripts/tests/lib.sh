# shellcheck shell=bash
# scripts/tests/lib.sh: the small TAP framework and the fake tree of the
# runner's script tests (runner-tests.sh, bisect-tests.sh, report-tests.sh,
# standalone-tests.sh, bochs-tests.sh). Source it after setting SUITE (the label of the
# final "SUITE: P passed, F failed" line).
#
# A test runs commands, calls fail MESSAGE for what went wrong, then
# finish DESCRIPTION; run_test_main FUNCTION... runs the tests and prints the
# plan and the final line.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # used by the sourcing tests
FAKE=$ROOT/scripts/tests/fake-qemu
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hvt-${SUITE// /-}.XXXXXX") || exit 2
TREE=$WORK/tree
trap 'rm -rf "$WORK"' EXIT

n_tests=0 n_failed=0
problem=""
out=$WORK/out err=$WORK/err rc=0

finish() {
	n_tests=$((n_tests + 1))
	if [[ -z "$problem" ]]; then
		echo "ok $n_tests - $1"
	else
		n_failed=$((n_failed + 1))
		echo "not ok $n_tests - $1"
		printf '%s' "$problem" | sed 's/^/# /'
		echo "# stdout:"; sed 's/^/#   /' "$out" | head -n 40
		echo "# stderr:"; sed 's/^/#   /' "$err" | head -n 20
	fi
	problem=""
	# Suites whose tests each write fresh output start every test from empty files.
	if ((${CLEAR_OUTPUT_AFTER_TEST:-0})); then
		: >"$out"
		: >"$err"
	fi
}

fail() {
	problem+="$*"$'\n'
}

expect_rc() {
	((rc == $1)) || fail "exit status $rc, expected $1"
}

# expect_line FILE REGEX: some line of FILE matches (grep -E).
expect_line() {
	grep -qE -- "$2" "$1" || fail "no line of $(basename "$1") matches: $2"
}

expect_no_line() {
	! grep -qE -- "$2" "$1" || fail "a line of $(basename "$1") matches: $2"
}

expect_last_line() {
	[[ "$(tail -n 1 "$1")" == "$2" ]] ||
		fail "last line of $(basename "$1") is '$(tail -n 1 "$1")', expected '$2'"
}

# A tree like the repository: links to the real scripts and host tools, and
# one image per fake-qemu mode: a copy of x86/boot.elf, as the fakes go by
# the name, and Bochs' disk path checks that an image is one.
make_tree() {
	local m
	mkdir -p "$TREE/x86" "$TREE/build" || exit 2
	ln -s "$ROOT/run_tests.sh" "$TREE/run_tests.sh"
	ln -s "$ROOT/scripts" "$TREE/scripts"
	ln -s "$ROOT/build/host" "$TREE/build/host"
	# The Bochs disk path's loader, for the fake Bochs.
	ln -s "$ROOT/build/bochs" "$TREE/build/bochs"
	ln -s "$ROOT/x86/run" "$TREE/x86/run"
	for m in pass fail skip error xfail slow hang silent reset garbage forged \
		nonce crash noboot resetloop flood xmlchars fixed8 endcrash endhang rant stubborn; do
		cp "$ROOT/x86/boot.elf" "$TREE/x86/$m.elf" || exit 2
	done
	# The availability probe's null guest: the fakes know it by name.
	mkdir -p "$TREE/build/probe"
	cp "$ROOT/x86/boot.elf" "$TREE/build/probe/hvprobe.elf" || exit 2
	: >"$TREE/errata.cfg"
}

# cfg_of MODE...: a cfg with one test per mode, named after it.
cfg_of() {
	local m
	for m in "$@"; do
		printf '[%s]\nfile = %s.elf\nargs = fake_mode=%s\ntimeout = 2\n\n' "$m" "$m" "$m"
	done
}

# Forget what the fake hypervisors' probes said (a test that changes their
# behaviour through FAKE_* must not see an earlier answer).
forget_probes() {
	rm -rf "$TREE/build/cache/probe"
}

# Processes still alive (not zombies) whose command line holds $1.
alive_with() {
	ps -eo stat=,args= | awk -v m="$1" '$1 !~ /^Z/ && index($0, m) && !/awk/'
}

# signal_pid SIG PID MARKER: once the fake guest sleeping "MARKER" runs,
# send SIG to PID alone (as kill(1) or a CI does, not to its group), wait
# for PID and set rc; fail when the guest does not start, or when a process
# of the run outlives it.
signal_pid() {
	local sig=$1 pid=$2 marker=$3 i start
	for ((i = 0; i < 100; i++)); do
		alive_with "$marker" | grep -q sleep && break
		sleep 0.1
	done
	alive_with "$marker" | grep -q sleep || fail "the guest did not start"
	start=$SECONDS
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	((SECONDS - start < 10)) || fail "took $((SECONDS - start)) s to stop after SIG$sig"
	sleep 0.3
	[[ -z "$(alive_with "$marker")" ]] || fail "left behind: $(alive_with "$marker")"
}

# skip_test DESCRIPTION REASON
skip_test() {
	n_tests=$((n_tests + 1))
	echo "ok $n_tests - $1 # SKIP $2"
}

run_test_main() {
	local t
	make_tree
	cd "$WORK" || exit 2
	for t in "$@"; do
		"$t"
	done
	echo "1..$n_tests"
	echo "$SUITE: $((n_tests - n_failed)) passed, $n_failed failed"
	((n_failed == 0))
}
