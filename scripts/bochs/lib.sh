# shellcheck shell=bash
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# Helpers of the Bochs backend, sourced by scripts/hv.sh, scripts/bochs/mkiso
# and scripts/bochs/run-bochs. Functions only; see docs/bochs.md.

BOCHS_LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The CPU model when neither BOCHS_CPU nor the cfg names one.
BOCHS_DEFAULT_CPU=corei7_skylake_x

# Emulated instructions per second of virtual time. Fixed, so that a guest's
# timers (APIC, PIT, TSC) see the same virtual time on every host.
BOCHS_IPS=50000000

# Version of the ISO layout (grub.cfg, modules): part of the cache key, so
# that a change here rebuilds every cached ISO.
BOCHS_ISO_FORMAT=1

# GRUB modules on the ISO: what grub.cfg uses, nothing else (a smaller ISO,
# and no wildcard module that could expand a '*' in a check selector).
BOCHS_GRUB_MODULES="normal configfile test echo serial terminal fat multiboot2 boot"

# The BIOS images: env BOCHS_BIOS / BOCHS_VGABIOS, else what Debian's
# bochsbios and vgabios packages install.
bochs_bios() {
	printf '%s\n' "${BOCHS_BIOS:-/usr/share/bochs/BIOS-bochs-latest}"
}

bochs_vgabios() {
	local f
	if [[ -n "${BOCHS_VGABIOS:-}" ]]; then
		printf '%s\n' "$BOCHS_VGABIOS"
		return
	fi
	for f in /usr/share/bochs/VGABIOS-lgpl-latest /usr/share/vgabios/vgabios.bin; do
		[[ -f "$f" ]] && { printf '%s\n' "$f"; return; }
	done
	echo /usr/share/bochs/VGABIOS-lgpl-latest
}

# The model a run uses: env BOCHS_CPU, else the one asked for, else the default.
bochs_model() {
	printf '%s\n' "${BOCHS_CPU:-${1:-$BOCHS_DEFAULT_CPU}}"
}

# What is missing to build ISOs and boot Bochs, as a sentence; "" if nothing.
bochs_missing_tools() {
	local t
	for t in grub-mkrescue xorriso mformat mcopy sha256sum; do
		command -v "$t" >/dev/null 2>&1 ||
			{ echo "'$t' not found (Debian: grub-common, xorriso, mtools)"; return; }
	done
	[[ -d "${BOCHS_GRUB_DIR:-/usr/lib/grub/i386-pc}" ]] ||
		{ echo "GRUB's BIOS modules ${BOCHS_GRUB_DIR:-/usr/lib/grub/i386-pc} are missing (Debian: grub-pc-bin)"; return; }
	[[ -f "$(bochs_bios)" ]] ||
		{ echo "BIOS image $(bochs_bios) not found (Debian: bochsbios; or set BOCHS_BIOS)"; return; }
	[[ -f "$(bochs_vgabios)" ]] ||
		{ echo "VGA BIOS image $(bochs_vgabios) not found (Debian: vgabios; or set BOCHS_VGABIOS)"; return; }
}

# bochs_probe BOCHS MODEL [COUNT]: configure a machine with MODEL and COUNT
# CPUs and quit before the first instruction (the debugger's "quit" from an
# rc file). Prints Bochs' initialisation log: banner, "SMP support", CPUID
# leaves and "CPU Features supported". About 0.2 s.
bochs_probe() {
	local bochs=$1 model=$2 count=${3:-1} dir rc
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hvt-bochs-probe.XXXXXX") || return 1
	{
		echo "cpu: model=$model, count=$count"
		echo "megs: 16"
		echo "romimage: file=$(bochs_bios)"
		echo "vgaromimage: file=$(bochs_vgabios)"
		echo "display_library: term"
		echo "log: -"
		echo "panic: action=fatal"
	} >"$dir/bochsrc"
	echo quit >"$dir/rc"
	(cd "$dir" && "$bochs" -q -f bochsrc -rc rc </dev/null 2>&1)
	rc=$?
	rm -rf "$dir"
	return "$rc"
}

# The message Bochs ends with ("Bochs is exiting with the following
# message:" and the line after it), from its output on stdin.
bochs_exit_message() {
	sed -n '/^Bochs is exiting with the following message:/{n;p;q}'
}

# bochs_features_of PROBE_OUTPUT MODEL: the cfg `requires` features of the model
# probed, from its "CPU Features supported" list and CPUID leaves. Bochs does
# not print VMX controls: EPT comes from the measured table below.
bochs_features_of() {
	local out=$1 model=$2 flags edx
	flags=" $(sed -n '/CPU Features supported:/,/hardware reset\|is an application processor/{s/.*\t//p}' <<<"$out" | tr '\n' ' ') "
	if [[ "$flags" == *" vmx "* ]]; then
		echo vmx
		bochs_model_has_ept "$model" && echo ept
	fi
	if [[ "$flags" == *" svm "* ]]; then
		echo svm
		# CPUID 0x8000000A EDX bit 0: nested paging (APM Vol. 3, E.4.9).
		edx=$(sed -n 's/.*CPUID\[0x8000000a\]: [0-9a-f]* [0-9a-f]* [0-9a-f]* \([0-9a-f]*\).*/\1/p' <<<"$out" | head -n 1)
		[[ -n "$edx" ]] && (((16#$edx) & 1)) && echo npt
	fi
	[[ "$flags" == *" x2apic "* ]] && echo x2apic
	return 0
}

# Models whose VMX offers EPT (secondary processor-based control bit 1
# allowed to be 1 in IA32_VMX_PROCBASED_CTLS2), as measured on Bochs 2.7 by
# a guest reading the capability MSRs (docs/bochs.md, "CPU models").
BOCHS_EPT_MODELS="corei5_lynnfield_750 corei5_arrandale_m520 corei7_sandy_bridge_2600k
corei7_ivy_bridge_3770k corei7_haswell_4770 broadwell_ult corei7_skylake_x corei3_cnl
corei7_icelake_u tigerlake"

bochs_model_has_ept() {
	[[ " ${BOCHS_EPT_MODELS//$'\n'/ } " == *" $1 "* ]]
}

# ------------------------------------------------------------ ISO cache

# The content key of IMAGE's ISO: the layout version and the image's bytes.
bochs_iso_key() {
	{ echo "hvt-iso-$BOCHS_ISO_FORMAT"; cat "$1"; } | sha256sum | cut -c1-16
}

# The cache directory (env BOCHS_ISO_CACHE for tests).
bochs_iso_cache() {
	printf '%s\n' "${BOCHS_ISO_CACHE:-$BOCHS_LIB_ROOT/build/iso}"
}

# bochs_grub_cfg NAME ARGS: the ISO's grub.cfg. The run's arguments come
# from (fd0)/hvt-args.cfg when a floppy holds one (run-bochs), else ARGS.
bochs_grub_cfg() {
	local name=$1 args=$2
	cat <<CFG
# Generated by scripts/bochs/mkiso (format $BOCHS_ISO_FORMAT); see docs/bochs.md.
set timeout=0
set default=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set hvt_args='$args'
insmod fat
if [ -f (fd0)/hvt-args.cfg ]; then
	source (fd0)/hvt-args.cfg
fi
menuentry "$name" {
	multiboot2 /boot/$name.elf \$hvt_args
	boot
}
CFG
}

# Guest arguments go into a single-quoted GRUB string and then through
# GRUB's command-line builder, which escapes quotes and backslashes: refuse
# what would not arrive unchanged. Prints the reason.
bochs_args_unsafe() {
	case "$1" in
	*[\'\"\\]*) echo "a quote or backslash" ;;
	*[![:print:]]*) echo "a control character" ;;
	*) return 1 ;;
	esac
}

# bochs_build_iso IMAGE OUT [ARGS]: write a GRUB rescue ISO booting IMAGE to
# OUT, atomically: built beside OUT under a temporary name, then renamed, so
# that concurrent builders and readers never see a partial file.
bochs_build_iso() {
	local image=$1 out=$2 args=${3:-} name stage tmp rc why
	name=$(basename "$image" .elf)
	if why=$(bochs_args_unsafe "$args"); then
		echo "mkiso: the arguments hold $why, which GRUB would alter" >&2
		return 2
	fi
	stage=$(mktemp -d "${TMPDIR:-/tmp}/hvt-iso.XXXXXX") || return 1
	mkdir -p "$stage/root/boot/grub" "$(dirname "$out")" &&
		cp "$image" "$stage/root/boot/$name.elf" &&
		bochs_grub_cfg "$name" "$args" >"$stage/root/boot/grub/grub.cfg" &&
		tmp=$(mktemp "$out.tmp.XXXXXX")
	rc=$?
	if ((rc == 0)); then
		# shellcheck disable=SC2086 # a list of module names
		if grub-mkrescue -o "$tmp" --install-modules="$BOCHS_GRUB_MODULES" \
			--locales= --fonts= --themes= "$stage/root" >"$stage/log" 2>&1; then
			chmod 0644 "$tmp" && mv -f "$tmp" "$out"
			rc=$?
		else
			rc=$?
			echo "mkiso: grub-mkrescue failed for $image:" >&2
			sed 's/^/  /' "$stage/log" >&2
		fi
		rm -f "$tmp"
	fi
	rm -rf "$stage"
	return "$rc"
}

# bochs_iso_cached IMAGE: print the cached ISO of IMAGE, building it when the
# image's content has none yet. Older ISOs of the same image name are
# removed, so the cache holds one ISO per image.
bochs_iso_cached() {
	local image=$1 name dir iso old
	name=$(basename "$image" .elf)
	dir=$(bochs_iso_cache)
	iso="$dir/$name-$(bochs_iso_key "$image").iso"
	if [[ ! -f "$iso" ]]; then
		bochs_build_iso "$image" "$iso" || return 1
		for old in "$dir/$name"-????????????????.iso; do
			[[ "$old" != "$iso" && -f "$old" ]] && rm -f "$old"
		done
	fi
	printf '%s\n' "$iso"
}

# bochs_args_floppy FILE ARGS: a 1.44 MB FAT floppy image holding
# hvt-args.cfg, which sets the guest arguments for the ISO's grub.cfg.
bochs_args_floppy() {
	local file=$1 args=$2 why cfg rc
	if why=$(bochs_args_unsafe "$args"); then
		echo "run-bochs: the guest arguments hold $why, which GRUB would alter: $args" >&2
		return 2
	fi
	cfg=$(mktemp "${TMPDIR:-/tmp}/hvt-args.XXXXXX") || return 1
	printf "set hvt_args='%s'\n" "$args" >"$cfg"
	rm -f "$file"
	MTOOLS_SKIP_CHECK=1 mformat -C -f 1440 -i "$file" :: &&
		MTOOLS_SKIP_CHECK=1 mcopy -i "$file" "$cfg" ::hvt-args.cfg
	rc=$?
	rm -f "$cfg"
	return "$rc"
}
