# shellcheck shell=bash
# scripts/standalone/runner.sh: the body of every standalone test (tests/NAME,
# written by scripts/standalone/mkstandalone, which puts the SA_* variables
# before this text and a gzipped tar archive after it).
#
# The archive is a minimal harness tree: run_tests.sh, scripts/hv.sh (and
# scripts/bochs/ when present), statically linked build/host tools, the
# image, unittests.cfg and errata.cfg. The test unpacks it into a temporary
# directory and boots its entry there with run_tests.sh, so that it judges
# exactly as the harness does: the console is parsed by hvt-verdict only.
set -u

sa_usage() {
	cat <<USAGE
Usage: $sa_self

Boot the test "$SA_NAME" (image $SA_FILE, built from the hvtest harness) and
print TAP 13: a plan, then one test point with the checks as a subtest.

Environment:
  QEMU           the QEMU binary (default: qemu-system-x86_64 from PATH)
  BOCHS          the Bochs binary (default: bochs from PATH)
  ACCEL=kvm|tcg  boot with QEMU and this accelerator
  HYPERVISOR=H   qemu-tcg, qemu-kvm or bochs (ACCEL wins when both are set)
  HVT_HYPERVISORS  auto mode's order (default qemu-kvm,qemu-tcg,bochs)
  TIMEOUT        seconds, or with a suffix s or m, 1s..1440m (default: ${SA_TIMEOUT} s)
  TMPDIR         where the temporary directory goes (default /tmp)
Without ACCEL or HYPERVISOR the test runs on the first hypervisor of
HVT_HYPERVISORS that boots a guest, offers what the test requires and is in
its cfg's hypervisors. What the probe learned is kept in
${XDG_CACHE_HOME:-~/.cache}/hvtest/probe.

The console log is kept, and its path printed on stderr, when the test did
not pass or skip.

Exit status: 0 PASS, 1 FAIL, 77 SKIP (0 under prove, where the TAP says SKIP),
99 ERROR (also when the test could not start), 2 usage error, 130 interrupted.
USAGE
}

sa_die() {
	echo "$SA_NAME: $*" >&2
	exit 2
}


# The hypervisor the user named, into sa_hv ("" = auto mode: run_tests.sh
# picks the first that can run the test, by the harness's rules).
sa_named_hypervisor() {
	sa_hv=""
	case "${ACCEL:-}" in
	kvm) sa_hv=qemu-kvm; return ;;
	tcg) sa_hv=qemu-tcg; return ;;
	'') ;;
	*) sa_die "ACCEL must be kvm or tcg, not '$ACCEL'" ;;
	esac
	if [[ -n "${HYPERVISOR:-}" ]]; then
		hv_known "$HYPERVISOR" || sa_die "unknown HYPERVISOR '$HYPERVISOR' (known: ${HV_KINDS// /, }, optionally @VERSION)"
		sa_hv=$HYPERVISOR
	fi
	return 0
}

# Unpack the harness tree that follows the script.
sa_unpack() {
	mkdir "$sa_tmp/tree" &&
		tail -n +"$SA_PAYLOAD_LINE" "$sa_self" | tar -xzf - -C "$sa_tmp/tree"
}

# TAP for a test that could not start at all.
sa_tap_error() {
	printf "TAP version 13\n1..1\nnot ok 1 - %s\n  ---\n  message: '%s'\n  ...\n" \
		"$SA_NAME" "${1//\'/\'\'}"
}

sa_exit_for() {
	case "$1" in
	PASS) echo 0 ;;
	FAIL) echo 1 ;;
	# prove takes any non-zero status for a failure; the TAP says SKIP.
	SKIP) if [[ -n "${HARNESS_ACTIVE:-}" ]]; then echo 0; else echo 77; fi ;;
	*) echo 99 ;;
	esac
}

sa_main() {
	local rc verdict="" reason="" status interrupted=0 sa_msg sa_child
	case "${1:-}" in
	-h|--help) sa_usage; exit 0 ;;
	'') ;;
	*) sa_die "no arguments expected (see --help)" ;;
	esac
	sa_tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvt-$SA_NAME.XXXXXX") || sa_die "cannot create a temporary directory"
	# Until the verdict is known, an exit removes the temporary directory.
	trap 'rm -rf "$sa_tmp"' EXIT
	if ! sa_unpack; then
		sa_tap_error "cannot unpack the test from $sa_self"
		exit 99
	fi
	HVT_ROOT=$sa_tmp/tree
	# shellcheck source=scripts/hv.sh
	source "$HVT_ROOT/scripts/hv.sh"
	hv_load_config
	sa_named_hypervisor
	# Checked like the cfg's timeout (run_tests.sh would refuse it too, but
	# as a usage error of its own, not this test's).
	if [[ -n "${TIMEOUT:-}" ]] && ! sa_msg=$(hvt_seconds "$TIMEOUT" TIMEOUT 2>&1 >/dev/null); then
		sa_die "$sa_msg"
	fi
	# The probe's answers outlive the temporary tree.
	if [[ -z "${HVT_PROBE_CACHE:-}" ]]; then
		HVT_PROBE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/hvtest/probe
		mkdir -p "$HVT_PROBE_CACHE" 2>/dev/null || HVT_PROBE_CACHE=$sa_tmp/probe
		export HVT_PROBE_CACHE
	fi

	# run_tests.sh runs in the background, so that a signal sent to this
	# test's PID reaches it: the trap forwards it and the loop waits until
	# run_tests.sh has stopped its hypervisor and exited (wait returns early
	# when a trapped signal arrives). SIGTERM stands for SIGINT too: a
	# script's background child ignores SIGINT.
	sa_child=""
	trap 'interrupted=1; [[ -n "$sa_child" ]] && kill -TERM "$sa_child" 2>/dev/null' INT TERM
	"$HVT_ROOT/run_tests.sh" ${sa_hv:+--hypervisor "$sa_hv"} --log-dir "$sa_tmp/log" \
		--errata "$HVT_ROOT/errata.cfg" -- "$SA_NAME" >"$sa_tmp/run_tests.out" 2>&1 &
	sa_child=$!
	((interrupted)) && kill -TERM "$sa_child" 2>/dev/null
	while :; do
		wait "$sa_child"
		rc=$?
		kill -0 "$sa_child" 2>/dev/null || break
	done
	trap - INT TERM
	rm -rf "$sa_tmp/tree"
	# units.tsv is run_tests.sh's own output: TEST, HYPERVISOR, VERDICT, REASON.
	if [[ -f "$sa_tmp/log/units.tsv" ]]; then
		IFS=$'\t' read -r _ sa_hv verdict reason <"$sa_tmp/log/units.tsv"
	fi
	if ((interrupted || rc == 130 || rc == 143 || rc == 129)); then
		trap - EXIT
		printf 'TAP version 13\n1..1\nBail out! %s interrupted\n' "$SA_NAME"
		echo "$SA_NAME: interrupted; logs kept in $sa_tmp" >&2
		exit 130
	fi
	if [[ -z "$verdict" || ! -f "$sa_tmp/log/$SA_NAME.$sa_hv.tap" ]]; then
		sa_tap_error "run_tests.sh failed (status $rc): $(grep -m 1 '^run_tests.sh: ' "$sa_tmp/run_tests.out" || head -n 1 "$sa_tmp/run_tests.out")"
		verdict=ERROR
	elif [[ "$verdict" == SKIP ]]; then
		# The TAP form of a skipped script that prove counts as skipped.
		printf 'TAP version 13\n1..0 # SKIP %s (%s)\n' "$reason" "$sa_hv"
	else
		printf 'TAP version 13\n1..1\n'
		cat "$sa_tmp/log/$SA_NAME.$sa_hv.tap"
	fi
	status=$(sa_exit_for "$verdict")
	if [[ "$verdict" == FAIL || "$verdict" == ERROR ]]; then
		trap - EXIT
		echo "# $SA_NAME ($sa_hv): $verdict; logs kept in $sa_tmp/" >&2
	fi
	exit "$status"
}

sa_self=${BASH_SOURCE[0]}
sa_main "$@"
