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
  TIMEOUT        seconds, or with a suffix s or m (default: ${SA_TIMEOUT} s)
  TMPDIR         where the temporary directory goes (default /tmp)
The default hypervisor is qemu-kvm when KVM works and offers what the test
requires, else qemu-tcg (bochs when the test runs only there).

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

sa_in_list() {
	[[ " $2 " == *" $1 "* ]]
}

# The hypervisor to boot on, into sa_hv; hv.sh must be sourced.
sa_choose_hypervisor() {
	local requires=() h
	read -ra requires <<<"$SA_REQUIRES"
	case "${ACCEL:-}" in
	kvm) sa_hv=qemu-kvm; return ;;
	tcg) sa_hv=qemu-tcg; return ;;
	'') ;;
	*) sa_die "ACCEL must be kvm or tcg, not '$ACCEL'" ;;
	esac
	if [[ -n "${HYPERVISOR:-}" ]]; then
		hv_known "$HYPERVISOR" || sa_die "unknown HYPERVISOR '$HYPERVISOR' (known: $HV_ALL)"
		sa_hv=$HYPERVISOR
		return
	fi
	# A test that runs only elsewhere: its first hypervisor.
	if [[ -n "$SA_HYPERVISORS" ]] && ! sa_in_list qemu-kvm "$SA_HYPERVISORS" &&
		! sa_in_list qemu-tcg "$SA_HYPERVISORS"; then
		sa_hv=${SA_HYPERVISORS%% *}
		return
	fi
	sa_hv=qemu-tcg
	for h in qemu-kvm qemu-tcg; do
		[[ -z "$SA_HYPERVISORS" ]] || sa_in_list "$h" "$SA_HYPERVISORS" || continue
		if hv_available "$h" && [[ -z "$(hv_missing_features "$h" "${requires[@]}")" ]]; then
			sa_hv=$h
			return
		fi
	done
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
	local rc verdict="" status interrupted=0
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
	sa_choose_hypervisor

	# run_tests.sh stops its hypervisor on a Ctrl-C and exits 130.
	trap 'interrupted=1' INT TERM
	"$HVT_ROOT/run_tests.sh" --hypervisor "$sa_hv" --log-dir "$sa_tmp/log" \
		--errata "$HVT_ROOT/errata.cfg" -- "$SA_NAME" >"$sa_tmp/run_tests.out" 2>&1
	rc=$?
	trap - INT TERM
	rm -rf "$sa_tmp/tree"
	# units.tsv is run_tests.sh's own output: TEST, HYPERVISOR, VERDICT, REASON.
	[[ -f "$sa_tmp/log/units.tsv" ]] && verdict=$(cut -f 3 "$sa_tmp/log/units.tsv")
	if ((interrupted || rc == 130 || rc == 143 || rc == 129)); then
		trap - EXIT
		echo "$SA_NAME: interrupted; logs kept in $sa_tmp" >&2
		exit 130
	fi
	if [[ -z "$verdict" || ! -f "$sa_tmp/log/$SA_NAME.$sa_hv.tap" ]]; then
		sa_tap_error "run_tests.sh failed (status $rc): $(head -n 1 "$sa_tmp/run_tests.out")"
		verdict=ERROR
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
