# shellcheck shell=bash
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# Hypervisor backends and shared helpers for the runner scripts (x86/run,
# run_tests.sh, scripts/check-all, scripts/bisect, the standalone tests).
# Source it; it defines functions only. docs/runner.md describes the rules.
#
# A hypervisor is named KIND or KIND@VERSION: qemu-tcg, qemu-kvm, bochs, xen,
# qemu-tcg@10.0, bochs@3.0, xen@4.20. A QEMU or Bochs VERSION may end in
# -gcov: the gcov-instrumented build of `make coverage` (qemu-tcg@7.2-gcov,
# bochs@3.0-gcov; docs/coverage.md), only ever build/hv/NAME-VERSION, never
# the configured binary. Each kind maps to a backend (qemu,
# bochs, xen) that defines:
#   _hv_BACKEND_binary H     set HV_BINARY to H's binary; or return 1 with
#                            HV_REASON
#   _hv_BACKEND_version_of BIN  print BIN's version (e.g. 7.2.22)
#   _hv_BACKEND_module H     print the KVM module flavour behind H, if any
#   _hv_BACKEND_models H     the CPU models to try when neither the cfg nor
#                            CPU= names one, in order: the first that boots
#                            is H's default
#   _hv_BACKEND_key H        set HV_KEY_EXTRA (words) and HV_KEY_FILES (files
#                            whose size and time count) for the probe cache
#                            key: whatever besides the binary and the model
#                            can change whether a guest boots (KVM: kernel,
#                            module)
#   _hv_BACKEND_exit_ok RC OUT  do the exit status RC and the output OUT
#                            say that the guest left through the exit device?
#   _hv_BACKEND_command H    fill HV_ARGV from the HV_CMD_* variables
# Adding a hypervisor or a backend is one such function set and an entry in
# _hv_backends.
#
# Availability is a boot (docs/runner.md, "Which hypervisors are available"):
# a hypervisor with a CPU model is available only when the null guest
# build/probe/hvprobe.elf boots on it, reports on the console and exits
# through the exit device. The same boot tells which `requires` features the
# model offers. Answers are cached in build/cache/probe/, keyed by all that
# can change them.
#
# Public interface:
#   hv_known H                 is H a hypervisor name (KIND[@VERSION])?
#   hv_kind H                  print H without its version (qemu-tcg)
#   hv_available H [MODEL]     0 if H boots the probe with MODEL ("" = its
#                              default, with fallbacks); else 1, reason in
#                              HV_REASON. Call it in the main shell: it
#                              caches what it learns.
#   hv_probe_all H[|MODEL]...  probe these, in parallel, before the calls
#                              that need them (a first run's cost)
#   hv_model H                 the CPU model H boots by default
#   hv_version H               print H's version ("" if unknown)
#   hv_features H [MODEL]      print the `requires` features H offers with MODEL
#   hv_missing_features [--cpu MODEL] H F..
#                              print the features of F.. that H lacks
#   hv_fit H MODEL F..         0 if H boots MODEL and offers F..; else 1 with
#                              HV_REASON ("lacks vmx", "unavailable: ...")
#   hv_auto_order              the hypervisors auto mode tries, in order
#   hv_choose ALLOWED QCPU BCPU F..
#                              auto mode: the first of hv_auto_order that
#                              ALLOWED (cfg `hypervisors`, "" = any) permits
#                              and that fits, into HV_CHOICE; else 1 with
#                              HV_REASON saying why each was passed over
#                              (HV_REASON_BRIEF: without the reasons of the
#                              unavailable ones, for a run that said them)
#   hv_cfg_cpu H QCPU BCPU     the CPU model of a test on H: CPU (Bochs: BOCHS_CPU
#                              first), else the cfg's qemu_cpu or bochs_cpu
#   hv_target_args H [MODEL]   hvt-verdict's --hypervisor/--hv-version/
#                              --hv-module/--hv-cpu words, into HV_TARGET_ARGS
#   hv_describe H              one line: binary, version, default model
#   hv_command H [options] [-- EXTRA...]
#       fill the array HV_ARGV with the command that boots a guest:
#       --image FILE     the ELF image (required)
#       --append STR     the guest command line
#       --smp N          CPUs (default 1)
#       --memory MIB     RAM in MiB (default 128)
#       --cpu MODEL      CPU model ("" = H's default, hv_model)
#       --params STR     extra hypervisor parameters: QEMU arguments split on
#                        white space (also for Xen's QEMU); Bochs configuration
#                        lines split on ';'
#       --xen-params STR Xen command-line words (xen only)
#       --console DEST   a file that receives COM1, or "stdout"
#       EXTRA...         appended verbatim (QEMU's -s -S for gdb; for Bochs,
#                        configuration lines)
#   hv_spawn [OPTION]... SECS CMD...  start CMD as a job with a timeout (see below)
#   hv_kill PID [SIG]          stop such a job and everything it started

HV_KINDS="qemu-kvm qemu-tcg bochs xen"
# Auto mode's preference (HVT_HYPERVISORS overrides): hardware first, then
# the emulators, QEMU before Bochs for speed; Xen (under QEMU) for what only
# it offers (the xen tests).
HV_DEFAULT_ORDER="qemu-kvm qemu-tcg bochs xen"
# (No dirname(1): every process counts on the path of a null test.)
HVT_ROOT=${HVT_ROOT:-$(d=${BASH_SOURCE[0]}; [[ "$d" == */* ]] && d=${d%/*} || d=.; cd "$d/.." && pwd)}
HVT_MEMO_DIR=${HVT_MEMO_DIR:-$HVT_ROOT/build/cache}
# shellcheck source=scripts/memo.sh
source "$HVT_ROOT/scripts/memo.sh"

HV_REASON=""
HV_ARGV=()
HV_CHOICE=""
# Per "H|MODEL": the probe's answer (0 boots, 1 not), its reason and features.
declare -A _hv_probe_status=() _hv_probe_reason=() _hv_probe_features=()
# Per H: its binary (or the reason there is none), version, default model.
declare -A _hv_binary_cache=() _hv_binary_reason=() _hv_version_cache=() _hv_model_cache=()

# ------------------------------------------------------------ configuration

# QEMU and BOCHS come from the environment, else from config.sh written by
# ./configure, else the usual binary names. Relative paths are made absolute
# so that the scripts may change directory.
hv_load_config() {
	_hv_plan_input file "$HVT_ROOT/config.sh"
	if [[ -f "$HVT_ROOT/config.sh" ]]; then
		# shellcheck source=/dev/null
		source "$HVT_ROOT/config.sh"
	fi
	QEMU=${QEMU:-qemu-system-x86_64}
	BOCHS=${BOCHS:-bochs}
	_hv_probe_paths
	_hv_abspath "$QEMU"
	QEMU=$REPLY
	_hv_abspath "$BOCHS"
	BOCHS=$REPLY
}

# Into REPLY.
_hv_abspath() {
	case "$1" in
	/*) REPLY=$1 ;;
	*/*) REPLY=$PWD/$1 ;;
	*) REPLY=$1 ;;	# looked up in PATH
	esac
}

# ------------------------------------------------------------ names

hv_known() {
	local kind=${1%%@*}
	[[ " $HV_KINDS " == *" $kind "* && -n "$kind" ]] || return 1
	[[ "$1" != *@* ]] || [[ "${1#*@}" =~ ^[0-9]+(\.[0-9]+)*$ ]] ||
		{ [[ "${1#*@}" =~ ^[0-9]+(\.[0-9]+)*-gcov$ ]] && [[ "${_hv_backends[$kind]}" != xen ]]; }
}

hv_kind() {
	printf '%s\n' "${1%%@*}"
}


declare -A _hv_backends=([qemu-tcg]=qemu [qemu-kvm]=qemu [bochs]=bochs [xen]=xen)

_hv_backend() {
	[[ -n "${_hv_backends[${1%%@*}]:-}" ]] || return 1
	printf '%s\n' "${_hv_backends[${1%%@*}]}"
}

hv_auto_order() {
	local list=${HVT_HYPERVISORS:-$HV_DEFAULT_ORDER}
	printf '%s\n' "${list//,/ }"
}

# Does VERSION (7.2.22) belong to the series WANT (7.2)?
_hv_version_in() {
	local v=$1 want=$2
	[[ -n "$v" ]] || return 1
	[[ "$v" == "$want" || "$v" == "$want".* ]]
}

# _hv_resolve_binary H CONFIGURED PROVISIONED VERSION_FN: H's binary into
# HV_BINARY. Without a version, CONFIGURED (QEMU=, BOCHS=, config.sh); with
# one, CONFIGURED when its version is of that series, else PROVISIONED, the
# binary `scripts/get-hypervisor` puts under build/hv/ (docs/hypervisors.md).
_hv_resolve_binary() {
	local h=$1 configured=$2 provisioned=$3 version_fn=$4 want dir
	want=""
	[[ "$h" == *@* ]] && want=${h#*@}
	HV_BINARY=""
	_hv_plan_input file "$configured"
	[[ -n "$want" ]] && _hv_plan_input file "$provisioned"
	if [[ -z "$want" ]]; then
		HV_BINARY=$configured
	elif [[ "$want" != *-gcov ]] && command -v "$configured" >/dev/null 2>&1 &&
		_hv_version_in "$("$version_fn" "$configured")" "$want"; then
		HV_BINARY=$configured
	elif [[ -x "$provisioned" ]]; then
		HV_BINARY=$provisioned
	else
		dir=${provisioned#"$(_hv_provisioned_dir)/"}
		dir=${dir%%/*}
		HV_REASON="${h%%@*} $want is not provisioned: build/hv/$dir is missing (run scripts/get-hypervisor ${dir%%-*} ${dir#*-})"
		[[ "$want" == *-gcov ]] || HV_REASON+=" and '$configured' is not $want"
		return 1
	fi
	if ! command -v "$HV_BINARY" >/dev/null 2>&1; then
		HV_REASON="binary '$HV_BINARY' not found"
		return 1
	fi
}

# Where scripts/get-hypervisor puts other versions: build/hv/, or HVT_HV_DIR
# (a standalone test, run outside the tree, is pointed at the tree's).
_hv_provisioned_dir() {
	printf '%s\n' "${HVT_HV_DIR:-$HVT_ROOT/build/hv}"
}

# H's binary into HV_BINARY, cached in this shell; 1 with HV_REASON when none.
_hv_binary() {
	local h=$1
	if [[ -z "${_hv_binary_cache[$h]+set}" ]]; then
		HV_REASON=""
		if "_hv_${_hv_backends[${h%%@*}]}_binary" "$h"; then
			_hv_binary_cache[$h]=$HV_BINARY
			_hv_binary_reason[$h]=""
		else
			_hv_binary_cache[$h]=""
			_hv_binary_reason[$h]=$HV_REASON
		fi
	fi
	HV_BINARY=${_hv_binary_cache[$h]}
	HV_REASON=${_hv_binary_reason[$h]}
	[[ -n "$HV_BINARY" ]]
}

hv_version() {
	local h=$1
	if [[ -z "${_hv_version_cache[$h]+set}" ]]; then
		if _hv_binary "$h"; then
			_hv_version_cache[$h]=$("_hv_${_hv_backends[${h%%@*}]}_version_of" "$HV_BINARY")
		else
			_hv_version_cache[$h]=""
		fi
	fi
	printf '%s\n' "${_hv_version_cache[$h]}"
}

# ------------------------------------------------------------ the probe

# The probe cache (HVT_PROBE_CACHE overrides: tests, standalone runs) and the
# probe guest, as set when hv_load_config ran.
_hv_probe_paths() {
	HV_PROBE_DIR=${HVT_PROBE_CACHE:-$HVT_ROOT/build/cache/probe}
	HV_PROBE_IMAGE=${HVT_PROBE_IMAGE:-$HVT_ROOT/build/probe/hvprobe.elf}
}

# Seconds a probe may take: QEMU boots it in 0.1 s, Bochs in 3 s, Xen under
# QEMU TCG in 2 s (10 s and more on a loaded machine).
_hv_probe_timeout() {
	case "${_hv_backends[${1%%@*}]}" in
	bochs|xen) echo 60 ;;
	*) echo 20 ;;
	esac
}

# The path of command NAME in PATH (NAME itself when it holds a '/'), into
# REPLY, without a subshell.
_hv_which() {
	local dir
	REPLY=$1
	[[ "$1" == */* ]] && return 0
	local IFS=:
	for dir in $PATH; do
		[[ -x "${dir:-.}/$1" && ! -d "${dir:-.}/$1" ]] && { REPLY=${dir:-.}/$1; return 0; }
	done
}

# Size and modification time of FILE..., one word each ("none" for a missing
# one), with one stat for all of them.
_hv_file_stamp() {
	local f paths=() lines=()
	for f in "$@"; do
		_hv_which "$f"
		paths+=("$REPLY")
	done
	mapfile -t lines < <(stat -L -c '%s.%Y' "${paths[@]}" 2>/dev/null)
	if ((${#lines[@]} != ${#paths[@]})); then
		lines=()
		for f in "${paths[@]}"; do
			lines+=("$(stat -L -c '%s.%Y' "$f" 2>/dev/null || echo none)")
		done
	fi
	printf '%s\n' "${lines[*]}"
}

# The cache key of H with MODEL into HV_PROBE_KEY: everything that can
# change whether the probe boots and what it sees. In this shell, with one
# stat for the files: every runner start pays it.
_hv_probe_key() {
	local h=$1 model=$2 be=${_hv_backends[${1%%@*}]} stamps
	_hv_probe_paths
	_hv_binary "$h" || return 1
	hv_version "$h" >/dev/null
	HV_KEY_FILES=() HV_KEY_EXTRA="" HV_KEY_FACTS=()
	"_hv_${be}_key" "$h"
	_hv_plan_input file "$HV_BINARY" "$HV_PROBE_IMAGE" "${HV_KEY_FILES[@]}"
	local fact
	for fact in "${HV_KEY_FACTS[@]}"; do
		_hv_plan_input "${fact%%$'\t'*}" "${fact#*$'\t'}"
	done
	stamps=$(_hv_file_stamp "$HV_BINARY" "$HV_PROBE_IMAGE" "${HV_KEY_FILES[@]}")
	printf -v HV_PROBE_KEY 'v2 %s bin=%s version=%s model=%s probe=%s files=%s stamps=%s %s' \
		"${h%%@*}" "$HV_BINARY" "${_hv_version_cache[$h]}" "$model" "$HV_PROBE_IMAGE" \
		"${HV_KEY_FILES[*]}" "$stamps" "$HV_KEY_EXTRA"
}

# The answer file of KEY into REPLY: a 32-bit FNV-1a hash of it, in bash
# arithmetic.
_hv_probe_file() {
	local key=$1 i h=2166136261 c
	for ((i = 0; i < ${#key}; i++)); do
		printf -v c '%d' "'${key:i:1}"
		h=$(( ((h ^ (c & 255)) * 16777619) & 0xffffffff ))
	done
	printf -v REPLY '%s/%08x' "$HV_PROBE_DIR" "$h"
}

# Text from a hypervisor for a one-line reason: control bytes as '?', lines
# joined by " / ", at most 300 bytes.
_hv_oneline() {
	local s
	s=$(head -c 4096 | head -n "${1:-2}" | LC_ALL=C tr -c '[:print:]\n' '?')
	s=${s//$'\n'/ / }
	((${#s} > 300)) && s="${s:0:297}..."
	printf '%s\n' "$s"
}

# _hv_probe_run H MODEL FILE: boot the probe guest, write the answer to FILE:
#   key=KEY, status=0|1, reason=TEXT, feature=NAME..., info=TEXT...
_hv_probe_run() {
	local h=$1 model=$2 file=$3 key dir nonce rc vrc verdict reason line name st image_test start
	local features=() infos=()
	_hv_probe_key "$h" "$model" || return 1
	key=$HV_PROBE_KEY
	mkdir -p "$HV_PROBE_DIR" || return 1
	dir=$(mktemp -d "$HV_PROBE_DIR/run.XXXXXX") || return 1
	nonce=$(hvt_nonce)
	if ! hv_command "$h" --image "$HV_PROBE_IMAGE" --append "nonce=$nonce" \
		--memory 64 --cpu "$model" --console "$dir/console.log" 2>"$dir/out"; then
		reason="cannot build the command: $(_hv_oneline <"$dir/out")"
		rc=-1
	elif [[ ! -f "$HV_PROBE_IMAGE" ]]; then
		reason="the probe guest $HV_PROBE_IMAGE is missing (run make)"
		rc=-1
	else
		: >"$dir/console.log"
		start=$SECONDS
		timeout --foreground -k 2 "$(_hv_probe_timeout "$h")" "${HV_ARGV[@]}" \
			</dev/null >"$dir/out" 2>&1
		rc=$?
		# SIGKILL after an ignored SIGTERM: it still timed out.
		((rc == 137 && SECONDS - start >= $(_hv_probe_timeout "$h"))) && rc=124
		image_test=${HV_PROBE_IMAGE##*/}
		"$HVT_ROOT/build/host/hvt-verdict" --test hvprobe --image-test "${image_test%.elf}" \
			--nonce "$nonce" --exit-code "$rc" --summary "$dir/summary" --checks "$dir/checks" \
			"$dir/console.log" >/dev/null 2>&1
		vrc=$?
		verdict=$(sed -n 's/^verdict=//p' "$dir/summary" 2>/dev/null)
		if [[ "$verdict" == PASS || "$verdict" == SKIP ]] &&
			"_hv_${_hv_backends[${h%%@*}]}_exit_ok" "$rc" "$dir/out"; then
			reason=""
			while IFS=$'\t' read -r st name; do
				[[ "$st" == PASS ]] && features+=("$name")
			done <"$dir/checks"
			while IFS= read -r line; do
				[[ "$line" == "# "* && "$line" != "# summary:"* ]] && infos+=("${line#\# }")
			done < <(tr -d '\r' <"$dir/console.log")
		else
			# The hypervisor's own words first: its stderr, its status.
			reason=$(_hv_oneline <"$dir/out")
			if ((rc == 124)); then
				reason+="${reason:+ }(timed out after $(_hv_probe_timeout "$h") s)"
			elif ((rc > 128)); then
				reason+="${reason:+ }(killed by SIG$(kill -l "$rc" 2>/dev/null || echo "$((rc - 128))"))"
			else
				reason+="${reason:+ }(exit status $rc)"
			fi
			if [[ -z "$(_hv_oneline <"$dir/out")" ]]; then
				if ((vrc == 99)); then
					reason="the null guest did not complete: $(sed -n 's/^reason=//p' "$dir/summary" 2>/dev/null) $reason"
				elif [[ -n "$verdict" ]]; then
					reason="the null guest did not leave through the exit device $reason"
				fi
			fi
		fi
	fi
	{
		printf 'key=%s\n' "$key"
		printf 'status=%s\n' "$([[ -z "$reason" ]] && echo 0 || echo 1)"
		[[ -n "$reason" && "$rc" == 124 ]] && printf 'transient=%s\n' "$$"
		printf 'reason=%s\n' "$reason"
		((${#features[@]})) && printf 'feature=%s\n' "${features[@]}"
		((${#infos[@]})) && printf 'info=%s\n' "${infos[@]}"
	} >"$dir/answer"
	mv -f "$dir/answer" "$file"
	rm -rf "$dir"
}

# Read a probe answer file into the caches, for "H|MODEL"; 1 when FILE is
# missing or holds another key.
_hv_probe_load() {
	local slot=$1 file=$2 key=$3 line status="" reason="" features=""
	[[ -f "$file" ]] || return 1
	while IFS= read -r line; do
		case "$line" in
		key=*) [[ "${line#key=}" == "$key" ]] || return 1 ;;
		# A probe that timed out says nothing lasting (a loaded machine):
		# only the run that made it believes it.
		transient=*) [[ "${line#transient=}" == "$$" ]] || return 1 ;;
		status=*) status=${line#status=} ;;
		reason=*) reason=${line#reason=} ;;
		feature=*) features+="${line#feature=}"$'\n' ;;
		esac
	done <"$file"
	[[ "$status" == 0 || "$status" == 1 ]] || return 1
	_hv_probe_status[$slot]=$status
	_hv_probe_reason[$slot]=$reason
	_hv_probe_features[$slot]=${features%$'\n'}
}

# Make sure "H|MODEL" is known in this shell: from the cache, else a boot.
_hv_probe() {
	local h=$1 model=$2 slot="$1|$2" key file
	[[ -n "${_hv_probe_status[$slot]+set}" ]] && return 0
	if _hv_probe_key "$h" "$model"; then
		key=$HV_PROBE_KEY
	else
		_hv_binary "$h"
		_hv_probe_status[$slot]=1
		_hv_probe_reason[$slot]=$HV_REASON
		_hv_probe_features[$slot]=""
		return 0
	fi
	_hv_probe_file "$key"
	file=$REPLY
	_hv_plan_input file "$file"
	_hv_probe_load "$slot" "$file" "$key" && return 0
	_hv_probe_run "$h" "$model" "$file"
	_hv_probe_load "$slot" "$file" "$key" && return 0
	_hv_probe_status[$slot]=1
	_hv_probe_reason[$slot]="the probe could not run (cannot write $HV_PROBE_DIR?)"
	_hv_probe_features[$slot]=""
}

# hv_probe_all H[|MODEL]...: boot the probes that are not cached, all at
# once; H alone (or H|) means H's first default model.
hv_probe_all() {
	local spec h model key file pids=()
	for spec in "$@"; do
		h=${spec%%|*} model=""
		[[ "$spec" == *"|"* ]] && model=${spec#*|}
		hv_known "$h" || continue
		[[ -z "$model" ]] && model=$("_hv_${_hv_backends[${h%%@*}]}_models" "$h" | head -n 1)
		[[ -n "${_hv_probe_status["$h|$model"]+set}" ]] && continue
		_hv_probe_key "$h" "$model" || continue
		key=$HV_PROBE_KEY
		_hv_probe_file "$key"
	file=$REPLY
		_hv_probe_load "$h|$model" "$file" "$key" && continue
		_hv_probe_run "$h" "$model" "$file" &
		pids+=($!)
	done
	((${#pids[@]})) && wait "${pids[@]}"
	return 0
}

# H's default model: the first of its models that boots (none: the first).
# _hv_model_fill works in this shell; hv_model prints.
_hv_model_fill() {
	local h=$1 m models=()
	[[ -n "${_hv_model_cache[$h]+set}" ]] && return 0
	mapfile -t models < <("_hv_${_hv_backends[${h%%@*}]}_models" "$h")
	for m in "${models[@]}"; do
		_hv_probe "$h" "$m"
		if [[ "${_hv_probe_status["$h|$m"]}" == 0 ]]; then
			_hv_model_cache[$h]=$m
			return 0
		fi
	done
	_hv_model_cache[$h]=${models[0]}
}

hv_model() {
	_hv_model_fill "$1"
	printf '%s\n' "${_hv_model_cache[$1]}"
}

# Why no default model of H boots: what each model tried said (once when
# they all said the same).
_hv_models_reason() {
	local h=$1 m models=() out="" same=1 first
	mapfile -t models < <("_hv_${_hv_backends[${h%%@*}]}_models" "$h")
	first=${_hv_probe_reason["$h|${models[0]}"]}
	for m in "${models[@]}"; do
		[[ "${_hv_probe_reason["$h|$m"]}" == "$first" ]] || same=0
		out+="${out:+; }-cpu $m: ${_hv_probe_reason["$h|$m"]}"
	done
	if ((${#models[@]} == 1)); then
		printf '%s\n' "$first"
	elif ((same)); then
		printf 'no CPU model boots (%s): %s\n' "${models[*]}" "$first"
	else
		printf 'no CPU model boots: %s\n' "$out"
	fi
}

hv_available() {
	local h=$1 model=${2:-}
	HV_REASON=""
	if ! hv_known "$h"; then
		HV_REASON="unknown hypervisor '$h' (known: $HV_KINDS, each optionally @VERSION)"
		return 1
	fi
	if ! _hv_binary "$h"; then
		return 1
	fi
	if [[ -z "$model" ]]; then
		_hv_model_fill "$h"
		model=${_hv_model_cache[$h]}
		_hv_probe "$h" "$model"
		if [[ "${_hv_probe_status["$h|$model"]}" != 0 ]]; then
			HV_REASON=$(_hv_models_reason "$h")
			return 1
		fi
		return 0
	fi
	_hv_probe "$h" "$model"
	HV_REASON=${_hv_probe_reason["$h|$model"]}
	[[ "${_hv_probe_status["$h|$model"]}" == 0 ]]
}

hv_features() {
	local h=$1 model=${2:-}
	[[ -n "$model" ]] || { _hv_model_fill "$h"; model=${_hv_model_cache[$h]}; }
	_hv_probe "$h" "$model"
	[[ -n "${_hv_probe_features["$h|$model"]}" ]] &&
		printf '%s\n' "${_hv_probe_features["$h|$model"]}"
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
	[[ -n "$model" ]] || { _hv_model_fill "$h"; model=${_hv_model_cache[$h]}; }
	_hv_probe "$h" "$model"
	offered=" ${_hv_probe_features["$h|$model"]//$'\n'/ } "
	for f in "$@"; do
		[[ "$offered" == *" $f "* ]] || printf '%s\n' "$f"
	done
}

hv_fit() {
	local h=$1 model=$2 missing why
	shift 2
	if ! hv_available "$h" "$model"; then
		# _hv_binary sets HV_REASON too (to "" when the binary is there)
		why=$HV_REASON
		if [[ -n "$model" ]] && _hv_binary "$h"; then
			HV_REASON="cannot boot CPU model $model: $why"
		else
			HV_REASON="unavailable: $HV_REASON"
		fi
		return 1
	fi
	missing=$(hv_missing_features --cpu "$model" "$h" "$@")
	if [[ -n "$missing" ]]; then
		[[ -n "$model" ]] || { _hv_model_fill "$h"; model=${_hv_model_cache[$h]}; }
		HV_REASON="lacks ${missing//$'\n'/ } (CPU model $model)"
		return 1
	fi
	HV_REASON=""
}

hv_cfg_cpu() {
	case "${_hv_backends[${1%%@*}]}" in
	# BOCHS_CPU wins over every test's model (docs/bochs.md), also for the
	# probe, the features and the errata's cpu= facet.
	bochs) printf '%s\n' "${BOCHS_CPU:-${CPU:-$3}}" ;;
	*) printf '%s\n' "${CPU:-$2}" ;;
	esac
}

hv_choose() {
	local allowed=$1 qcpu=$2 bcpu=$3 h why="" brief=""
	shift 3
	HV_CHOICE="" HV_REASON_BRIEF=""
	for h in $(hv_auto_order); do
		if [[ -n "$allowed" && " $allowed " != *" ${h%%@*} "* && " $allowed " != *" $h "* ]]; then
			why+="${why:+; }$h: not in the test's hypervisors"
			brief+="${brief:+; }$h: not in the test's hypervisors"
			continue
		fi
		if hv_fit "$h" "$(hv_cfg_cpu "$h" "$qcpu" "$bcpu")" "$@"; then
			HV_CHOICE=$h
			HV_REASON=""
			return 0
		fi
		why+="${why:+; }$h: $HV_REASON"
		if [[ "$HV_REASON" == unavailable:* ]]; then
			brief+="${brief:+; }$h: unavailable"
		else
			brief+="${brief:+; }$h: $HV_REASON"
		fi
	done
	HV_REASON="no hypervisor can run it ($why)"
	HV_REASON_BRIEF="no hypervisor can run it ($brief)"
	return 1
}

hv_target_args() {
	local h=$1 model=${2:-}
	[[ -n "$model" ]] || model=$(hv_model "$h")
	hv_version "$h" >/dev/null
	HV_TARGET_ARGS=(--hypervisor "$h" --hv-version "${_hv_version_cache[$h]}"
		--hv-module "$("_hv_${_hv_backends[${h%%@*}]}_module" "$h")" --hv-cpu "$model")
}

hv_describe() {
	local h=$1 v model
	_hv_binary "$h" || { printf '%s\n' "$HV_REASON"; return; }
	v=$(hv_version "$h")
	model=$(hv_model "$h")
	printf '%s%s, -cpu %s\n' "$HV_BINARY" "${v:+ $v}" "$model"
}

hv_command() {
	local h=$1 backend
	shift
	HV_CMD_IMAGE="" HV_CMD_APPEND="" HV_CMD_SMP=1 HV_CMD_MEMORY=128
	HV_CMD_CPU="" HV_CMD_PARAMS="" HV_CMD_XEN_PARAMS="" HV_CMD_CONSOLE=stdout
	HV_CMD_EXTRA=()
	while (($#)); do
		case "$1" in
		--image) HV_CMD_IMAGE=$2; shift 2 ;;
		--append) HV_CMD_APPEND=$2; shift 2 ;;
		--smp) HV_CMD_SMP=$2; shift 2 ;;
		--memory) HV_CMD_MEMORY=$2; shift 2 ;;
		--cpu) HV_CMD_CPU=$2; shift 2 ;;
		--params) HV_CMD_PARAMS=$2; shift 2 ;;
		--xen-params) HV_CMD_XEN_PARAMS=$2; shift 2 ;;
		--console) HV_CMD_CONSOLE=$2; shift 2 ;;
		--) shift; HV_CMD_EXTRA=("$@"); break ;;
		*) echo "hv_command: unknown option '$1'" >&2; return 2 ;;
		esac
	done
	backend=$(_hv_backend "$h") || return 2
	_hv_binary "$h" || { echo "hv_command: $HV_REASON" >&2; return 2; }
	[[ -n "$HV_CMD_CPU" ]] || { _hv_model_fill "$h"; HV_CMD_CPU=${_hv_model_cache[$h]}; }
	HV_ARGV=()
	"_hv_${backend}_command" "$h"
}

# ------------------------------------------------------------ QEMU backend

_hv_qemu_accel() {
	case "${1%%@*}" in
	qemu-kvm) echo kvm ;;
	*) echo tcg ;;
	esac
}

_hv_qemu_binary() {
	_hv_resolve_binary "$1" "$QEMU" "$(_hv_provisioned_dir)/qemu-${1#*@}/bin/qemu-system-x86_64" \
		_hv_qemu_version_of || {
		[[ "$1" == *@* ]] || HV_REASON="QEMU binary '$QEMU' not found (set QEMU= or ./configure --qemu=)"
		return 1
	}
}

# The version errata.cfg is keyed by: QEMU's own; for KVM the errata also
# name the module flavour (docs/errata.md).
_hv_qemu_version_of() {
	local out
	out=$(hvt_memo "$1" --version 2>/dev/null)
	[[ "$out" =~ ^QEMU\ emulator\ version\ ([0-9][0-9.]*) ]] && echo "${BASH_REMATCH[1]}"
	return 0
}

# KVM's behaviour depends on the kernel module that implements it: the first
# of these that is loaded.
# Into REPLY ("" when none is loaded), without a subshell.
HV_KVM_MODULES="kvm_intel kvm_amd kvm_pvm"
_hv_kvm_module() {
	local m
	REPLY=""
	for m in $HV_KVM_MODULES; do
		[[ -d "${HVT_SYSFS_MODULE:-/sys/module}/$m" ]] && { REPLY=$m; return 0; }
	done
	return 0
}

_hv_qemu_module() {
	[[ "${1%%@*}" == qemu-kvm ]] || return 0
	_hv_kvm_module
	[[ -n "$REPLY" ]] && printf '%s\n' "$REPLY"
	return 0
}

# TCG's "max" emulates every feature QEMU has. KVM's "host" passes the host
# CPU through, but some KVMs reject one of its MSRs (IA32_ARCH_CAPABILITIES,
# 0x10a) and QEMU aborts; without that MSR it boots, and qemu64 is the
# plainest model every KVM takes. CPU= or the cfg's qemu_cpu skip the list.
_hv_qemu_models() {
	if [[ -n "${CPU:-}" ]]; then
		printf '%s\n' "$CPU"
	elif [[ "$(_hv_qemu_accel "$1")" == kvm ]]; then
		printf '%s\n' host host,-arch-capabilities qemu64
	else
		echo max
	fi
}

# Into HV_KEY_EXTRA (and HV_KEY_FILES: files whose stamps count).
_hv_qemu_key() {
	local name="" line kernel="" dev=none
	[[ "${1%%@*}" == qemu-kvm ]] || return 0
	# The kernel, the module, access to /dev/kvm and the CPU under it.
	if [[ -r /proc/cpuinfo ]]; then
		while IFS= read -r line; do
			[[ "$line" == "model name"* ]] && { name=${line#*: }; break; }
		done </proc/cpuinfo
	fi
	[[ -r /proc/sys/kernel/osrelease ]] && read -r kernel </proc/sys/kernel/osrelease
	[[ -r /dev/kvm && -w /dev/kvm ]] && dev=rw
	_hv_kvm_module
	# For x86/run's plans: the same, as facts a C program can check (the
	# boot id stands for the CPU and the kernel).
	HV_KEY_FACTS=($'content\t/proc/sys/kernel/random/boot_id' $'content\t/proc/sys/kernel/osrelease'
		$'access\t/dev/kvm')
	local m
	for m in $HV_KVM_MODULES; do
		HV_KEY_FACTS+=($'exists\t'"${HVT_SYSFS_MODULE:-/sys/module}/$m")
	done
	printf -v HV_KEY_EXTRA 'kernel=%s module=%s dev=%s host=%s' "$kernel" "$REPLY" "$dev" "${name// /_}"
}

# isa-debug-exit: (code << 1) | 1; the probe guest reports PASS or SKIP.
_hv_qemu_exit_ok() {
	[[ "$1" == 1 || "$1" == 5 ]]
}

# QEMU option values are comma-separated lists: a literal comma is doubled.
_hv_qemu_escape() {
	printf '%s\n' "${1//,/,,}"
}

_hv_qemu_command() {
	local h=$1 path params=()
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
		"$HV_BINARY"
		-machine pc -accel "$(_hv_qemu_accel "$h")" -cpu "$HV_CMD_CPU"
		-m "$HV_CMD_MEMORY" -smp "$HV_CMD_SMP"
		-display none -vga none -nodefaults -no-reboot
		-chardev "file,id=com1,path=$path" -serial chardev:com1
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-kernel "$HV_CMD_IMAGE" -append "$HV_CMD_APPEND"
		"${params[@]}" "${HV_CMD_EXTRA[@]}"
	)
}

# ------------------------------------------------------------ Bochs backend

# The boot disk (or ISO and floppy) and the configuration are made by
# scripts/bochs/run-bochs, the command this backend returns (docs/bochs.md).
# shellcheck source=scripts/bochs/lib.sh
source "$HVT_ROOT/scripts/bochs/lib.sh"

_hv_bochs_binary() {
	_hv_resolve_binary "$1" "$BOCHS" "$(_hv_provisioned_dir)/bochs-${1#*@}/bin/bochs" \
		_hv_bochs_version_of || {
		[[ "$1" == *@* ]] || HV_REASON="Bochs binary '$BOCHS' not found (set BOCHS= or ./configure --bochs=)"
		return 1
	}
	local missing
	missing=$(bochs_missing_tools "$HV_BINARY")
	if [[ -n "$missing" ]]; then
		HV_REASON=$missing
		return 1
	fi
}

# The banner of --help: "Bochs x86 Emulator 2.7" (scripts/bochs/lib.sh).
_hv_bochs_version_of() {
	bochs_version "$1"
}

_hv_bochs_module() {
	return 0
}

# The model a Bochs run uses: BOCHS_CPU, else the default (docs/bochs.md).
_hv_bochs_models() {
	bochs_model "${CPU:-}"
}

# The probe boots through the tests' path (BOCHS_BOOT): the answer is kept
# per path, and the disk path's loader and tool count like the BIOS.
_hv_bochs_key() {
	local boot
	boot=$(bochs_boot_path) || boot="invalid:${BOCHS_BOOT:-}"
	HV_KEY_FILES=("$(bochs_bios_for "$HV_BINARY")" "$(bochs_vgabios_for "$HV_BINARY")")
	[[ "$boot" == disk ]] && HV_KEY_FILES+=("$BOCHS_LOADER" "$BOCHS_BOOTDISK_TOOL")
	HV_KEY_EXTRA="bochs_cpu=${BOCHS_CPU:-} boot=$boot"
}

# Bochs exits with status 1 after the guest wrote "Shutdown" to port
# 0x8900; run-bochs prints any other exit message of Bochs as "bochs: ...".
_hv_bochs_exit_ok() {
	(($1 <= 1)) && ! grep -q '^bochs: ' "$2" 2>/dev/null
}

# Bochs' console is a file: "stdout" is refused, as run-bochs keeps its
# configuration and logs next to the console file.
_hv_bochs_command() {
	if [[ "$HV_CMD_CONSOLE" == stdout ]]; then
		echo "hv_command: bochs needs --console FILE" >&2
		return 2
	fi
	HV_ARGV=(
		"$HVT_ROOT/scripts/bochs/run-bochs" --bochs "$HV_BINARY"
		--image "$HV_CMD_IMAGE" --append "$HV_CMD_APPEND"
		--smp "$HV_CMD_SMP" --memory "$HV_CMD_MEMORY"
		--cpu "$HV_CMD_CPU" --params "$HV_CMD_PARAMS"
		--console "$HV_CMD_CONSOLE"
	)
	((${#HV_CMD_EXTRA[@]})) && HV_ARGV+=(-- "${HV_CMD_EXTRA[@]}")
	return 0
}

# ------------------------------------------------------------ Xen backend

# Xen runs under QEMU TCG, the tests as its PVH dom0; scripts/xen/run-xen
# makes the command and watches Xen's console (docs/xen.md). H's binary is
# the Xen image: XEN= for `xen`, else the newest under build/hv/; for
# xen@VERSION, build/hv/xen-VERSION/boot/xen (scripts/get-hypervisor).
_hv_xen_binary() {
	local want d best="" bv="" v
	want=""
	[[ "$1" == *@* ]] && want=${1#*@}
	HV_BINARY=""
	if [[ -z "$want" && -n "${XEN:-}" ]]; then
		HV_BINARY=$XEN
	elif [[ -n "$want" ]]; then
		HV_BINARY=$(_hv_provisioned_dir)/xen-$want/boot/xen
		[[ -f "$HV_BINARY" ]] || {
			HV_REASON="xen $want is not provisioned: build/hv/xen-$want is missing (run scripts/get-hypervisor xen $want)"
			return 1
		}
	else
		for d in "$(_hv_provisioned_dir)"/xen-*/boot/xen; do
			[[ -f "$d" ]] || continue
			v=${d#"$(_hv_provisioned_dir)/xen-"}
			v=${v%%/*}
			if [[ -z "$best" ]] || hvt_version_ge "$v" "$bv"; then
				best=$d bv=$v
			fi
		done
		[[ -n "$best" ]] || {
			HV_REASON="no Xen is provisioned (run scripts/get-hypervisor xen 4.20, or set XEN=)"
			return 1
		}
		HV_BINARY=$best
	fi
	[[ -f "$HV_BINARY" ]] || { HV_REASON="Xen image '$HV_BINARY' not found"; return 1; }
	command -v "$QEMU" >/dev/null 2>&1 ||
		{ HV_REASON="Xen runs under QEMU, and QEMU binary '$QEMU' is not found"; return 1; }
}

# The version get-hypervisor wrote beside the image, else the image's banner.
_hv_xen_version_of() {
	local dir v
	dir=$(dirname "$(dirname "$1")")
	if [[ -f "$dir/version" ]]; then
		read -r v <"$dir/version"
		printf '%s\n' "$v"
		return 0
	fi
	v=$(grep -a -o -m 1 -E 'Xen version [0-9]+\.[0-9]+(\.[0-9]+)?' "$1" 2>/dev/null | head -n 1)
	printf '%s\n' "${v#Xen version }"
}

_hv_xen_module() {
	return 0
}

# QEMU's CPU for the machine under Xen: TCG's max (SVM with NPT: Xen uses HAP).
_hv_xen_models() {
	printf '%s\n' "${CPU:-max}"
}

# QEMU matters as much as Xen: TCG's SVM is what Xen runs on.
_hv_xen_key() {
	HV_KEY_FILES=("$QEMU")
	HV_KEY_EXTRA="qemu=$QEMU"
}

# isa-debug-exit as with QEMU; run-xen turns a Xen panic into "xen: ...".
_hv_xen_exit_ok() {
	[[ "$1" == 1 || "$1" == 5 ]] && ! grep -q '^xen: ' "$2" 2>/dev/null
}

_hv_xen_command() {
	if [[ "$HV_CMD_CONSOLE" == stdout ]]; then
		echo "hv_command: xen needs --console FILE" >&2
		return 2
	fi
	HV_ARGV=(
		"$HVT_ROOT/scripts/xen/run-xen" --qemu "$QEMU" --xen "$HV_BINARY"
		--image "$HV_CMD_IMAGE" --append "$HV_CMD_APPEND"
		--smp "$HV_CMD_SMP" --memory "$HV_CMD_MEMORY" --cpu "$HV_CMD_CPU"
		--params "$HV_CMD_PARAMS" --xen-params "$HV_CMD_XEN_PARAMS"
		--console "$HV_CMD_CONSOLE"
	)
	((${#HV_CMD_EXTRA[@]})) && HV_ARGV+=(-- "${HV_CMD_EXTRA[@]}")
	return 0
}

# hv_cost H: what a test on H takes before any has run here, in hundredths
# of a second (a mean of make check's tests on 2 cores, docs/runner.md
# "Scheduling"): run_tests.sh starts the longest first.
hv_cost() {
	case "${_hv_backends[${1%%@*}]:-}" in
	bochs) echo 230 ;;
	xen) echo 75 ;;
	*) echo 30 ;;
	esac
}

# ------------------------------------------------------------ plan inputs

# What this shell's decisions read, for x86/run's plans (docs/runner.md,
# "Plans"): "KIND<TAB>PATH" entries as scripts/plan.h checks them (file,
# exists, access, content), each once.
HV_PLAN_INPUTS=()
declare -A _hv_plan_seen=()

_hv_plan_input() {
	local kind=$1 path
	shift
	for path; do
		[[ -n "$path" && -z "${_hv_plan_seen["$kind"$'\t'"$path"]+set}" ]] || continue
		_hv_plan_seen["$kind"$'\t'"$path"]=1
		HV_PLAN_INPUTS+=("$kind"$'\t'"$path")
	done
}

# ------------------------------------------------------------ runner helpers

# hv_spawn SECS COMMAND...: start COMMAND in the background as a job of
# build/host/hvt-job: in a session and process group of its own (so a Ctrl-C
# on the terminal reaches only the runner, which stops the job with
# `kill -- -$HV_PID`), under a timeout of SECS seconds (0: none; 124 is the
# exit status of a timed-out job); whatever COMMAND leaves in the group ends
# with it. Options of hvt-job first: --follow FILE (copy FILE to stdout as it
# grows), --output FILE (COMMAND's stdout and stderr, removed when empty),
# --link LINK TARGET. Sets HV_PID. Redirect the call to redirect the job.
hv_spawn() {
	"$HVT_ROOT/build/host/hvt-job" "$@" &
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

# The cfg's longest timeout (CFG_TIMEOUT_MAX of scripts/cfg.h), in seconds.
HVT_TIMEOUT_MAX=$((24 * 60 * 60))

# hvt_seconds DURATION [WHAT]: a duration as in unittests.cfg (seconds, or a
# suffix s or m) to seconds, in the cfg's range (1s..1440m). Otherwise 1, and
# on stderr the cfg's own message, for WHAT (default "timeout"). A value of
# 0 or one that overflows bash arithmetic would otherwise disable the timeout
# or wrap around, so the digits are bounded before any arithmetic.
hvt_seconds() {
	local what=${2:-timeout} digits unit n
	if [[ ! "$1" =~ ^([0-9]+)([sm]?)$ ]]; then
		echo "$what: '$1' is not a duration (seconds, or with a suffix s or m)" >&2
		return 1
	fi
	digits=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]}
	digits=${digits#"${digits%%[!0]*}"}	# leading zeros
	n=-1
	if ((${#digits} <= 6)); then
		n=$((10#${digits:-0}))
		[[ "$unit" == m ]] && n=$((n * 60))
	fi
	if ((n < 1 || n > HVT_TIMEOUT_MAX)); then
		echo "$what: $1 is out of range (1s..$((HVT_TIMEOUT_MAX / 60))m)" >&2
		return 1
	fi
	echo "$n"
}

# Create a fresh per-run log directory under logs/ and print its path
# (relative to HVT_ROOT), as x86/run's plans do (scripts/logfiles.c). The
# name holds the time and a PID, made with mkdir(2), so that concurrent runs
# in one tree never share a directory; logs/latest points at the newest.
hvt_new_run_dir() {
	"$HVT_ROOT/build/host/hvt-job" --new-run-dir "$HVT_ROOT"
}

# hvt_mktemp_beside DEST: create an empty temporary file in DEST's directory
# and print its path. mktemp makes it with O_EXCL under an unguessable name,
# so a symbolic link planted there is never followed; it gets the mode a new
# DEST would get (mktemp's is 0600); a rename onto DEST then replaces DEST
# whole, on the same file system.
hvt_mktemp_beside() {
	local dest=$1 tmp
	tmp=$(mktemp "$(dirname -- "$dest")/.${dest##*/}.XXXXXX") || return 1
	chmod "$(printf '%o' $((0666 & ~$(umask))))" "$tmp" || { rm -f "$tmp"; return 1; }
	printf '%s\n' "$tmp"
}

# Seconds from START to END ($EPOCHREALTIME values), two decimals.
hvt_elapsed() {
	local us=$(( ${2/./} - ${1/./} ))	# EPOCHREALTIME has six decimals
	printf '%d.%02d\n' $((us / 1000000)) $((us % 1000000 / 10000))
}

# hvt_exclusions H TEST ERRATA_FILE [MODEL]: the guest command-line words
# ("-CHECK") that keep checks which errata.cfg marks "not run" on H (with CPU
# model MODEL, "" = H's default) from running.
hvt_exclusions() {
	local h=$1 test=$2 errata=$3
	[[ -f "$errata" ]] || return 0
	local words
	hv_target_args "$h" "${4:-}"
	mapfile -t words < <("$HVT_ROOT/build/host/hvt-verdict" --exclusions --errata "$errata" \
		"${HV_TARGET_ARGS[@]}" --test "$test")
	((${#words[@]})) && printf '%s ' "${words[@]}"
	return 0
}
