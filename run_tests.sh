#!/usr/bin/env bash
# run_tests.sh: run the tests of unittests.cfg on one or more hypervisors.
#
# Every test runs in its own hypervisor process, in parallel, under its cfg
# timeout; its console goes to a log, and build/host/hvt-verdict turns the
# log into the verdict. See usage() for the options and the log layout.
set -u

HVT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/hv.sh
source "$HVT_ROOT/scripts/hv.sh"

usage() {
	cat <<'USAGE'
Usage: run_tests.sh [OPTION]... [NAME]...

Run the tests of unittests.cfg (all of them, or the NAMEs given) and end with
the line "N passed, N failed, N skipped".

  --hypervisor H[,H...]  qemu-tcg, qemu-kvm or bochs, each optionally @VERSION
                         (qemu-tcg@10.0), or all (every available one).
                         Default: auto, each test on the first hypervisor of
                         HVT_HYPERVISORS (qemu-kvm,qemu-tcg,bochs) that
                         boots, offers its requires and is in its cfg's
                         hypervisors. ACCEL=tcg|kvm is a shorthand for
                         qemu-tcg|qemu-kvm
  -g, --group GROUP      only tests of GROUP (repeatable, or comma-separated; -gGROUP)
  -j, --jobs N           run N tests at once, 1 to 1024 (default: the number of
                         CPUs; -jN)
  -t, --tap              TAP 13 on stdout; progress lines go to stderr
  -v, --verbose          show the console of every test that did not pass
  --list                 print the selected test names and exit
  --check SELECTOR       run only the checks SELECTOR selects (e.g. noncanonical,
                         'catch.*'): it replaces the selectors of the cfg args,
                         whose key=value options stay
  --junit FILE           write JUnit XML: one testsuite per test and hypervisor,
                         one testcase per check (classname hvtest.HV.TEST)
  --matrix               print the check-by-hypervisor matrix at the end (the
                         default when more than one hypervisor ran)
  --matrix-html FILE     write the matrix as a self-contained HTML page
  --log-dir DIR          keep this run's logs in DIR (created; must be empty;
                         claimed with the lock file DIR/.run-lock) instead of
                         logs/run-*/; logs/ is then left alone
  --config FILE          use FILE instead of unittests.cfg (env UNITTESTS_CFG)
  --errata FILE          use FILE instead of errata.cfg (env ERRATA_CFG)
  -h, --help             this text

Environment: QEMU (the QEMU binary, default from config.sh), TIMEOUT (overrides
every test's timeout: seconds, or with a suffix s or m; 1s..1440m, as the cfg's
timeout).

Logs: each run gets its own directory logs/run-YYYYmmdd-HHMMSS-PID/ (logs/latest
points at the newest) holding, per test and hypervisor, NAME.HYPERVISOR.log (the
console), .cmd (the hypervisor command), .err (the hypervisor's stdout and
stderr), .summary, .tap, .checks and .junit (hvt-verdict's output), plus
results.txt, results.tap and units.tsv (TEST, HYPERVISOR, VERDICT, REASON per
line, tab-separated) for the whole run. logs/NAME.HYPERVISOR.log is a symbolic
link to the newest console log of that test. docs/runner.md has the details.

Exit status: 0 nothing failed and something ran, 1 a test failed or had an
error, 2 usage or configuration error (nothing was run), 3 a hypervisor named
by the user (or every hypervisor of auto mode) cannot boot a guest (nothing
was run), 77 no test ran (every test skipped), 130 interrupted (143 SIGTERM,
129 SIGHUP; the last line then adds ", N not run").
USAGE
}

die_usage() {
	echo "run_tests.sh: $*" >&2
	exit 2
}

# ------------------------------------------------------------ options

opt_hypervisors=""
opt_groups=()
opt_names=()
opt_jobs=""
opt_tap=0
opt_verbose=0
opt_list=0
opt_check=""
opt_junit=""
opt_matrix=0
opt_matrix_html=""
opt_log_dir=""
auto=0 all=0
hv_notes=()
cfg_file=${UNITTESTS_CFG:-}
errata_file=${ERRATA_CFG:-}

parse_options() {
	while (($#)); do
		case "$1" in
		--hypervisor|-g|--group|-j|--jobs|--config|--errata|--check|--junit|\
		--matrix-html|--log-dir)
			(($# >= 2)) || die_usage "option $1 needs a value"
			set_option "$1" "$2"
			shift 2
			continue ;;
		--hypervisor=*|--group=*|--jobs=*|--config=*|--errata=*|--check=*|\
		--junit=*|--matrix-html=*|--log-dir=*)
			set_option "${1%%=*}" "${1#*=}" ;;
		-j[0-9]*) set_option -j "${1#-j}" ;;
		-g?*) set_option -g "${1#-g}" ;;
		-t|--tap) opt_tap=1 ;;
		-v|--verbose) opt_verbose=1 ;;
		--list) opt_list=1 ;;
		--matrix) opt_matrix=1 ;;
		-h|--help) usage; exit 0 ;;
		--) shift; opt_names+=("$@"); break ;;
		-*) die_usage "unknown option '$1' (see --help)" ;;
		*) opt_names+=("$1") ;;
		esac
		shift
	done
}

set_option() {
	local g
	case "$1" in
	--hypervisor) opt_hypervisors=$2 ;;
	-g|--group) IFS=, read -ra g <<<"$2"; opt_groups+=("${g[@]}") ;;
	-j|--jobs) opt_jobs=$2 ;;
	--config) cfg_file=$2 ;;
	--errata) errata_file=$2 ;;
	--check)
		# One word: it goes onto the guest command line as it is.
		[[ -n "$2" && "$2" != *[[:space:]]* ]] || die_usage "--check needs one selector without spaces"
		opt_check=$2 ;;
	--junit) [[ -n "$2" ]] || die_usage "--junit needs a file"; opt_junit=$2 ;;
	--matrix-html) [[ -n "$2" ]] || die_usage "--matrix-html needs a file"; opt_matrix_html=$2 ;;
	--log-dir) [[ -n "$2" ]] || die_usage "--log-dir needs a directory"; opt_log_dir=$2 ;;
	esac
}

# The hypervisors to run on, into the array hypervisors; auto=1 when each
# test gets the first that can run it (docs/runner.md, "Auto mode").
choose_hypervisors() {
	local list=$opt_hypervisors h
	auto=0
	if [[ -z "$list" ]]; then
		case "${ACCEL:-}" in
		tcg) list=qemu-tcg ;;
		kvm) list=qemu-kvm ;;
		'') auto=1; list=$(hv_auto_order); list=${list// /,} ;;
		*) die_usage "ACCEL must be tcg or kvm, not '$ACCEL'" ;;
		esac
	fi
	[[ "$list" == all ]] && list=${HV_KINDS// /,} all=1
	hypervisors=()
	IFS=, read -ra list <<<"$list"
	for h in "${list[@]}"; do
		hv_known "$h" || die_usage "unknown hypervisor '$h' (known: ${HV_KINDS// /, }, each optionally @VERSION; or all)"
		[[ " ${hypervisors[*]} " == *" $h "* ]] || hypervisors+=("$h")
	done
	((${#hypervisors[@]})) || die_usage "no hypervisor given"
}

# Probe the hypervisors (in parallel, cached: scripts/hv.sh) and say once
# what each is. A hypervisor the user named that cannot boot a guest ends
# the run here; auto mode and "all" pass over it and say why.
probe_hypervisors() {
	local h i m first specs=() usable=() line
	for h in "${hypervisors[@]}"; do
		specs+=("$h")
		for i in "${selected[@]}"; do
			m=$(hv_cfg_cpu "$h" "${t_cpu[i]}" "${t_bcpu[i]}")
			[[ -n "$m" && " ${specs[*]} " != *" $h|$m "* ]] && specs+=("$h|$m")
		done
	done
	hv_probe_all "${specs[@]}"
	for h in "${hypervisors[@]}"; do
		if hv_available "$h"; then
			usable+=("$h")
			line="$h: $(hv_describe "$h")"
			m=$(hv_model "$h")
			first=$("_hv_$(_hv_backend "$h")_models" "$h" | head -n 1)
			if [[ "$m" != "$first" ]]; then
				hv_available "$h" "$first"
				line+=" (-cpu $first does not boot: $HV_REASON)"
			fi
			hv_notes+=("$line")
		elif ((auto || all)); then
			hv_notes+=("$h: passed over, unavailable: $HV_REASON")
		else
			echo "run_tests.sh: $h cannot run guests: $HV_REASON" >&2
			echo "run_tests.sh: nothing was run" >&2
			exit 3
		fi
	done
	((all)) && hypervisors=("${usable[@]}")
	if ((${#usable[@]} == 0)); then
		printf 'run_tests.sh: %s\n' "${hv_notes[@]}" >&2
		echo "run_tests.sh: no hypervisor can run guests; nothing was run" >&2
		exit 3
	fi
}

# ------------------------------------------------------------ configuration

# Paths given by the user are relative to where they ran us; we work from
# the tree's root.
absolute() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

need_tool() {
	[[ -x "$HVT_ROOT/build/host/$1" ]] ||
		die_usage "build/host/$1 is missing (run make)"
}

# Read the cfg into the arrays t_* (one element per test).
load_cfg() {
	local name file args smp mem qcpu bcpu qparams bparams groups timeout req hvs xparams
	local records
	if ! records=$("$HVT_ROOT/build/host/hvt-cfg" list "$cfg_file"); then
		echo "run_tests.sh: $cfg_file is malformed; nothing was run" >&2
		exit 2
	fi
	t_name=() t_file=() t_args=() t_smp=() t_mem=() t_cpu=() t_params=()
	t_groups=() t_timeout=() t_requires=() t_hvs=() t_bcpu=() t_bparams=() t_xparams=()
	while IFS=$'\x1f' read -r name file args smp mem qcpu bcpu qparams bparams \
		groups timeout req hvs xparams; do
		t_name+=("$name") t_file+=("$file") t_args+=("$args")
		t_smp+=("$smp") t_mem+=("$mem") t_cpu+=("$qcpu") t_params+=("$qparams")
		t_bcpu+=("$bcpu") t_bparams+=("$bparams")
		t_groups+=("all $groups") t_timeout+=("$timeout")
		t_requires+=("$req") t_hvs+=("$hvs") t_xparams+=("$xparams")
	done <<<"$records"
}

# The errata file must be valid before anything boots: hvt-verdict rejects
# a malformed one with a usage error (status 2) and FILE:LINE: message.
check_errata() {
	local out rc
	[[ -n "$errata_file" ]] || return 0
	out=$("$HVT_ROOT/build/host/hvt-verdict" --errata "$errata_file" \
		--test errata-check --hypervisor qemu-tcg /dev/null 2>&1 >/dev/null)
	rc=$?
	if ((rc == 2)); then
		[[ -n "$out" ]] && printf '%s\n' "$out" >&2
		echo "run_tests.sh: $errata_file is malformed; nothing was run" >&2
		exit 2
	fi
}

word_in() {
	[[ " $2 " == *" $1 "* ]]
}

# The indexes of the selected tests, into the array selected.
select_tests() {
	local i n g found
	for n in "${opt_names[@]}"; do
		found=0
		for i in "${!t_name[@]}"; do
			[[ "${t_name[i]}" == "$n" ]] && found=1
		done
		((found)) || die_usage "unknown test '$n' (see run_tests.sh --list)"
	done
	for g in "${opt_groups[@]}"; do
		found=0
		for i in "${!t_name[@]}"; do
			word_in "$g" "${t_groups[i]}" && found=1
		done
		((found)) || die_usage "group '$g' selects no test"
	done
	selected=()
	for i in "${!t_name[@]}"; do
		if ((${#opt_names[@]})) && ! word_in "${t_name[i]}" "${opt_names[*]}"; then
			continue
		fi
		if ((${#opt_groups[@]})); then
			found=0
			for g in "${opt_groups[@]}"; do
				word_in "$g" "${t_groups[i]}" && found=1
			done
			((found)) || continue
		fi
		selected+=("$i")
	done
	if ((${#opt_names[@]} + ${#opt_groups[@]})) && ((${#selected[@]} == 0)); then
		die_usage "no test matches both the names and the groups given"
	fi
}

# ------------------------------------------------------------ reporting

# Totals: tests per verdict, checks per status.
n_pass=0 n_fail=0 n_skip=0
c_pass=0 c_fail=0 c_skip=0 c_xfail=0 c_error=0
tap_number=0

# Progress lines go where TAP does not.
info() {
	printf '%s\n' "$*" >&3
}

# TAP's YAML wants a quoted scalar: single quotes, doubled inside.
yaml_quote() {
	printf "'%s'" "${1//\'/\'\'}"
}

# One line per test: "PASS  msr (qemu-tcg)  0.41 s", the reason unless PASS.
report_line() {
	local verdict=$1 name=$2 hv=$3 secs=$4 reason=$5 line
	printf -v line '%-5s %s (%s)' "$verdict" "$name" "$hv"
	[[ -n "$secs" ]] && line+="  $secs s"
	[[ -n "$reason" && "$verdict" != PASS ]] && line+=": $reason"
	[[ -n "$reason" && "$verdict" == PASS ]] && line+="  ($reason)"
	info "$line"
	printf '%s\n' "$line" >>"$run_dir/results.txt"
}

count_verdict() {
	case "$1" in
	PASS) n_pass=$((n_pass + 1)) ;;
	SKIP) n_skip=$((n_skip + 1)) ;;
	*) n_fail=$((n_fail + 1)) ;;
	esac
}

# A result decided without booting (SKIP, or ERROR before the start).
report_unbooted() {
	local verdict=$1 name=$2 hv=$3 reason=$4 tap
	tap_number=$((tap_number + 1))
	if [[ "$verdict" == SKIP ]]; then
		tap="ok $tap_number - $name ($hv) # SKIP $reason"
	else
		tap="not ok $tap_number - $name ($hv)"$'\n'"  ---"$'\n'"  message: $(yaml_quote "$reason")"$'\n'"  ..."
	fi
	write_unbooted_junit "$verdict" "$name" "$hv" "$reason" >"$run_dir/$name.$hv.junit"
	# Past this check the unit is reported everywhere (see finish_unit).
	[[ -n "$interrupted" ]] && return 0
	emit_tap "$tap"
	printf '%s\n' "$tap" >"$run_dir/$name.$hv.tap"
	record_unit "$name" "$hv" "$verdict" "$reason"
	report_line "$verdict" "$name" "$hv" "" "$reason"
	count_verdict "$verdict"
}

# ------------------------------------------------------------ JUnit, matrix

# Per unit ("NAME HYPERVISOR"), its verdict and reason, for units.tsv.
declare -A unit_verdict=() unit_reason=()

record_unit() {
	unit_verdict["$1 $2"]=$3
	unit_reason["$1 $2"]=$4
}

# Text for an XML attribute. The reasons come from the runner and the
# hypervisor probes (not from the console), but may hold a user's path.
xml_escape() {
	local s=$1
	s=${s//&/&amp;} s=${s//</&lt;} s=${s//>/&gt;} s=${s//\"/&quot;} s=${s//\'/&apos;}
	# XML 1.0 cannot carry control bytes at all.
	printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037'
}

# The JUnit document of a test that did not boot (or whose verdict could not
# be made): one testcase named after the test, skipped or in error.
write_unbooted_junit() {
	local verdict=$1 name=$2 hv=$3 reason=$4 tag=error errors=1 skipped=0
	[[ "$verdict" == SKIP ]] && tag=skipped errors=0 skipped=1
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n'
	printf '  <testsuite name="%s (%s)" tests="1" failures="0" errors="%s" skipped="%s">\n' \
		"$(xml_escape "$name")" "$(xml_escape "$hv")" "$errors" "$skipped"
	printf '    <testcase classname="hvtest.%s.%s" name="%s">\n' \
		"$(xml_escape "$hv")" "$(xml_escape "$name")" "$(xml_escape "$name")"
	printf '      <%s message="%s"/>\n' "$tag" "$(xml_escape "$reason")"
	printf '    </testcase>\n  </testsuite>\n</testsuites>\n'
}

# Per hypervisor of the run: its binary, version, CPU model and what its
# probe said, for the matrix's legend (scripts/matrix).
write_hypervisors_tsv() {
	local h
	for h in "${hypervisors[@]}"; do
		if hv_available "$h"; then
			printf '%s\t%s\t%s\t%s\n' "$h" "$(hv_version "$h")" "$(hv_model "$h")" "$(hv_describe "$h")"
		else
			printf '%s\t\t\tunavailable: %s\n' "$h" "${HV_REASON//$'\t'/ }"
		fi
	done >"$run_dir/hypervisors.tsv"
}

# Every unit that finished, in the order of the run (hypervisor by
# hypervisor, cfg order), into units.tsv: the matrix reads it.
write_units_tsv() {
	local unit i h name reason
	for unit in "${units[@]}"; do
		i=${unit%% *} h=${unit#* } name=${t_name[i]}
		[[ -n "${unit_verdict["$name $h"]+set}" ]] || continue
		reason=${unit_reason["$name $h"]}
		reason=${reason//$'\t'/ } reason=${reason//$'\n'/ }
		printf '%s\t%s\t%s\t%s\n' "$name" "$h" "${unit_verdict["$name $h"]}" "$reason"
	done >"$run_dir/units.tsv"
}

# Print the <testsuite> element of a unit's JUnit document. Those files are
# our own escaped output, one element per line, so the element is the range
# between its start and end lines. Builtins only: a second Ctrl-C, which the
# terminal sends to every process of the group, cannot cut it short.
junit_testsuite() {
	local line inside=0
	while IFS= read -r line; do
		[[ "$line" == "  <testsuite "* ]] && inside=1
		((inside)) && printf '%s\n' "$line"
		[[ "$line" == "  </testsuite>" ]] && inside=0
	done <"$1"
	return 0
}

# One JUnit document from the documents of the units that finished (those of
# units.tsv: hvt-verdict --junit, or write_unbooted_junit), their <testsuite>
# elements inside one <testsuites>; after an interruption, each unit that did
# not finish is one skipped testcase "not run".
write_junit() {
	local dest=$1 tmp unit i h f
	if ! tmp=$(hvt_mktemp_beside "$dest"); then
		echo "run_tests.sh: cannot write $dest" >&2
		return 1
	fi
	{
		printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hvtest">\n'
		for unit in "${units[@]}"; do
			i=${unit%% *} h=${unit#* }
			f="$run_dir/${t_name[i]}.$h.junit"
			if [[ -n "${unit_verdict["${t_name[i]} $h"]+set}" ]]; then
				[[ -f "$f" ]] && junit_testsuite "$f"
			elif [[ -n "$interrupted" ]]; then
				write_unbooted_junit SKIP "${t_name[i]}" "$h" "$(not_run_reason)" >"$f"
				junit_testsuite "$f"
			fi
		done
		printf '</testsuites>\n'
	} >"$tmp"
	if ! mv -f "$tmp" "$dest"; then
		rm -f "$tmp"
		echo "run_tests.sh: cannot write $dest" >&2
		return 1
	fi
}

# The reports of the whole run: units.tsv, then the JUnit file and the
# matrices that were asked for. Returns 1 when one could not be written.
write_reports() {
	local ok=0 matrix_args=()
	write_units_tsv
	if [[ -n "$opt_junit" ]]; then
		write_junit "$opt_junit" || ok=1
	fi
	[[ -n "$opt_matrix_html" ]] && matrix_args+=(--html "$opt_matrix_html")
	if [[ -z "$interrupted" ]] && ((opt_matrix || (!auto && ${#hypervisors[@]} > 1))); then
		matrix_args+=(--text)
	fi
	if ((${#matrix_args[@]})); then
		# The text matrix goes where the progress lines go (not into TAP).
		"$HVT_ROOT/scripts/matrix" "${matrix_args[@]}" "$run_dir" >&3 || ok=1
	fi
	return "$ok"
}

emit_tap() {
	printf '%s\n' "$1" >>"$run_dir/results.tap"
	((opt_tap)) && printf '%s\n' "$1"
	return 0
}

# The value of KEY in an hvt-verdict --summary file.
# The KEY=VALUE lines of an hvt-verdict --summary file, into the array
# summary (builtins only: they run once per test).
declare -A summary=()
summary_load() {
	local line
	summary=()
	[[ -r "$1" ]] || return 1
	while IFS= read -r line; do
		[[ "$line" == *=* ]] && summary[${line%%=*}]=${line#*=}
	done <"$1"
	return 0
}

# Add the check counts of the summary last loaded (summary_load).
add_checks() {
	local k
	for k in pass fail xpass skip xfail error; do
		[[ "${summary[$k]:-0}" =~ ^[0-9]{1,9}$ ]] || summary[$k]=0
	done
	c_pass=$((c_pass + summary[pass]))
	c_fail=$((c_fail + summary[fail] + summary[xpass]))
	c_skip=$((c_skip + summary[skip]))
	c_xfail=$((c_xfail + summary[xfail]))
	c_error=$((c_error + summary[error]))
}

show_console() {
	local log=$1
	info "---- console: $log"
	if [[ -s "$log" ]]; then
		sed 's/\r$//' "$log" | cat -v >&3
		[[ -n "$(tail -c 1 "$log")" ]] && info ""
	else
		info "(empty)"
	fi
	info "----"
}

# The units that did not finish: after an interruption, "not run".
unfinished_count() {
	echo $((total - ${#unit_verdict[@]}))
}

not_run_reason() {
	echo "not run: the run was interrupted by SIG$interrupted"
}

print_totals() {
	local checks="(checks: $c_pass pass, $c_fail fail, $c_skip skip, $c_xfail expected failures"
	((c_error)) && checks+=", $c_error errors"
	echo "$checks)"
	if [[ -n "$interrupted" ]]; then
		echo "$n_pass passed, $n_fail failed, $n_skip skipped, $(unfinished_count) not run"
	else
		echo "$n_pass passed, $n_fail failed, $n_skip skipped"
	fi
}

# ------------------------------------------------------------ jobs

# Per running job, keyed by its PID, which is also its process group.
declare -A job_unit=() job_start=()

# Units are "TESTINDEX HYPERVISOR" (HYPERVISOR "none": auto mode found none
# for the test, reason in unit_none_reason); per unit, its nonce, log base
# name, command and CPU model.
declare -A unit_nonce=() unit_base=() unit_cmd=() unit_model=() unit_none_reason=()
declare -A unit_secs=()

# Why this test does not boot on H ("SKIP reason" or "ERROR reason"), or "",
# into unbooted.
# Call it in the main shell (hv_fit caches what it learns).
unbooted_reason() {
	local i=$1 h=$2 requires=()
	unbooted=""
	read -ra requires <<<"${t_requires[i]}"
	if [[ "$h" == none ]]; then
		unbooted="SKIP ${unit_none_reason[$i]}"
	elif [[ -n "${t_hvs[i]}" ]] && ! word_in "$(hv_kind "$h")" "${t_hvs[i]}" && ! word_in "$h" "${t_hvs[i]}"; then
		unbooted="SKIP not run on $h (hypervisors = ${t_hvs[i]})"
	elif ! hv_fit "$h" "$(hv_cpu "$i" "$h")" "${requires[@]}"; then
		unbooted="SKIP $h $HV_REASON"
	elif [[ ! -f "x86/${t_file[i]}" ]]; then
		unbooted="ERROR image x86/${t_file[i]} not found (run make)"
	fi
}

# The cfg's CPU model and extra parameters of test I for hypervisor H.
hv_cpu() {
	hv_cfg_cpu "$2" "${t_cpu[$1]}" "${t_bcpu[$1]}"
}

hv_params() {
	if [[ "$(hv_kind "$2")" == bochs ]]; then echo "${t_bparams[$1]}"; else echo "${t_params[$1]}"; fi
}

test_timeout() {
	if [[ -n "${TIMEOUT:-}" ]]; then
		REPLY=$(hvt_seconds "$TIMEOUT")
	else
		REPLY=${t_timeout[$1]}
	fi
}

# The guest command line of a test with cfg args ARGS: with --check, its
# key=value options and the selector (docs/unittests-cfg.md: args are check
# selectors and key=value options).
guest_args() {
	local word out="" words=()
	if [[ -z "$opt_check" ]]; then
		printf '%s\n' "$1"
		return
	fi
	read -ra words <<<"$1"	# no pathname expansion of selectors like efer.*
	for word in "${words[@]}"; do
		[[ "$word" == *=* ]] && out+="$word "
	done
	printf '%s\n' "$out$opt_check"
}

start_unit() {
	local unit=$1 i=${1%% *} h=${1#* } nonce base cmdline secs args model links
	printf -v nonce '%08x%08x' "$SRANDOM" "$SRANDOM"
	base="$run_dir/${t_name[i]}.$h"
	args=$(guest_args "${t_args[i]}")
	model=$(hv_cpu "$i" "$h")
	[[ -n "$model" ]] || model=$(hv_model "$h")
	unit_model[$unit]=$model
	cmdline="${args:+$args }$(hvt_exclusions "$h" "${t_name[i]}" "$errata_file" "$model")nonce=$nonce"
	hv_command "$h" --image "x86/${t_file[i]}" --append "$cmdline" \
		--smp "${t_smp[i]}" --memory "${t_mem[i]}" --cpu "$model" \
		--params "$(hv_params "$i" "$h")" --xen-params "${t_xparams[i]}" \
		--console "$base.log" || return 1
	: >"$base.log"
	links=()
	[[ -n "$opt_log_dir" ]] || links=(--link "logs/${t_name[i]}.$h.log" "${base#logs/}.log")
	printf -v "unit_cmd[$unit]" '%q ' "${HV_ARGV[@]}"
	printf '%s\n' "${unit_cmd[$unit]}" >"$base.cmd"
	unit_nonce[$unit]=$nonce
	unit_base[$unit]=$base
	test_timeout "$i"
	secs=$REPLY

	# What the hypervisor prints goes to $base.err, which is removed when empty.
	# The clock starts before the spawn, as the job's timeout does: a unit that
	# timed out never reports less time than its limit.
	local started=$EPOCHREALTIME
	hv_spawn --output "$base.err" "${links[@]}" "$secs" "${HV_ARGV[@]}" </dev/null
	job_unit[$HV_PID]=$unit
	job_start[$HV_PID]=$started
}

# Turn a finished job's console into its verdict and report it.
finish_unit() {
	local pid=$1 rc=$2 unit=${job_unit[$1]} i h base secs limit out vrc
	local verdict reason xfail image_test args=()
	i=${unit%% *} h=${unit#* } base=${unit_base[$unit]}
	local us=$(( ${EPOCHREALTIME/./} - ${job_start[$pid]/./} ))
	printf -v secs '%d.%02d' $((us / 1000000)) $((us % 1000000 / 10000))
	test_timeout "$i"
	limit=$REPLY
	unset "job_unit[$pid]" "job_start[$pid]"
	kill_leftovers "$pid"

	tap_number=$((tap_number + 1))
	hv_target_args "$h" "${unit_model[$unit]}"
	args=("${HV_TARGET_ARGS[@]}")
	# The entry's name may differ from its image's (xen_p2m_fixup boots
	# xen_p2m.elf); the guest's BEGIN line must name the image's test.
	image_test=${t_file[i]##*/} image_test=${image_test%.elf}
	args+=(--test "${t_name[i]}" --image-test "$image_test"
		--nonce "${unit_nonce[$unit]}" --exit-code "$rc"
		--cmdline "${unit_cmd[$unit]}" --duration "$secs"
		--timeout "$limit" --summary "$base.summary" --tap "$tap_number"
		--checks "$base.checks" --junit "$base.junit")
	[[ -n "$errata_file" ]] && args+=(--errata "$errata_file")
	# Its complaints go to one scratch file of the run (tests are judged one
	# at a time), kept as $base.verdict-err only when it said something.
	out=$("$HVT_ROOT/build/host/hvt-verdict" "${args[@]}" "$base.log" 2>"$run_dir/.verdict-err")
	vrc=$?
	# A Ctrl-C from the terminal also hits hvt-verdict: that test did not finish.
	[[ -n "$interrupted" ]] && return 0
	summary_load "$base.summary"
	verdict=${summary[verdict]:-}
	reason=${summary[reason]:-}
	if [[ -z "$verdict" ]]; then
		verdict=ERROR
		reason="hvt-verdict failed (status $vrc): $(_hv_oneline 1 <"$run_dir/.verdict-err"); $h: $(hv_describe_exit "$rc")"
		out="not ok $tap_number - ${t_name[i]} ($h)"$'\n'"  ---"$'\n'"  message: $(yaml_quote "$reason")"$'\n'"  ..."
		rm -f "$base.checks"
		write_unbooted_junit ERROR "${t_name[i]}" "$h" "$reason" >"$base.junit"
	else
		add_checks
		xfail=${summary[xfail]}
		if [[ "$verdict" == PASS && "${xfail:-0}" != 0 ]]; then
			reason="$xfail expected failure$( ((xfail == 1)) || echo s)"
		fi
	fi
	[[ -s "$run_dir/.verdict-err" ]] && mv -f "$run_dir/.verdict-err" "$base.verdict-err"
	# Why the hypervisor stopped is the most useful hint for an ERROR
	# (hvt-verdict names a signal or the timeout itself, from --exit-code).
	if [[ "$verdict" == ERROR ]]; then
		# Its words are bounded, with control bytes (ANSI escapes) made '?'.
		[[ -f "$base.err" ]] && reason+="; $h said: $(_hv_oneline 1 <"$base.err")"
	fi
	# Past this check the unit is reported everywhere, with builtins only, so
	# that TAP, units.tsv, JUnit and the totals agree on which tests finished:
	# a Ctrl-C during the lines above (it also kills their subshells, and
	# hvt-verdict) leaves the test unfinished, "not run".
	[[ -n "$interrupted" ]] && return 0
	printf '%s\n' "$out" >"$base.tap"
	emit_tap "$out"
	record_unit "${t_name[i]}" "$h" "$verdict" "$reason"
	unit_secs["${t_name[i]} $h"]=$secs
	report_line "$verdict" "${t_name[i]}" "$h" "$secs" "$reason"
	count_verdict "$verdict"
	if ((opt_verbose)) && [[ "$verdict" == FAIL || "$verdict" == ERROR ]]; then
		show_console "$base.log"
	fi
}

# What the hypervisor started and left behind dies with its process group
# (the job wrapper does this too; this covers a wrapper that was killed).
kill_leftovers() {
	kill -s KILL -- "-$1" 2>/dev/null
	return 0
}

# Wait for one job to end and report it. Returns 1 when interrupted.
reap_one() {
	local pid="" rc
	wait -n -p pid
	rc=$?
	[[ -n "$interrupted" ]] && return 1
	[[ -n "$pid" && -n "${job_unit[$pid]+set}" ]] || return 0
	finish_unit "$pid" "$rc"
}

# ------------------------------------------------------------ interruption

interrupted=""

# Stop every running hypervisor: SIGTERM to each job's process group, all
# at once and without waiting here (drain_interrupted waits for them, and
# reaps the job processes, whose zombies would keep a group alive); a second
# signal, or 5 s without effect, SIGKILLs them.
# shellcheck disable=SC2317 # called by the traps
on_signal() {
	local sig=TERM pid
	[[ -n "$interrupted" ]] && sig=KILL
	interrupted=$1
	for pid in "${!job_unit[@]}"; do
		kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null
	done
}

# After an interruption: wait for the stopped jobs, keep their partial logs.
drain_interrupted() {
	local pid n=${#job_unit[@]} tries=0 unit i h names=""
	while ((${#job_unit[@]})); do
		for pid in "${!job_unit[@]}"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$pid" 2>/dev/null
				kill_leftovers "$pid"
				unset "job_unit[$pid]" "job_start[$pid]"
			elif ((tries == 50)); then
				hv_kill "$pid" KILL
			fi
		done
		tries=$((tries + 1))
		((${#job_unit[@]})) && sleep 0.1
	done
	for unit in "${units[@]}"; do
		i=${unit%% *} h=${unit#* }
		[[ -n "${unit_verdict["${t_name[i]} $h"]+set}" ]] || names+=" ${t_name[i]} ($h)"
	done
	info "interrupted by SIG$interrupted: $n running test(s) stopped, $(unfinished_count) of $total not finished; logs in $run_dir/"
	[[ -n "$names" ]] && info "not run:$names"
	return 0
}

# ------------------------------------------------------------ main

# Resolve the user's paths, then work from the tree's root.
setup_paths() {
	cfg_file=$(absolute "${cfg_file:-$HVT_ROOT/unittests.cfg}")
	if [[ -n "$errata_file" ]]; then
		errata_file=$(absolute "$errata_file")
	elif [[ -f "$HVT_ROOT/errata.cfg" ]]; then
		errata_file=$HVT_ROOT/errata.cfg
	fi
	[[ -n "${QEMU:-}" ]] && QEMU=$(absolute "$QEMU")
	[[ -n "$opt_junit" ]] && opt_junit=$(absolute "$opt_junit")
	[[ -n "$opt_matrix_html" ]] && opt_matrix_html=$(absolute "$opt_matrix_html")
	[[ -n "$opt_log_dir" ]] && opt_log_dir=$(absolute "$opt_log_dir")
	cd "$HVT_ROOT" || exit 2
	# Messages name the files as the user knows them: relative to the tree.
	cfg_file=${cfg_file#"$HVT_ROOT/"}
	errata_file=${errata_file#"$HVT_ROOT/"}
	hv_load_config
}

# More jobs than this only starve each other (and a huge number overflows
# bash arithmetic).
JOBS_MAX=1024

check_settings() {
	local msg
	jobs=${opt_jobs:-$(nproc 2>/dev/null || echo 1)}
	if [[ ! "$jobs" =~ ^[1-9][0-9]{0,3}$ ]] || ((jobs > JOBS_MAX)); then
		die_usage "-j needs a number from 1 to $JOBS_MAX, not '$jobs'"
	fi
	# TIMEOUT is checked like the cfg's timeout, with the same message.
	if [[ -n "${TIMEOUT:-}" ]] && ! msg=$(hvt_seconds "$TIMEOUT" TIMEOUT 2>&1 >/dev/null); then
		die_usage "$msg"
	fi
}

# The lock file by which a run claims its --log-dir (it holds the run's PID).
LOG_DIR_LOCK=.run-lock

# The run's log directory: --log-dir, else a fresh logs/run-*/ (hv.sh).
# --log-dir is claimed atomically, so that two runs started at once never
# share it: whether DIR is new or an existing empty directory, the run that
# creates DIR/.run-lock with O_EXCL (noclobber) owns it; the others stop.
# Owning it, the run then checks that nothing but its lock is there.
new_run_dir() {
	local d=$opt_log_dir others
	[[ -n "$d" ]] || { hvt_new_run_dir; return; }
	if [[ -e "$d" && ! -d "$d" ]] || ! mkdir -p -- "$d" 2>/dev/null; then
		echo "run_tests.sh: --log-dir $d is not an empty directory" >&2
		return 1
	fi
	if ! (set -o noclobber; printf '%s\n' "$$" >"$d/$LOG_DIR_LOCK") 2>/dev/null; then
		echo "run_tests.sh: --log-dir $d is not an empty directory (another run holds it)" >&2
		return 1
	fi
	others=$(ls -A -- "$d")
	if [[ "$others" != "$LOG_DIR_LOCK" ]]; then
		rm -f -- "$d/$LOG_DIR_LOCK"
		echo "run_tests.sh: --log-dir $d is not an empty directory" >&2
		return 1
	fi
	printf '%s\n' "$d"
}

# Every selected test on every hypervisor, hypervisor by hypervisor; in auto
# mode each test once, on the first hypervisor that can run it.
make_units() {
	local h i requires
	units=()
	if ((auto)); then
		for i in "${selected[@]}"; do
			read -ra requires <<<"${t_requires[i]}"
			if HVT_HYPERVISORS="${hypervisors[*]}" hv_choose "${t_hvs[i]}" "${t_cpu[i]}" \
				"${t_bcpu[i]}" "${requires[@]}"; then
				units+=("$i $HV_CHOICE")
			else
				units+=("$i none")
				unit_none_reason[$i]=$HV_REASON_BRIEF
			fi
		done
	else
		for h in "${hypervisors[@]}"; do
			for i in "${selected[@]}"; do
				units+=("$i $h")
			done
		done
	fi
	total=${#units[@]}
	order_units
}

# ------------------------------------------------------------ scheduling

# How long each test took on each hypervisor the last time it ran here:
# "NAME<TAB>HYPERVISOR<TAB>SECONDS" lines, rewritten at the end of each run.
DURATIONS_FILE=${HVT_DURATIONS:-$HVT_ROOT/build/cache/durations.tsv}
declare -A known_secs=()

load_durations() {
	local name h secs
	[[ -r "$DURATIONS_FILE" ]] || return 0
	while IFS=$'\t' read -r name h secs; do
		[[ "$secs" =~ ^[0-9]{1,6}\.[0-9][0-9]$ ]] && known_secs["$name $h"]=$secs
	done <"$DURATIONS_FILE"
}

# The order in which the units start, into start_order: longest first, so
# that the last test to finish is a short one and every core stays busy to
# the end. A unit that never ran here is estimated by its hypervisor's other
# tests, else by its backend (scripts/hv.sh hv_cost). Reports keep the order
# of units.
order_units() {
	local unit i h est lines=""
	declare -A sum=() count=()
	start_order=("${units[@]}")
	((${#units[@]} > 1)) || return 0
	load_durations
	for unit in "${units[@]}"; do
		i=${unit%% *} h=${unit#* }
		est=${known_secs["${t_name[i]} $h"]:-}
		[[ -n "$est" ]] || continue
		sum[$h]=$(( ${sum[$h]:-0} + 10#${est/./} ))
		count[$h]=$(( ${count[$h]:-0} + 1 ))
	done
	for unit in "${units[@]}"; do
		i=${unit%% *} h=${unit#* }
		est=${known_secs["${t_name[i]} $h"]:-}
		if [[ -n "$est" ]]; then
			est=${est/./}
		elif [[ -n "${count[$h]:-}" ]]; then
			est=$(( ${sum[$h]} / ${count[$h]} ))
		else
			est=$(hv_cost "$h")
		fi
		lines+="$((10#$est))"$'\t'"$unit"$'\n'
	done
	mapfile -t start_order < <(printf '%s' "$lines" | sort -t $'\t' -k1,1nr -s | cut -f 2)
}

# Remember how long the units of this run took (see load_durations).
save_durations() {
	local key tmp name h
	((${#unit_secs[@]})) || return 0
	load_durations
	for key in "${!unit_secs[@]}"; do
		known_secs[$key]=${unit_secs[$key]}
	done
	[[ -d "${DURATIONS_FILE%/*}" ]] || mkdir -p "${DURATIONS_FILE%/*}" 2>/dev/null
	tmp=$(hvt_mktemp_beside "$DURATIONS_FILE") || return 0
	for key in "${!known_secs[@]}"; do
		name=${key%% *} h=${key#* }
		printf '%s\t%s\t%s\n' "$name" "$h" "${known_secs[$key]}"
	done >"$tmp" && mv -f "$tmp" "$DURATIONS_FILE" || rm -f "$tmp"
}

start_run() {
	if ((opt_tap)); then exec 3>&2; else exec 3>&1; fi
	run_dir=$(new_run_dir) || exit 2
	: >"$run_dir/results.txt"
	echo "1..$total" >"$run_dir/results.tap"
	if ((auto)); then
		info "run_tests: $total test$( ((total == 1)) || echo s), each on the first of" \
			"${hypervisors[*]} that can run it, $jobs at a time; logs in $run_dir/"
	else
		info "run_tests: $total test$( ((total == 1)) || echo s) on ${hypervisors[*]}," \
			"$jobs at a time; logs in $run_dir/"
	fi
	write_hypervisors_tsv
	if ((opt_tap)); then
		echo "TAP version 13"
		echo "1..$total"
	fi
	local note
	for note in "${hv_notes[@]}"; do
		info "  $note"
		((opt_tap)) && echo "# $note"
	done
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
	trap 'on_signal HUP' HUP
}

# Report what does not boot at once; boot the rest, at most $jobs at a time.
run_units() {
	local unit i h reason
	for unit in "${start_order[@]}"; do
		[[ -n "$interrupted" ]] && return
		i=${unit%% *} h=${unit#* }
		unbooted_reason "$i" "$h"
		reason=$unbooted
		if [[ -n "$reason" ]]; then
			report_unbooted "${reason%% *}" "${t_name[i]}" "$h" "${reason#* }"
			continue
		fi
		while ((${#job_unit[@]} >= jobs)) && [[ -z "$interrupted" ]]; do
			reap_one || break
		done
		[[ -n "$interrupted" ]] && return
		start_unit "$unit" ||
			report_unbooted ERROR "${t_name[i]}" "$h" "cannot build the $h command"
	done
	while ((${#job_unit[@]})) && [[ -z "$interrupted" ]]; do
		reap_one || break
	done
}

end_run() {
	local reports=0
	# After a Ctrl-C the reports still cover the tests that finished.
	[[ -n "$interrupted" ]] && drain_interrupted
	write_reports || reports=1
	[[ -e "$run_dir/.verdict-err" ]] && rm -f "$run_dir/.verdict-err"
	[[ -n "$interrupted" ]] || save_durations
	if [[ -n "$interrupted" ]]; then
		# results.tap says it too: its plan promised every test.
		printf '%s\n' "Bail out! interrupted by SIG$interrupted" >>"$run_dir/results.tap"
		((opt_tap)) && echo "Bail out! interrupted by SIG$interrupted"
		print_totals
		case "$interrupted" in
		INT) exit 130 ;;
		HUP) exit 129 ;;
		*) exit 143 ;;
		esac
	fi
	((n_fail == 0 && n_pass == 0)) && info "run_tests: no test ran (every test skipped); exit status 77"
	print_totals
	((n_fail == 0 && reports == 0)) || exit 1
	# A run that tested nothing is not green.
	((n_pass == 0)) && exit 77
	exit 0
}

main() {
	local i
	parse_options "$@"
	setup_paths
	need_tool hvt-cfg
	[[ -f "$cfg_file" ]] || die_usage "$cfg_file: no such file"
	load_cfg
	select_tests
	if ((opt_list)); then
		for i in "${selected[@]}"; do
			echo "${t_name[i]}"
		done
		exit 0
	fi
	need_tool hvt-verdict
	check_errata
	choose_hypervisors
	check_settings
	probe_hypervisors
	make_units
	start_run
	run_units
	end_run
}

main "$@"
