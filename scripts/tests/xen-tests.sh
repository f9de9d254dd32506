#!/usr/bin/env bash
# Tests of the Xen backend with the real Xen of build/hv/ (make hypervisors):
# the GRUB ISO path under QEMU -cdrom, and a Xen that panics on a bad
# command line. The fake-hypervisor tests of the backend are in
# runner-tests.sh. Without a provisioned Xen each test skips. Output is TAP,
# then "xen tests: P passed, F failed".
set -u

SUITE="xen tests"
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# shellcheck source=scripts/hv.sh
source "$ROOT/scripts/hv.sh"
hv_load_config

versions=()
for d in "$ROOT"/build/hv/xen-*/boot/xen.gz; do
	[[ -f "$d" ]] || continue
	v=${d#"$ROOT/build/hv/xen-"}
	versions+=("${v%%/*}")
done

test_iso() {
	local v nonce=0123456789abcdef
	if ((${#versions[@]} == 0)); then
		skip_test "Xen boots a test from a GRUB ISO under QEMU -cdrom" "no Xen provisioned (make hypervisors)"
		return
	fi
	for v in "${versions[@]}"; do
		"$ROOT/scripts/xen/mkiso" "$ROOT/build/hv/xen-$v/boot/xen.gz" "$ROOT/x86/boot.elf" \
			"$WORK/xen-$v.iso" -- "nonce=$nonce" >"$out" 2>"$err"
		rc=$?
		expect_rc 0
		rm -f "$WORK/com1.log" "$WORK/com2.log"
		timeout 60 "$QEMU" -machine q35 -accel tcg -cpu max -m 1024 -device amd-iommu \
			-display none -vga none -nodefaults -no-reboot \
			-serial "file:$WORK/com1.log" -serial "file:$WORK/com2.log" \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$WORK/xen-$v.iso" \
			</dev/null >"$out" 2>"$err"
		rc=$?
		expect_rc 1
		"$ROOT/build/host/hvt-verdict" --test boot --hypervisor "xen@$v" --nonce "$nonce" \
			--exit-code "$rc" "$WORK/com1.log" >"$out" 2>"$err"
		rc=$?
		expect_rc 0
		expect_line "$out" '^PASS'
		expect_line "$WORK/com2.log" 'Bootloader: GRUB'
		finish "Xen $v boots boot.elf as dom0 from a GRUB ISO (multiboot2 xen.gz, module2 the test)"
	done
}

test_panic() {
	local v=${versions[-1]:-}
	if [[ -z "$v" ]]; then
		skip_test "a Xen panic is an ERROR quoting Xen" "no Xen provisioned (make hypervisors)"
		return
	fi
	printf '[panics]\nfile = boot.elf\nxen_params = iommu=0\nhypervisors = xen\ntimeout = 60\n' >"$WORK/panic.cfg"
	(cd "$ROOT" && ./run_tests.sh --config "$WORK/panic.cfg" --hypervisor "xen@$v" \
		--log-dir "$WORK/panic-logs") >"$out" 2>"$err"
	rc=$?
	expect_rc 1
	expect_line "$out" "^ERROR panics \\(xen@$v\\) +[0-9.]+ s: .*xen@$v said: xen: Panic on CPU 0: .*iommu must be enabled for PVH hardware domain"
	[[ -s "$WORK/panic-logs/panics.xen@$v.xen.log" ]] || fail "Xen's console is not kept beside the test's"
	finish "Xen $v panicking on its command line (iommu=0): ERROR with Xen's words, its console kept"
}

cd "$WORK" || exit 2
echo "TAP version 13"
test_iso
test_panic
echo "1..$n_tests"
echo "$SUITE: $((n_tests - n_failed)) passed, $n_failed failed"
((n_failed == 0))
