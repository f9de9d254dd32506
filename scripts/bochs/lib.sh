# shellcheck shell=bash
# Variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034
# Helpers of the Bochs backend, sourced by scripts/hv.sh, scripts/bochs/mkiso
# and scripts/bochs/run-bochs. Functions only; see docs/bochs.md.

BOCHS_LIB_ROOT=$(d=${BASH_SOURCE[0]}; [[ "$d" == */* ]] && d=${d%/*} || d=.; cd "$d/../.." && pwd)

# Bochs' term display quits before the first instruction, saying nothing,
# when TERM is unset (as under CI): give it a plain terminal type.
export TERM=${TERM:-vt100}

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

# The directory above BIN's directory (dirname twice) into REPLY, without
# running dirname: every run asks, and a fork is dear on a loaded machine.
bochs_prefix_of() {
	local d=$1 i
	for i in 1 2; do
		case "$d" in
		*/*) d=${d%/*}; d=${d:-/} ;;
		*) d=. ;;
		esac
	done
	REPLY=$d
}

# The BIOS images for the Bochs binary BIN: a provisioned Bochs carries its
# own beside it (BIN's ../share/bochs, docs/hypervisors.md); else as above.
bochs_bios_for() {
	local own
	bochs_prefix_of "$1"
	own=$REPLY/share/bochs/BIOS-bochs-latest
	if [[ -z "${BOCHS_BIOS:-}" && "$1" == */* && -f "$own" ]]; then
		printf '%s\n' "$own"
	else
		bochs_bios
	fi
}

bochs_vgabios_for() {
	local own
	bochs_prefix_of "$1"
	own=$REPLY/share/bochs/VGABIOS-lgpl-latest
	if [[ -z "${BOCHS_VGABIOS:-}" && "$1" == */* && -f "$own" ]]; then
		printf '%s\n' "$own"
	else
		bochs_vgabios
	fi
}

# How a run boots (docs/bochs.md, "How a test boots"): env BOCHS_BOOT,
#   disk  (the default) the BIOS boots the loader scripts/bochs/loader.S from
#         a hard disk image that build/host/hvt-bootdisk writes for the run:
#         the test image, its command line, the loader's plan
#   iso   the BIOS boots GRUB from the image's cached ISO (build/iso/), the
#         command line on a floppy
# Prints the path; fails for another value.
bochs_boot_path() {
	case "${BOCHS_BOOT:-disk}" in
	disk) echo disk ;;
	iso) echo iso ;;
	*) return 1 ;;
	esac
}

# The disk path's two inputs, both built by `make`.
BOCHS_BOOTDISK_TOOL=$BOCHS_LIB_ROOT/build/host/hvt-bootdisk
BOCHS_LOADER=$BOCHS_LIB_ROOT/build/bochs/loader.bin

# What the disk path lacks, as a sentence; "" if nothing.
bochs_disk_missing() {
	if [[ ! -x "$BOCHS_BOOTDISK_TOOL" ]]; then
		echo "the boot disk tool $BOCHS_BOOTDISK_TOOL is missing (run make; or BOCHS_BOOT=iso)"
	elif [[ ! -f "$BOCHS_LOADER" ]]; then
		echo "the boot loader $BOCHS_LOADER is missing (run make; or BOCHS_BOOT=iso)"
	fi
}

# bochs_missing_tools BIN [PATH]: what is missing to boot Bochs binary BIN
# through PATH (default: bochs_boot_path), as a sentence; "" if nothing.
bochs_missing_tools() {
	local bin=${1:-bochs} path=${2:-} t
	if [[ -z "$path" ]] && ! path=$(bochs_boot_path); then
		echo "BOCHS_BOOT='${BOCHS_BOOT:-}' names no boot path (disk, the default, or iso)"
		return
	fi
	if [[ "$path" == iso ]]; then
		for t in grub-mkrescue xorriso mformat mcopy sha256sum; do
			command -v "$t" >/dev/null 2>&1 ||
				{ echo "'$t' not found (Debian: grub-common, xorriso, mtools)"; return; }
		done
		[[ -d "${BOCHS_GRUB_DIR:-/usr/lib/grub/i386-pc}" ]] ||
			{ echo "GRUB's BIOS modules ${BOCHS_GRUB_DIR:-/usr/lib/grub/i386-pc} are missing (Debian: grub-pc-bin)"; return; }
	else
		t=$(bochs_disk_missing)
		[[ -z "$t" ]] || { echo "$t"; return; }
	fi
	[[ -f "$(bochs_bios_for "$bin")" ]] ||
		{ echo "BIOS image $(bochs_bios_for "$bin") not found (Debian: bochsbios; or set BOCHS_BIOS)"; return; }
	[[ -f "$(bochs_vgabios_for "$bin")" ]] ||
		{ echo "VGA BIOS image $(bochs_vgabios_for "$bin") not found (Debian: vgabios; or set BOCHS_VGABIOS)"; return; }
}

# ------------------------------------------------------------ the binary

# shellcheck source=scripts/memo.sh
source "$BOCHS_LIB_ROOT/scripts/memo.sh"

# bochs_help BIN: what `BIN --help` prints (banner and usage), asked once per
# binary (scripts/memo.sh).
bochs_help() {
	hvt_memo "$1" --help
}

# bochs_version BIN: BIN's version from the banner of --help ("Bochs x86
# Emulator 3.0"); nothing when there is no banner.
bochs_version() {
	local out
	out=$(bochs_help "$1" 2>/dev/null)
	[[ "$out" =~ Bochs\ x86\ Emulator\ ([0-9][0-9.]*) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
	return 0
}

# bochs_debugger BIN: how BIN's internal debugger starts, from the options
# its usage lists (docs/bochs.md, "Debugging"):
#   default  with every run: it stops at its prompt unless "-rc FILE" feeds
#            it commands ("c" runs the machine). Bochs 2.7 built with the
#            debugger, as Debian's is.
#   option   only with -dbg (usage: "-debugger"); without it "-rc FILE" is
#            ignored and the machine runs at full speed. Bochs 3.0.
#   none     not compiled in: -rc and -dbg are unknown options.
# A usage that says neither way (no "Usage:" line) is judged by the version.
bochs_debugger() {
	local out ver
	out=$(bochs_help "$1" 2>/dev/null)
	if [[ "$out" == *$'\n'"  -debugger "* || "$out" == *$'\n'"  -dbg "* ]]; then
		echo option
	elif [[ "$out" == *$'\n'"  -rc "* ]]; then
		echo default
	elif [[ "$out" == *"Usage:"* ]]; then
		echo none
	else
		ver=$(bochs_version "$1")
		if [[ "${ver%%.*}" =~ ^[0-9]+$ ]] && ((${ver%%.*} >= 3)); then
			echo option
		else
			echo default
		fi
	fi
}

# bochs_run_args BIN RCFILE: the options that make BIN run the machine
# without stopping at a debugger prompt; writes RCFILE ("c") when BIN needs
# one. bochs_stop_args BIN RCFILE: the options that make BIN configure the
# machine and quit before its first instruction (the debugger's "quit"; a
# Bochs without debugger stops after a million ticks of -benchmark instead).
# bochs_debugger_args BIN: the options that start at the debugger prompt;
# fails for a Bochs without debugger.
bochs_run_args() {
	case "$(bochs_debugger "$1")" in
	default) echo c >"$2" && printf '%s\n' -rc "$2" ;;
	esac
	return 0
}

bochs_stop_args() {
	case "$(bochs_debugger "$1")" in
	default) echo quit >"$2" && printf '%s\n' -rc "$2" ;;
	option) echo quit >"$2" && printf '%s\n' -dbg -rc "$2" ;;
	none) printf '%s\n' -benchmark 1 ;;
	esac
}

bochs_debugger_args() {
	case "$(bochs_debugger "$1")" in
	option) echo -dbg ;;
	none) return 1 ;;
	esac
	return 0
}

# bochs_probe BOCHS MODEL [COUNT]: configure a machine with MODEL and COUNT
# CPUs and quit before the first instruction (bochs_stop_args). Prints
# Bochs' initialisation log: banner, "SMP support", CPUID leaves and "CPU
# Features supported". About 0.2 s.
bochs_probe() {
	local bochs=$1 model=$2 count=${3:-1} dir rc opts=()
	[[ "$bochs" == */* && "$bochs" != /* ]] && bochs=$PWD/$bochs
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hvt-bochs-probe.XXXXXX") || return 1
	{
		echo "cpu: model=$model, count=$count"
		echo "megs: 16"
		echo "romimage: file=$(bochs_bios_for "$bochs")"
		echo "vgaromimage: file=$(bochs_vgabios_for "$bochs")"
		echo "display_library: term"
		echo "log: -"
		echo "panic: action=fatal"
	} >"$dir/bochsrc"
	mapfile -t opts < <(bochs_stop_args "$bochs" "$dir/rc")
	(cd "$dir" && "$bochs" -q -f bochsrc "${opts[@]}" </dev/null 2>&1)
	rc=$?
	rm -rf "$dir"
	return "$rc"
}

# The message Bochs ends with ("Bochs is exiting with the following
# message:" and the line after it), from its output on stdin.
bochs_exit_message() {
	sed -n '/^Bochs is exiting with the following message:/{n;p;q}'
}

# ------------------------------------------------------------ disk path

# bochs_boot_disk FILE IMAGE MIB ARGS: FILE, the flat hard disk image that
# boots IMAGE with ARGS in MIB MiB of RAM (build/host/hvt-bootdisk). Its
# messages go to stderr.
bochs_boot_disk() {
	"$BOCHS_BOOTDISK_TOOL" --loader "$BOCHS_LOADER" --image "$2" --memory "$3" \
		--append "$4" --output "$1"
}

# ------------------------------------------------------------ ISO path: cache and floppy

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
