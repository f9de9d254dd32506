#!/usr/bin/env bash
# Tests of the Bochs backend: the boot paths (the boot disk of the default
# disk path, BOCHS_BOOT=iso's ISO cache from scripts/bochs/mkiso), the
# generated configuration (scripts/bochs/run-bochs), hv.sh's bochs functions,
# faults with a fake Bochs (scripts/tests/fake-bochs), and real boots under
# real Bochs when it is installed. They run in a temporary tree that links
# to the real scripts, images and host tools, so the repository's logs/ and
# build/iso/ are left alone. Output is TAP, then "bochs tests: P passed, F
# failed"; the exit status is non-zero when a test failed.
# SC2031: $out names a file that subshells write, by design. SC2016: the
# single-quoted scripts and patterns hold a literal $. SC2013: PIDs are words.
# shellcheck disable=SC2031,SC2016,SC2013
set -u

SUITE="bochs tests"
CLEAR_OUTPUT_AFTER_TEST=1
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FAKE=$ROOT/scripts/tests/fake-bochs

# ------------------------------------------------------------ fixtures

make_tree() {
	local f
	mkdir -p "$TREE/x86" "$TREE/build" || exit 2
	ln -s "$ROOT/run_tests.sh" "$TREE/run_tests.sh"
	ln -s "$ROOT/scripts" "$TREE/scripts"
	ln -s "$ROOT/build/host" "$TREE/build/host"
	ln -s "$ROOT/build/probe" "$TREE/build/probe"
	ln -s "$ROOT/build/bochs" "$TREE/build/bochs"
	# Other Bochs versions (scripts/get-hypervisor), for the real boots.
	[[ -e "$ROOT/build/hv" ]] && ln -s "$ROOT/build/hv" "$TREE/build/hv"
	ln -s "$ROOT/x86/run" "$TREE/x86/run"
	for f in "$ROOT"/x86/*.elf; do
		cp "$f" "$TREE/x86/"
	done
	: >"$TREE/errata.cfg"
	printf '[fake]\nfile = boot.elf\ntimeout = 3\n' >"$TREE/fake.cfg"
}

# run CMD...: run in the tree, stdout and stderr to $out and $err.
run() {
	(cd "$TREE" && "$@") >"$out" 2>"$err"
	rc=$?
}

# Is PID a live process? A zombie is not: it is dead and waits for init.
alive() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ "$stat" != Z* ]]
}

iso_file() {
	xorriso -osirrox on -indev "$1" -extract "$2" "$3" >/dev/null 2>&1
}

real_bochs=0
if (source "$ROOT/scripts/hv.sh"; hv_load_config; hv_available bochs); then
	real_bochs=1
fi

# ------------------------------------------------------------ ISO cache

test_iso_cache() {
	local img=$TREE/x86/cachetest.elf iso1 iso2 iso3 ino1 ino2
	cp "$TREE/x86/boot.elf" "$img"
	run scripts/bochs/mkiso --cached x86/cachetest.elf
	iso1=$(cat "$out")
	expect_rc 0
	[[ "$iso1" == "$TREE/build/iso/cachetest-"*.iso && -s "$iso1" ]] || fail "no ISO at '$iso1'"
	ino1=$(stat -c %i:%Y "$iso1" 2>/dev/null)
	sleep 1
	run scripts/bochs/mkiso --cached x86/cachetest.elf
	iso2=$(cat "$out")
	ino2=$(stat -c %i:%Y "$iso2" 2>/dev/null)
	[[ "$iso2" == "$iso1" && "$ino2" == "$ino1" ]] || fail "not reused: $iso1 ($ino1) then $iso2 ($ino2)"
	finish "mkiso --cached: an ISO is built once, then reused"

	printf 'changed' >>"$img"
	run scripts/bochs/mkiso --cached x86/cachetest.elf
	iso3=$(cat "$out")
	[[ "$iso3" != "$iso1" && -s "$iso3" ]] || fail "not rebuilt: $iso3"
	[[ ! -e "$iso1" ]] || fail "the ISO of the old image is still there"
	iso_file "$iso3" /boot/cachetest.elf "$WORK/extracted.elf" || fail "no /boot/cachetest.elf"
	cmp -s "$img" "$WORK/extracted.elf" || fail "the ISO holds another image"
	finish "mkiso --cached: a changed image gets a new ISO, the old one goes"
}

test_iso_concurrent() {
	local img=$TREE/x86/conc.elf i first n
	cp "$TREE/x86/selftest.elf" "$img"
	for i in 1 2 3 4; do
		(cd "$TREE" && scripts/bochs/mkiso --cached x86/conc.elf >"$WORK/conc.$i" 2>&1) &
	done
	wait
	first=$(cat "$WORK/conc.1")
	for i in 2 3 4; do
		[[ "$(cat "$WORK/conc.$i")" == "$first" ]] || fail "builder $i: $(cat "$WORK/conc.$i")"
	done
	n=$(find "$TREE/build/iso" -name 'conc-*' | wc -l)
	((n == 1)) || fail "$n files for conc in build/iso: $(ls "$TREE/build/iso")"
	iso_file "$first" /boot/grub/grub.cfg "$WORK/grub.cfg" || fail "$first is no readable ISO"
	finish "mkiso --cached: four concurrent builds leave one whole ISO, no temporary file"
}

test_grub_cfg() {
	local cfg=$WORK/grub.cfg
	rm -f "$cfg"
	run scripts/bochs/mkiso x86/boot.elf "$WORK/standalone.iso" probe=1 'catch.*'
	expect_rc 0
	iso_file "$WORK/standalone.iso" /boot/grub/grub.cfg "$cfg" || fail "no grub.cfg"
	expect_line "$cfg" '^set timeout=0$'
	expect_line "$cfg" '^serial --unit=0 --speed=115200$'
	expect_line "$cfg" '^terminal_output serial$'
	expect_line "$cfg" "^set hvt_args='probe=1 catch\.\*'$"
	expect_line "$cfg" 'source \(fd0\)/hvt-args\.cfg'
	expect_line "$cfg" 'multiboot2 /boot/boot\.elf \$hvt_args'
	run scripts/bochs/mkiso x86/boot.elf "$WORK/bad.iso" "it's"
	expect_rc 2
	expect_line "$err" 'quote'
	[[ ! -e "$WORK/bad.iso" ]] || fail "an ISO was written for a refused argument"
	finish "mkiso: grub.cfg has no delay, a serial console, multiboot2 and the arguments"
}

# ------------------------------------------------------------ configuration

test_config() {
	local d=$WORK/cfg rcf
	mkdir -p "$d"
	run env BOCHS_CPU= BOCHS_BOOT= scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/t.log" --append "probe=7 nonce=abc" --memory 256 --cpu ryzen \
		--params 'port_e9_hack: enabled=1; magic_break: enabled=1'
	expect_rc 1
	rcf=$d/t.bochsrc
	expect_line "$rcf" "^# image: $TREE/x86/boot\\.elf, boot path: disk$"
	expect_line "$rcf" '^cpu: model=ryzen, count=1, ips=[0-9]+'
	expect_line "$rcf" '^megs: 256$'
	expect_line "$rcf" '^romimage: file=.*, options=fastboot$'
	expect_line "$rcf" "^com1: enabled=1, mode=file, dev=$d/t\\.log$"
	expect_line "$rcf" '^display_library: term$'
	expect_line "$rcf" "^log: $d/t\\.emulator\\.log$"
	expect_line "$rcf" '^port_e9_hack: enabled=1$'
	expect_line "$rcf" '^magic_break: enabled=1$'
	expect_line "$rcf" "^ata0-master: type=disk, path=$d/t\\.disk\\.img, mode=flat$"
	expect_line "$rcf" '^boot: disk$'
	expect_no_line "$rcf" 'cdrom|floppy'
	expect_no_line "$rcf" 'rfb|vnc|sdl|x11|ne2k|e1000|pnic|slirp|tuntap'
	build/host/hvt-bootdisk --show "$d/t.disk.img" >"$WORK/show" 2>&1
	expect_line "$WORK/show" '^cmdline probe=7 nonce=abc$'
	expect_line "$WORK/show" '^load lba=[0-9]+ count=[0-9]+ dest=0x100000$'
	expect_line "$d/t.log" '^HVT END .*nonce=abc'
	finish "run-bochs (disk): model, megs, fastboot, COM1 path, params, the boot disk, no network or display port"

	run env BOCHS_BOOT=iso scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/i.log" --append "probe=7 nonce=iso"
	expect_rc 1
	rcf=$d/i.bochsrc
	expect_line "$rcf" ', boot path: iso$'
	expect_line "$rcf" "^ata0-master: type=cdrom, path=$TREE/build/iso/boot-[0-9a-f]{16}\\.iso"
	expect_line "$rcf" "^floppya: 1_44=$d/i\\.args\\.img, status=inserted$"
	expect_line "$rcf" '^boot: cdrom$'
	expect_line "$rcf" '^romimage: file=.*, options=fastboot$'
	MTOOLS_SKIP_CHECK=1 mtype -i "$d/i.args.img" ::hvt-args.cfg >"$WORK/args" 2>&1
	expect_line "$WORK/args" "^set hvt_args='probe=7 nonce=iso'$"
	expect_line "$d/i.log" '^HVT END .*nonce=iso'
	[[ ! -e "$d/i.disk.img" ]] || fail "a boot disk on the ISO path"
	finish "run-bochs (BOCHS_BOOT=iso): the cached ISO as CD-ROM, the arguments on the floppy"

	run env BOCHS_CPU=corei7_icelake_u scripts/bochs/run-bochs --bochs "$FAKE" \
		--image x86/boot.elf --console "$d/u.log" --cpu ryzen
	expect_line "$d/u.bochsrc" '^cpu: model=corei7_icelake_u,'
	run env BOCHS_CPU= scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/v.log"
	expect_line "$d/v.bochsrc" '^cpu: model=corei7_skylake_x,'
	finish "run-bochs: BOCHS_CPU overrides the model; the default is corei7_skylake_x"

	run env FAKE_SMP=0 scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/w.log" --smp 2
	expect_rc 2
	expect_line "$err" 'smp=2 needs a Bochs built with SMP support'
	run env BOCHS_BOOT=iso scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/x.log" --append "x='1'"
	expect_rc 2
	expect_line "$err" 'quote'
	finish "run-bochs: clear errors for smp>1 without SMP support and for arguments GRUB would alter"

	run scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf --console "$d/q.log" \
		--append "x='1' y=\"2\" z=\\3 nonce=q"
	expect_rc 1
	build/host/hvt-bootdisk --show "$d/q.disk.img" >"$WORK/show" 2>&1
	expect_line "$WORK/show" "^cmdline x='1' y=\"2\" z=\\\\3 nonce=q$"
	finish "run-bochs (disk): quotes and backslashes reach the command line unchanged"
}

# The disk path's inputs and the boot path setting: a clear reason from
# run-bochs (exit status 2) and from hv.sh before anything boots.
test_boot_inputs() {
	local t=$WORK/bare d=$WORK/inputs
	mkdir -p "$t/x86" "$t/build" "$d"
	ln -s "$ROOT/scripts" "$t/scripts"
	ln -s "$ROOT/build/probe" "$t/build/probe"
	mkdir -p "$t/build/host"
	cp "$ROOT/build/host/hvt-bootdisk" "$t/build/host/"
	cp "$ROOT/x86/boot.elf" "$t/x86/"
	(cd "$t" && scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/a.log") >"$out" 2>"$err"
	rc=$?
	expect_rc 2
	expect_line "$err" "boot loader $t/build/bochs/loader\\.bin is missing \\(run make; or BOCHS_BOOT=iso\\)"
	(cd "$t" && env BOCHS="$FAKE" bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs && exit 1; echo "reason=$HV_REASON"') >"$out" 2>"$err"
	expect_line "$out" '^reason=the boot loader .*loader\.bin is missing'
	mkdir -p "$t/build/bochs"
	cp "$ROOT/build/bochs/loader.bin" "$t/build/bochs/"
	rm "$t/build/host/hvt-bootdisk"
	(cd "$t" && scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/b.log") >"$out" 2>"$err"
	rc=$?
	expect_rc 2
	expect_line "$err" "boot disk tool $t/build/host/hvt-bootdisk is missing"
	(cd "$t" && env BOCHS_BOOT=iso scripts/bochs/run-bochs --bochs "$FAKE" \
		--image x86/boot.elf --console "$d/c.log") >"$out" 2>"$err"
	rc=$?
	expect_rc 1
	expect_line "$d/c.log" '^HVT END .*status=PASS'
	finish "disk path: a missing loader or tool is named (run make, or BOCHS_BOOT=iso, which still boots)"

	run env BOCHS_BOOT=floppy scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf \
		--console "$d/e.log"
	expect_rc 2
	expect_line "$err" "BOCHS_BOOT='floppy' names no boot path \\(disk, the default, or iso\\)"
	run env BOCHS="$FAKE" BOCHS_BOOT=floppy bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs && exit 1; echo "reason=$HV_REASON"'
	expect_line "$out" "^reason=BOCHS_BOOT='floppy' names no boot path"
	run env BOCHS="$FAKE" BOCHS_BOOT=iso BOCHS_GRUB_DIR=/nonexistent bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs && exit 1; echo "reason=$HV_REASON"'
	expect_line "$out" "^reason=GRUB's BIOS modules /nonexistent are missing"
	run env BOCHS="$FAKE" BOCHS_BOOT=disk BOCHS_GRUB_DIR=/nonexistent bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs || { echo "reason=$HV_REASON"; exit 1; }'
	expect_rc 0
	finish "BOCHS_BOOT: an unknown path is an error; GRUB is needed by the ISO path only"

	printf 'not an image' >"$TREE/x86/junk.elf"
	run scripts/bochs/run-bochs --bochs "$FAKE" --image x86/junk.elf --console "$d/j.log"
	expect_rc 2
	expect_line "$err" '^hvt-bootdisk: x86/junk\.elf: not an ELF file$'
	expect_line "$err" 'cannot write the boot disk of x86/junk\.elf'
	run scripts/bochs/run-bochs --bochs "$FAKE" --image x86/boot.elf --console "$d/m.log" \
		--memory 1
	expect_rc 2
	expect_line "$err" 'does not fit below 0x100000 \(the RAM\)'
	rm -f "$TREE/x86/junk.elf"
	finish "disk path: an image the loader cannot boot is refused with hvt-bootdisk's reason"
}

# The availability probe boots through the path the tests use: a machine
# that boots from one medium only is available on that path alone.
test_probe_path() {
	local boot only
	for only in disk cdrom; do
		for boot in disk iso; do
			forget_probes
			run env BOCHS="$FAKE" BOCHS_BOOT=$boot FAKE_ONLY_BOOT=$only bash -c '
				source scripts/hv.sh; hv_load_config
				if hv_available bochs; then echo available; else echo "reason=$HV_REASON"; fi'
			if [[ "$only/$boot" == disk/disk || "$only/$boot" == cdrom/iso ]]; then
				expect_line "$out" '^available$'
			else
				expect_line "$out" "^reason=.*boots from $only only \\(fake\\)"
			fi
		done
	done
	forget_probes
	finish "the probe boots through BOCHS_BOOT's path, with an answer kept per path"
}

# ------------------------------------------------------------ debugger per version

# fake_bochs NAME ENV...: a wrapper that runs the fake Bochs with ENV, like a
# provisioned build/hv/bochs-V/bin/bochs: one path per version, as what
# --help says is cached per binary.
fake_bochs() {
	local f=$WORK/$1/bin/bochs
	shift
	mkdir -p "$(dirname "$f")"
	printf '#!/bin/sh\nexec env %s "%s" "$@"\n' "$*" "$FAKE" >"$f"
	chmod +x "$f"
	printf '%s\n' "$f"
}

# Bochs 2.7's debugger starts with every run and needs "-rc" with "c"; 3.0
# ignores -rc unless -dbg is given (docs/bochs.md, "Debugging").
test_debugger_versions() {
	local v b d=$WORK/dbg helps n
	mkdir -p "$d"
	for v in 2.7 3.0; do
		helps=$WORK/helps.$v
		: >"$helps"
		b=$(fake_bochs "bochs-$v" "FAKE_VERSION=$v" "FAKE_HELP_LOG=$helps")
		run scripts/bochs/run-bochs --bochs "$b" --image x86/boot.elf --console "$d/$v.log" \
			--append "nonce=a$v"
		expect_rc 1
		expect_line "$d/$v.log" "^HVT END .*status=PASS nonce=a$v"
		expect_no_line "$d/$v.emulator.out" '<bochs:1>'
		run scripts/bochs/run-bochs --bochs "$b" --image x86/boot.elf --console "$d/$v.again.log" \
			--append "nonce=b$v"
		expect_line "$d/$v.again.log" "^HVT END .*status=PASS nonce=b$v"
		n=$(wc -l <"$helps")
		((n == 1)) || fail "$v: --help asked $n times for two runs (the answer is cached per binary)"
		if [[ $v == 2.7 ]]; then
			expect_line "$d/$v.emulator.out" '^fake-bochs: argv .* -rc [^ ]*/2\.7\.debugger-rc'
			expect_line "$d/$v.debugger-rc" '^c$'
		else
			expect_no_line "$d/$v.emulator.out" '^fake-bochs: argv .*(-rc|-dbg)'
			[[ ! -e "$d/$v.debugger-rc" ]] || fail "3.0: a .debugger-rc that nothing reads"
		fi
	done
	finish "run-bochs: 2.7 gets -rc with c, 3.0 runs without its debugger; --help asked once per binary"

	for v in 2.7 3.0; do
		b=$WORK/bochs-$v/bin/bochs
		run bash -c 'source scripts/bochs/lib.sh; bochs_probe "$1" corei7_skylake_x 2' _ "$b"
		expect_rc 0
		expect_line "$out" 'SMP support: yes'
		expect_line "$out" 'CPU Features supported'
		expect_no_line "$out" 'No bootable device|not understood'
		run env FAKE_SMP=0 scripts/bochs/run-bochs --bochs "$b" --image x86/boot.elf \
			--console "$d/$v.smp.log" --smp 2
		expect_rc 2
		expect_line "$err" 'smp=2 needs a Bochs built with SMP support'
	done
	finish "bochs_probe: 2.7 (-rc quit) and 3.0 (-dbg -rc quit) quit before the first instruction"

	for v in 2.7 3.0; do
		b=$WORK/bochs-$v/bin/bochs
		(cd "$TREE" && printf 'c\n' | scripts/bochs/run-bochs --debugger --bochs "$b" \
			--image x86/boot.elf --console "$d/$v.dbg.log" --append "nonce=c$v") >"$out" 2>"$err"
		rc=$?
		expect_rc 1
		expect_line "$out" '<bochs:1>'
		expect_line "$d/$v.dbg.log" "^HVT END .*nonce=c$v"
		if [[ $v == 3.0 ]]; then
			expect_line "$out" '^fake-bochs: argv .* -dbg'
		else
			expect_no_line "$out" '^fake-bochs: argv .*-dbg'
		fi
	done
	finish "run-bochs --debugger: the prompt on 2.7 (by default) and on 3.0 (-dbg)"

	b=$(fake_bochs bochs-nodbg FAKE_DEBUGGER=none)
	run scripts/bochs/run-bochs --bochs "$b" --image x86/boot.elf --console "$d/n.log" \
		--append "nonce=n"
	expect_rc 1
	expect_line "$d/n.log" '^HVT END .*status=PASS nonce=n'
	run bash -c 'source scripts/bochs/lib.sh; bochs_probe "$1" corei7_skylake_x 2' _ "$b"
	expect_rc 0
	expect_line "$out" 'SMP support: yes'
	run scripts/bochs/run-bochs --debugger --bochs "$b" --image x86/boot.elf --console "$d/n2.log"
	expect_rc 2
	expect_line "$err" 'has no internal debugger'
	finish "a Bochs without debugger: runs without -rc, probes with -benchmark, --debugger says why not"
}

# ------------------------------------------------------------ hv.sh

test_hv_functions() {
	run env BOCHS="$FAKE" BOCHS_CPU= bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs || { echo "unavailable: $HV_REASON"; exit 1; }
		echo "version=$(hv_version bochs)"
		echo "default=$(hv_features bochs | tr "\n" " ")"
		echo "ryzen=$(hv_features bochs ryzen | tr "\n" " ")"
		echo "missing=$(hv_missing_features --cpu ryzen bochs vmx svm npt | tr "\n" " ")"
		echo "cfg_cpu=$(hv_cfg_cpu bochs "" ryzen) $(BOCHS_CPU=tigerlake hv_cfg_cpu bochs "" ryzen)"
		hv_command bochs --image x86/boot.elf --console /tmp/x.log --cpu ryzen &&
			printf "argv=%s\n" "${HV_ARGV[*]}"'
	expect_rc 0
	expect_line "$out" '^version=2\.7$'
	expect_line "$out" '^default=vmx ept x2apic $'
	expect_line "$out" '^ryzen=svm npt $'
	expect_line "$out" '^missing=vmx $'
	expect_line "$out" '^cfg_cpu=ryzen tigerlake$'
	expect_line "$out" '^argv=.*/scripts/bochs/run-bochs --bochs .*fake-bochs --image x86/boot\.elf .*--cpu ryzen'
	finish "hv.sh: version, features per model (Intel vmx/ept/x2apic, AMD svm/npt), BOCHS_CPU over the cfg's model, command"

	run env BOCHS="$WORK/no-such-bochs" bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs && exit 1; echo "reason=$HV_REASON"'
	expect_rc 0
	expect_line "$out" "^reason=Bochs binary '.*no-such-bochs' not found"
	run env BOCHS="$FAKE" BOCHS_BIOS=/nonexistent/BIOS bash -c '
		source scripts/hv.sh; hv_load_config
		hv_available bochs && exit 1; echo "reason=$HV_REASON"'
	expect_line "$out" '^reason=BIOS image /nonexistent/BIOS not found'
	run env HV=bochs BOCHS="$WORK/no-such-bochs" x86/run x86/boot.elf
	expect_rc 99
	expect_line "$out" '^ERROR boot \(bochs\): bochs cannot run guests: Bochs binary .* not found'
	run env BOCHS="$WORK/no-such-bochs" ./run_tests.sh --config fake.cfg --hypervisor bochs
	expect_rc 3
	expect_line "$err" '^run_tests.sh: bochs cannot run guests: Bochs binary .* not found'
	finish "a missing Bochs or BIOS: a clear reason before anything boots (x86/run 99, run_tests.sh 3)"

	forget_probes
	run env BOCHS="$FAKE" FAKE_PROBE=panic ./run_tests.sh --config fake.cfg --hypervisor bochs
	expect_rc 3
	expect_line "$err" '^run_tests.sh: bochs cannot run guests: .*probe panic \(fake\)'
	run env BOCHS="$FAKE" BOCHS_CPU=pentium_mmx ./run_tests.sh --config fake.cfg --hypervisor bochs
	expect_rc 3
	expect_line "$err" "unknown CPU model 'pentium_mmx'"
	forget_probes
	finish "a Bochs that cannot boot the probe, or a model it does not know: its own message, before any test"

	printf '[fake_model]\nfile = boot.elf\nbochs_cpu = pentium_mmx\nhypervisors = bochs\n' \
		>"$TREE/fake-model.cfg"
	run env BOCHS="$FAKE" BOCHS_CPU= ./run_tests.sh --config fake-model.cfg --hypervisor bochs
	expect_line "$out" "^SKIP  fake_model \\(bochs\\): .*cannot boot CPU model pentium_mmx: .*unknown CPU model 'pentium_mmx'"
	forget_probes
	finish "a cfg entry whose model this Bochs does not know: skipped with Bochs' own reason"
}

# ------------------------------------------------------------ faults (fake Bochs)

test_hang() {
	local pids=$WORK/pids start end p left=""
	: >"$pids"
	start=$SECONDS
	run env HV=bochs BOCHS="$FAKE" FAKE_MODE=hang FAKE_PID_FILE="$pids" TIMEOUT=2 \
		x86/run x86/boot.elf
	end=$SECONDS
	expect_rc 99
	expect_line "$out" '^ERROR +boot:'
	((end - start < 12)) || fail "took $((end - start)) s for a 2 s timeout"
	sleep 0.5
	for p in $(cat "$pids"); do
		alive "$p" && left+=" $p"
	done
	[[ -s "$pids" ]] || fail "the fake recorded no PID"
	[[ -z "$left" ]] || fail "processes left behind:$left"
	pgrep -f "run-bochs.*$TREE" >/dev/null && fail "a run-bochs is left behind"
	finish "a hang: the timeout ends it as ERROR and leaves no process behind"

	: >"$pids"
	run env BOCHS="$FAKE" FAKE_MODE=hang FAKE_PID_FILE="$pids" TIMEOUT=2 \
		./run_tests.sh --config fake.cfg --hypervisor bochs
	expect_rc 1
	expect_line "$out" '^ERROR +fake \(bochs\)'
	sleep 0.5
	left=""
	for p in $(cat "$pids"); do
		alive "$p" && left+=" $p"
	done
	[[ -z "$left" ]] || fail "processes left behind:$left"
	finish "a hang under run_tests.sh: ERROR, no process left"
}

# A Bochs that ignores TERM must not outlive an x86/run that is told to stop.
test_stubborn() {
	local pids=$WORK/pids p left="" job i
	: >"$pids"
	(cd "$TREE" && env HV=bochs BOCHS="$FAKE" FAKE_MODE=stubborn FAKE_PID_FILE="$pids" \
		TIMEOUT=60 x86/run x86/boot.elf >"$out" 2>"$err") &
	job=$!
	# Until the fake Bochs of the test (not the probe's) is up.
	for ((i = 0; i < 100; i++)); do
		[[ "$(wc -l <"$pids")" -ge 1 ]] && grep -q 'HVT BEGIN proto=1 test=boot' "$TREE"/logs/latest/boot.bochs.log 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
	pkill -TERM -f "x86/run x86/boot.elf" 2>/dev/null
	wait "$job"
	sleep 3
	for p in $(cat "$pids"); do
		alive "$p" && left+=" $p"
	done
	[[ -s "$pids" ]] || fail "the fake recorded no PID"
	[[ -z "$left" ]] || fail "processes left behind:$left"
	for p in $left; do kill -KILL "$p" 2>/dev/null; done
	finish "a Bochs that ignores SIGTERM does not outlive a stopped x86/run"
}

test_crash() {
	run env HV=bochs BOCHS="$FAKE" FAKE_MODE=crash x86/run x86/boot.elf
	expect_rc 99
	expect_line "$out" '^ERROR +boot:'
	expect_line "$err" 'bochs: exit status 139'
	run env BOCHS="$FAKE" FAKE_MODE=panic ./run_tests.sh --config fake.cfg --hypervisor bochs
	expect_rc 1
	expect_line "$out" '^ERROR +fake \(bochs\).*3rd \(13\) exception with no resolution'
	finish "a crash or a Bochs panic: ERROR, with Bochs' last message as the reason"
}

# ------------------------------------------------------------ real Bochs

# real_versions: the real Bochs hypervisors here (bochs, and bochs@3.0 once provisioned).
real_versions() {
	local v
	for v in bochs bochs@3.0; do
		(cd "$TREE" && source scripts/hv.sh && hv_load_config && hv_available "$v") && echo "$v"
	done
}

test_real() {
	local h boot d=$WORK/real rcf bin args=() hvs
	if ((!real_bochs)); then
		skip_test "real Bochs: arguments reach the guest on both boot paths" "bochs unavailable"
		skip_test "real Bochs: a bogus selector is an ERROR on both boot paths" "bochs unavailable"
		skip_test "real Bochs: a loader failure is on the console and ends the run" "bochs unavailable"
		return
	fi
	mkdir -p "$d"
	hvs=$(real_versions)
	for h in $hvs; do
		for boot in disk iso; do
			run env HV="$h" BOCHS_BOOT=$boot x86/run x86/selftest.elf probe=0x5eed cmdline
			expect_rc 0
			expect_line "$out" '^HVT PASS [0-9]+ cmdline\.probe'
			expect_line "$out" '^PASS +selftest'
			expect_line "$TREE/logs/latest/selftest.$h.bochsrc" "boot path: $boot\$"
		done
	done
	finish "real Bochs (${hvs//$'\n'/, }): 'probe=0x5eed cmdline' reaches the guest, PASS, on both boot paths"

	for h in $hvs; do
		for boot in disk iso; do
			run env HV="$h" BOCHS_BOOT=$boot x86/run x86/selftest.elf no_such_check
			expect_rc 99
			expect_line "$out" "^HVT ERROR 1 -: no check of test selftest matches 'no_such_check'"
			expect_line "$out" '^ERROR +selftest'
		done
	done
	finish "real Bochs: a bogus selector is an ERROR on both boot paths"

	# The run's configuration boots its disk again; with the plan (LBA 3,
	# scripts/bochs/bootplan.h) spoiled, the loader must say so on COM1
	# and end Bochs at once.
	run env HV=bochs x86/run x86/boot.elf
	expect_rc 0
	rcf=$TREE/logs/latest/boot.bochs.bochsrc
	printf 'X' | dd of="$TREE/logs/latest/boot.bochs.disk.img" bs=1 \
		seek=$((3 * 512)) conv=notrunc 2>/dev/null
	bin=$(cd "$TREE" && bash -c 'source scripts/hv.sh; hv_load_config; _hv_binary bochs && echo "$HV_BINARY"')
	mapfile -t args < <(cd "$TREE" &&
		bash -c 'source scripts/bochs/lib.sh; bochs_run_args "$1" "$2"' _ "$bin" "$d/rc")
	SECONDS=0
	(cd "$TREE" && timeout 30 "$bin" -q -f "$rcf" "${args[@]}" </dev/null >"$out" 2>"$err")
	rc=$?
	expect_rc 1
	((SECONDS < 20)) || fail "took $SECONDS s"
	expect_line "$TREE/logs/latest/boot.bochs.log" '^hvt-loader: no plan of this loader.s version on the disk'
	expect_no_line "$TREE/logs/latest/boot.bochs.log" 'HVT BEGIN'
	finish "real Bochs: a loader failure is on the console and ends the run through the shutdown port"
}

make_tree
echo "TAP version 13"
test_iso_cache
test_iso_concurrent
test_grub_cfg
test_config
test_boot_inputs
test_probe_path
test_debugger_versions
test_hv_functions
test_hang
test_stubborn
test_crash
test_real
echo "1..$n_tests"
echo "bochs tests: $((n_tests - n_failed)) passed, $n_failed failed"
((n_failed == 0))
