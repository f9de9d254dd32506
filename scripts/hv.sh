# shellcheck shell=bash
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# Hypervisor backends and shared helpers for the runner scripts (x86/run,
# run_tests.sh, scripts/check-all). Source it; it defines functions only.
#
# Hypervisors: qemu-tcg, qemu-kvm, bochs. Each maps to a backend (qemu,
# bochs) that defines four functions:
#   _hv_BACKEND_available H    return 0, or 1 with HV_REASON set
#   _hv_BACKEND_version H      print the version (e.g. 7.2.22)
#   _hv_BACKEND_features H [MODEL]  print the features it offers with CPU
#                              model MODEL ("" = its default), one per line
#   _hv_BACKEND_command H      fill HV_ARGV from the HV_CMD_* variables
# Adding a hypervisor is adding one such function set and a case in
# _hv_backend.
#
# Public interface:
#   hv_known H                 is H a hypervisor name?
#   hv_available H             0 if H can run guests; else 1, reason in HV_REASON
#                              (call it in the main shell: it caches what
#                              it learns, also the version and features)
#   hv_version H               print H's version ("" if unknown)
#   hv_features H [MODEL]      print the cfg `requires` features H offers
#                              with CPU model MODEL (bochs: they depend on
#                              it; QEMU ignores it)
#   hv_missing_features [--cpu MODEL] H F..
#                              print the features of F.. that H lacks
#   hv_command H [options] [-- EXTRA...]
#       fill the array HV_ARGV with the command that boots a guest:
#       --image FILE     the ELF image (required)
#       --append STR     the guest command line
#       --smp N          CPUs (default 1)
#       --memory MIB     RAM in MiB (default 128)
#       --cpu MODEL      CPU model ("" = the hypervisor's default)
#       --params STR     extra hypervisor parameters: QEMU arguments split on
#                        white space; Bochs configuration lines split on ';'
#       --console DEST   a file that receives COM1, or "stdout"
#       EXTRA...         appended verbatim (QEMU's -s -S for gdb; for Bochs,
#                        configuration lines)
#   hv_spawn SECS CMD...       start CMD as a job with a timeout (see below)
#   hv_kill PID [SIG]          stop such a job and everything it started

HV_ALL="qemu-tcg qemu-kvm bochs"
HVT_ROOT=${HVT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

HV_REASON=""
HV_ARGV=()
declare -A _hv_avail_cache=() _hv_reason_cache=() _hv_version_cache=() \
	_hv_features_cache=()

# ------------------------------------------------------------ configuration

# QEMU and BOCHS come from the environment, else from config.sh written by
# ./configure, else the usual binary names. Relative paths are made absolute
# so that the scripts may change directory.
hv_load_config() {
	if [[ -f "$HVT_ROOT/config.sh" ]]; then
		# shellcheck source=/dev/null
		source "$HVT_ROOT/config.sh"
	fi
	QEMU=${QEMU:-qemu-system-x86_64}
	BOCHS=${BOCHS:-bochs}
	QEMU=$(_hv_abspath "$QEMU")
	BOCHS=$(_hv_abspath "$BOCHS")
}

_hv_abspath() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*/*) printf '%s/%s\n' "$PWD" "$1" ;;
	*) printf '%s\n' "$1" ;;	# looked up in PATH
	esac
}

# ------------------------------------------------------------ dispatch

hv_known() {
	case "$1" in
	qemu-tcg|qemu-kvm|bochs) return 0 ;;
	*) return 1 ;;
	esac
}

_hv_backend() {
	case "$1" in
	qemu-tcg|qemu-kvm) echo qemu ;;
	bochs) echo bochs ;;
	*) return 1 ;;
	esac
}

hv_available() {
	local h=$1 backend
	if [[ -z "${_hv_avail_cache[$h]+set}" ]]; then
		HV_REASON=""
		if ! backend=$(_hv_backend "$h"); then
			_hv_avail_cache[$h]=1
			_hv_reason_cache[$h]="unknown hypervisor '$h'"
		elif "_hv_${backend}_available" "$h"; then
			_hv_avail_cache[$h]=0
			_hv_reason_cache[$h]=""
			# Fill the other caches here, in the caller's shell: later
			# calls from $(...) subshells then find them.
			_hv_version_cache[$h]=$("_hv_${backend}_version" "$h")
			_hv_features_cache[$h]=$("_hv_${backend}_features" "$h")
		else
			_hv_avail_cache[$h]=1
			_hv_reason_cache[$h]=$HV_REASON
		fi
	fi
	HV_REASON=${_hv_reason_cache[$h]}
	return "${_hv_avail_cache[$h]}"
}

hv_version() {
	local h=$1
	if [[ -z "${_hv_version_cache[$h]+set}" ]]; then
		_hv_version_cache[$h]=$("_hv_$(_hv_backend "$h")_version" "$h")
	fi
	printf '%s\n' "${_hv_version_cache[$h]}"
}

hv_features() {
	local h=$1 key=$1${2:+/$2}
	if [[ -z "${_hv_features_cache[$key]+set}" ]]; then
		_hv_features_cache[$key]=$("_hv_$(_hv_backend "$h")_features" "$h" "${2:-}")
	fi
	[[ -n "${_hv_features_cache[$key]}" ]] && printf '%s\n' "${_hv_features_cache[$key]}"
	return 0
}

hv_missing_features() {
	local model="" h f offered
	if [[ "${1:-}" == --cpu ]]; then
		model=$2
		shift 2
	fi
	h=$1
	shift
	offered=" $(hv_features "$h" "$model" | tr '\n' ' ') "
	for f in "$@"; do
		[[ "$offered" == *" $f "* ]] || printf '%s\n' "$f"
	done
}

hv_command() {
	local h=$1 backend
	shift
	HV_CMD_IMAGE="" HV_CMD_APPEND="" HV_CMD_SMP=1 HV_CMD_MEMORY=128
	HV_CMD_CPU="" HV_CMD_PARAMS="" HV_CMD_CONSOLE=stdout
	HV_CMD_EXTRA=()
	while (($#)); do
		case "$1" in
		--image) HV_CMD_IMAGE=$2; shift 2 ;;
		--append) HV_CMD_APPEND=$2; shift 2 ;;
		--smp) HV_CMD_SMP=$2; shift 2 ;;
		--memory) HV_CMD_MEMORY=$2; shift 2 ;;
		--cpu) HV_CMD_CPU=$2; shift 2 ;;
		--params) HV_CMD_PARAMS=$2; shift 2 ;;
		--console) HV_CMD_CONSOLE=$2; shift 2 ;;
		--) shift; HV_CMD_EXTRA=("$@"); break ;;
		*) echo "hv_command: unknown option '$1'" >&2; return 2 ;;
		esac
	done
	backend=$(_hv_backend "$h") || return 2
	HV_ARGV=()
	"_hv_${backend}_command" "$h"
}

# ------------------------------------------------------------ QEMU backend

_hv_qemu_accel() {
	case "$1" in
	qemu-kvm) echo kvm ;;
	*) echo tcg ;;
	esac
}

_hv_kvm_probe() {
	echo "$HVT_ROOT/build/host/hvt-kvm-probe"
}

_hv_qemu_available() {
	local h=$1 out rc probe
	if ! command -v "$QEMU" >/dev/null 2>&1; then
		HV_REASON="QEMU binary '$QEMU' not found (set QEMU= or ./configure --qemu=)"
		return 1
	fi
	out=$(_hv_memo "$QEMU" -accel help)
	rc=$?
	if ((rc != 0)); then
		HV_REASON="'$QEMU -accel help' failed with status $rc"
		return 1
	fi
	if [[ $'\n'"$out"$'\n' != *$'\n'"$(_hv_qemu_accel "$h")"$'\n'* ]]; then
		HV_REASON="'$QEMU' has no $(_hv_qemu_accel "$h") accelerator"
		return 1
	fi
	[[ "$h" == qemu-kvm ]] || return 0

	probe=$(_hv_kvm_probe)
	if [[ ! -x "$probe" ]]; then
		HV_REASON="$probe is missing (run make)"
		return 1
	fi
	if ! out=$("$probe" 2>&1); then
		HV_REASON="KVM is not usable: ${out:-hvt-kvm-probe failed}"
		return 1
	fi
}

# The version errata.cfg is keyed by: QEMU's own for TCG; for KVM the host
# kernel's release, since KVM lives in the kernel (docs/errata.md).
_hv_qemu_version() {
	if [[ "$1" == qemu-kvm ]]; then
		uname -r
		return
	fi
	local out
	out=$(_hv_memo "$QEMU" --version 2>/dev/null)
	[[ "$out" =~ ^QEMU\ emulator\ version\ ([0-9][0-9.]*) ]] && echo "${BASH_REMATCH[1]}"
	return 0
}

_hv_qemu_features() {
	case "$1" in
	qemu-tcg)
		# TCG emulates SVM with nested paging under -cpu max; x2APIC
		# only from QEMU 8.1 on.
		printf '%s\n' svm npt
		if hvt_version_ge "$(hv_version "$1")" 8.1; then
			echo x2apic
		fi
		;;
	qemu-kvm)
		echo kvm
		"$(_hv_kvm_probe)" --features 2>/dev/null
		;;
	esac
}

# QEMU option values are comma-separated lists: a literal comma is doubled.
_hv_qemu_escape() {
	printf '%s\n' "${1//,/,,}"
}

_hv_qemu_command() {
	local h=$1 accel cpu path params=()
	accel=$(_hv_qemu_accel "$h")
	cpu=$HV_CMD_CPU
	if [[ -z "$cpu" ]]; then
		if [[ "$accel" == kvm ]]; then cpu=host; else cpu=max; fi
	fi
	# stdout: QEMU opens it like a file, so it never touches the terminal
	# settings of stdin; append=on keeps a redirected stdout from being
	# truncated.
	if [[ "$HV_CMD_CONSOLE" == stdout ]]; then
		path="/dev/stdout,append=on"
	else
		path="$(_hv_qemu_escape "$HV_CMD_CONSOLE")"
	fi
	read -ra params <<<"$HV_CMD_PARAMS"
	# shellcheck disable=SC2054 # commas inside QEMU option values
	HV_ARGV=(
		"$QEMU"
		-machine pc -accel "$accel" -cpu "$cpu"
		-m "$HV_CMD_MEMORY" -smp "$HV_CMD_SMP"
		-display none -vga none -nodefaults -no-reboot
		-chardev "file,id=com1,path=$path" -serial chardev:com1
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-kernel "$HV_CMD_IMAGE" -append "$HV_CMD_APPEND"
		"${params[@]}" "${HV_CMD_EXTRA[@]}"
	)
}

# ------------------------------------------------------------ Bochs backend

# The ISO, floppy and configuration are made by scripts/bochs/run-bochs, the
# command this backend returns (docs/bochs.md).
# shellcheck source=scripts/bochs/lib.sh
source "$HVT_ROOT/scripts/bochs/lib.sh"

# The probe output of a model (bochs_probe), cached per model in this shell.
declare -A _hv_bochs_probe_cache=()

# Call it outside $(...) to keep what it learns for later subshells.
_hv_bochs_probe_fill() {
	local model
	model=$(bochs_model "${1:-}")
	if [[ -z "${_hv_bochs_probe_cache[$model]+set}" ]]; then
		_hv_bochs_probe_cache[$model]=$(bochs_probe "$BOCHS" "$model")
	fi
}

_hv_bochs_probe() {
	_hv_bochs_probe_fill "${1:-}"
	printf '%s\n' "${_hv_bochs_probe_cache[$(bochs_model "${1:-}")]}"
}

_hv_bochs_available() {
	local missing out
	if ! command -v "$BOCHS" >/dev/null 2>&1; then
		HV_REASON="Bochs binary '$BOCHS' not found (set BOCHS= or ./configure --bochs=)"
		return 1
	fi
	missing=$(bochs_missing_tools)
	if [[ -n "$missing" ]]; then
		HV_REASON=$missing
		return 1
	fi
	# Configure the default machine and quit: checks the display plugin,
	# the BIOS images and the model in 0.2 s.
	_hv_bochs_probe_fill ""
	out=$(_hv_bochs_probe "")
	if ! grep -q 'CPU Features supported' <<<"$out"; then
		HV_REASON="'$BOCHS' cannot configure a $(bochs_model "") machine: $(bochs_exit_message <<<"$out")"
		HV_REASON=${HV_REASON%: }
		return 1
	fi
}

# The banner: "Bochs x86 Emulator 2.7".
_hv_bochs_version() {
	_hv_bochs_probe "" | sed -n 's/.*Bochs x86 Emulator \([0-9][0-9.]*\).*/\1/p' | head -n 1
}

# What the model offers (env BOCHS_CPU, else MODEL, else the default):
# vmx/ept on Intel models, svm/npt on AMD ones, x2apic where CPUID says so.
_hv_bochs_features() {
	local model
	model=$(bochs_model "${2:-}")
	bochs_features_of "$(_hv_bochs_probe "$model")" "$model"
}

# Bochs' console is a file: "stdout" is refused, as run-bochs keeps its
# configuration and logs next to the console file.
_hv_bochs_command() {
	if [[ "$HV_CMD_CONSOLE" == stdout ]]; then
		echo "hv_command: bochs needs --console FILE" >&2
		return 2
	fi
	HV_ARGV=(
		"$HVT_ROOT/scripts/bochs/run-bochs" --bochs "$BOCHS"
		--image "$HV_CMD_IMAGE" --append "$HV_CMD_APPEND"
		--smp "$HV_CMD_SMP" --memory "$HV_CMD_MEMORY"
		--cpu "$HV_CMD_CPU" --params "$HV_CMD_PARAMS"
		--console "$HV_CMD_CONSOLE"
	)
	((${#HV_CMD_EXTRA[@]})) && HV_ARGV+=(-- "${HV_CMD_EXTRA[@]}")
	return 0
}

# ------------------------------------------------------------ runner helpers

# The job wrapper of hv_spawn: runs the hypervisor under the timeout, keeps
# quiet about signals (the caller explains the exit status), then ends
# whatever the hypervisor left behind in its process group, so that no
# stray process keeps a log or a pipe open.
# shellcheck disable=SC2016 # expanded by the job's own shell
_hv_job_script='
secs=$1
shift
if ((secs > 0)); then
	{ timeout --foreground -k 5 "$secs" "$@" 2>&3; } 3>&2 2>/dev/null
else
	{ "$@" 2>&3; } 3>&2 2>/dev/null
fi
rc=$?
trap "" TERM
kill -TERM 0 2>/dev/null
exit "$rc"'

# hv_spawn SECS COMMAND...: start COMMAND in the background, in a session
# and process group of its own (so a Ctrl-C on the terminal reaches only the
# runner, which stops the job with `kill -- -$HV_PID`), under a timeout of
# SECS seconds (0: none; 124 is the exit status of a timed-out job). Sets
# HV_PID. Redirect the call to redirect the job.
hv_spawn() {
	setsid bash -c "$_hv_job_script" hvt-job "$@" &
	HV_PID=$!
}

# Stop a job of hv_spawn: SIG (default TERM) to its process group.  A
# hypervisor that ignores TERM (Bochs does) gets KILL after two seconds, so
# that nothing outlives the runner.
hv_kill() {
	local pid=$1 sig=${2:-TERM} i
	kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null
	[[ "$sig" == TERM ]] || return 0
	for ((i = 0; i < 20; i++)); do
		kill -0 -- "-$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -s KILL -- "-$pid" 2>/dev/null
	return 0
}

# The exit status of the guest through isa-debug-exit is code << 1 | 1.
# Print what a hypervisor exit status means, for diagnostics.
hv_describe_exit() {
	case "$1" in
	1) echo "guest exit code 0 (PASS)" ;;
	3) echo "guest exit code 1 (FAIL)" ;;
	5) echo "guest exit code 2 (SKIP)" ;;
	7) echo "guest exit code 3 (ERROR)" ;;
	124) echo "timed out" ;;
	*) if (($1 > 128)); then echo "killed by signal $(($1 - 128))"; else echo "exit status $1"; fi ;;
	esac
}

# Is version A (dotted numbers) at least B? An empty A is not.
hvt_version_ge() {
	local a=$1 b=$2 i x y
	[[ -n "$a" ]] || return 1
	local -a va vb
	IFS=. read -ra va <<<"$a"
	IFS=. read -ra vb <<<"$b"
	for ((i = 0; i < ${#va[@]} || i < ${#vb[@]}; i++)); do
		x=$((10#${va[i]:-0})) y=$((10#${vb[i]:-0}))
		((x > y)) && return 0
		((x < y)) && return 1
	done
	return 0
}

# A fresh random nonce: 16 hex digits.
hvt_nonce() {
	# SRANDOM (bash 5.1) comes from the kernel's random source.
	printf '%08x%08x\n' "$SRANDOM" "$SRANDOM"
}

# Memory as in unittests.cfg (MiB, or a suffix M or G) to MiB; 1 if malformed.
hvt_mib() {
	case "$1" in
	*[!0-9MG]*|''|[MG]*|*[MG]?*) return 1 ;;
	*G) echo $((${1%G} * 1024)) ;;
	*M) echo $((10#${1%M})) ;;
	*) echo $((10#$1)) ;;
	esac
}

# Duration as in unittests.cfg (seconds, or a suffix s or m) to seconds.
hvt_seconds() {
	case "$1" in
	*[!0-9sm]*|''|[sm]*|*[sm]?*) return 1 ;;
	*m) echo $((10#${1%m} * 60)) ;;
	*s) echo $((10#${1%s})) ;;
	*) echo $((10#$1)) ;;
	esac
}

# Create a fresh per-run log directory under logs/ and print its path
# (relative to HVT_ROOT). The name holds the time and the PID, so that
# concurrent runs in one tree never share a directory; logs/latest points
# at the newest.
hvt_new_run_dir() {
	local base dir n=0
	base="logs/run-$(printf '%(%Y%m%d-%H%M%S)T' -1)-$$"
	dir=$base
	while ! mkdir -p "$HVT_ROOT/logs" || ! mkdir "$HVT_ROOT/$dir" 2>/dev/null; do
		n=$((n + 1))
		((n < 100)) || { echo "cannot create a log directory under logs/" >&2; return 1; }
		dir="$base.$n"
	done
	hvt_symlink "${dir#logs/}" "$HVT_ROOT/logs/latest"
	echo "$dir"
}

# Point LINK at TARGET atomically (rename over the old link), so that
# concurrent runs never see a missing or half-made link.
hvt_symlink() {
	local target=$1 link=$2 tmp
	tmp="$link.tmp.$$.$RANDOM"
	ln -s "$target" "$tmp" && mv -Tf "$tmp" "$link"
}

# Seconds from START to END ($EPOCHREALTIME values), two decimals.
hvt_elapsed() {
	local us=$(( ${2/./} - ${1/./} ))	# EPOCHREALTIME has six decimals
	printf '%d.%02d\n' $((us / 1000000)) $((us % 1000000 / 10000))
}

# hvt_exclusions H TEST ERRATA_FILE: the guest command-line words ("-CHECK")
# that keep checks which errata.cfg marks "not run" on H from running.
hvt_exclusions() {
	local h=$1 test=$2 errata=$3
	[[ -f "$errata" ]] || return 0
	local words
	mapfile -t words < <("$HVT_ROOT/build/host/hvt-verdict" --exclusions --errata "$errata" \
		--hypervisor "$h" --hv-version "$(hv_version "$h")" --test "$test")
	((${#words[@]})) && printf '%s ' "${words[@]}"
	return 0
}

# _hv_memo BINARY ARG...: BINARY's output (stdout and stderr) and status for
# ARG..., remembered in build/cache/ while the memo is newer than the binary.
# Each QEMU start costs 20 ms and every run asks for the version and the
# accelerators again; the key and the freshness test use no extra process.
_hv_memo() {
	local bin=$1 path key file out rc lines
	shift
	path=$(type -P "$bin") || { "$bin" "$@" </dev/null 2>&1; return; }
	key="$path $*"
	key=${key//[^A-Za-z0-9.+-]/_}
	file=$HVT_ROOT/build/cache/memo-$key
	if [[ -f "$file" && "$file" -nt "$path" ]]; then
		mapfile -t lines <"$file"
		printf '%s\n' "${lines[@]:1}"
		return "${lines[0]}"
	fi
	out=$("$bin" "$@" </dev/null 2>&1)
	rc=$?
	if mkdir -p "$HVT_ROOT/build/cache" 2>/dev/null; then
		printf '%s\n%s\n' "$rc" "$out" >"$file.$$" && mv -f "$file.$$" "$file"
	fi
	printf '%s\n' "$out"
	return "$rc"
}
