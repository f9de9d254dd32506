# Guest images (x86/*.elf) and host tools (build/host/).

ifeq ($(wildcard config.mak),)
$(error run ./configure first)
endif
include config.mak

.SUFFIXES:

# "make V=1" shows each command.
ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-8s %s\n'
endif
.DELETE_ON_ERROR:
.SECONDARY:

# ---------------------------------------------------------------- guest

GUEST_CFLAGS := -std=gnu11 -m64 -O2 -g -ffreestanding -fno-builtin -nostdinc \
	-fno-pic -fno-pie -mno-red-zone -mno-sse -mno-mmx -mno-sse2 -mno-80387 \
	-mcmodel=small -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wstrict-prototypes -Wmissing-prototypes -Wshadow \
	-isystem lib/include -Ilib -Ilib/x86 -MMD -MP
GUEST_ASFLAGS := -m64 -g -nostdinc -Ilib -Ilib/x86 -MMD -MP -D__ASSEMBLY__
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 --no-warn-rwx-segments -z noexecstack \
	-T lib/x86/image.lds

lib_c := $(wildcard lib/*.c lib/x86/*.c)
lib_S := $(filter-out lib/x86/entry.S,$(wildcard lib/x86/*.S))
lib_objs := $(patsubst %.c,build/guest/%.o,$(lib_c)) $(patsubst %.S,build/guest/%.o,$(lib_S))
entry_obj := build/guest/lib/x86/entry.o

tests_c := $(wildcard x86/*.c)
tests_elf := $(tests_c:.c=.elf)

# The null guest of the hypervisor availability probe (scripts/probe, docs/runner.md).
probe_elf := build/probe/hvprobe.elf

# The boot loader of the Bochs disk path (docs/bochs.md): BIOS boot code, a flat binary.
bochs_loader := build/bochs/loader.bin

all: $(tests_elf) $(probe_elf) $(bochs_loader) host-tools

build/guest/%.o: %.c config.mak Makefile
	@mkdir -p $(dir $@)
	$(quiet) CC $@
	$(Q)$(CC) $(GUEST_CFLAGS) -c $< -o $@

build/guest/%.o: %.S config.mak Makefile
	@mkdir -p $(dir $@)
	$(quiet) AS $@
	$(Q)$(CC) $(GUEST_ASFLAGS) -c $< -o $@

build/guest/libhvt.a: $(lib_objs)
	@rm -f $@
	$(quiet) AR $@
	$(Q)$(AR) rcs $@ $^

x86/%.elf: build/guest/x86/%.o $(entry_obj) build/guest/libhvt.a lib/x86/image.lds
	$(quiet) LD $@
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(entry_obj) $< build/guest/libhvt.a

$(probe_elf): build/guest/scripts/probe/hvprobe.o $(entry_obj) build/guest/libhvt.a lib/x86/image.lds
	@mkdir -p $(dir $@)
	$(quiet) LD $@
	$(Q)$(LD) $(GUEST_LDFLAGS) -o $@ $(entry_obj) $< build/guest/libhvt.a

build/bochs/loader.o: scripts/bochs/loader.S scripts/bochs/bootplan.h config.mak Makefile
	@mkdir -p $(dir $@)
	$(quiet) AS $@
	$(Q)$(CC) -m64 -nostdinc -Iscripts/bochs -c $< -o $@

$(bochs_loader): build/bochs/loader.o
	$(quiet) LD $@
	$(Q)$(LD) -nostdlib -static -Ttext=0x7c00 -e _start -z noexecstack -o build/bochs/loader.elf $<
	$(Q)$(OBJCOPY) -O binary -j .text build/bochs/loader.elf $@

# ---------------------------------------------------------------- host

HOST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Iscripts -MMD -MP
host_bin := build/host/hvt-verdict build/host/hvt-cfg build/host/hvt-job build/host/hvt-run \
	build/host/hvt-bootdisk
host_tests := build/host/test-console build/host/test-cfg build/host/test-errata build/host/test-plan \
	build/host/test-bootdisk

host-tools: $(host_bin)

build/host/%.o: scripts/%.c config.mak Makefile
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_CFLAGS) -c $< -o $@

build/host/hvt-verdict: build/host/hvt-verdict.o build/host/console.o build/host/errata.o
	$(HOST_CC) -o $@ $^
build/host/hvt-cfg: build/host/hvt-cfg.o build/host/cfg.o
	$(HOST_CC) -o $@ $^
build/host/hvt-job: build/host/hvt-job.o build/host/job.o build/host/logfiles.o
	$(HOST_CC) -o $@ $^
build/host/hvt-run: build/host/hvt-run.o build/host/job.o build/host/logfiles.o build/host/plan.o
	$(HOST_CC) -o $@ $^
build/host/test-plan: build/host/tests/test-plan.o build/host/plan.o
	$(HOST_CC) -o $@ $^
build/host/hvt-bootdisk: build/host/hvt-bootdisk.o build/host/bootdisk.o
	$(HOST_CC) -o $@ $^
build/host/test-bootdisk: build/host/tests/test-bootdisk.o build/host/bootdisk.o
	$(HOST_CC) -o $@ $^
build/host/test-console: build/host/tests/test-console.o build/host/console.o build/host/errata.o
	$(HOST_CC) -o $@ $^
build/host/test-errata: build/host/tests/test-errata.o build/host/errata.o
	$(HOST_CC) -o $@ $^
build/host/test-cfg: build/host/tests/test-cfg.o build/host/cfg.o
	$(HOST_CC) -o $@ $^

# ---------------------------------------------------------------- fuzzing
# Needs clang's libFuzzer runtime: on Debian 12 the package libclang-rt-14-dev
# (libclang_rt.fuzzer-x86_64.a, with the ASan/UBSan runtimes).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wshadow -Iscripts \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

build/host/fuzz-console: scripts/fuzz/fuzz-console.c scripts/fuzz/fuzz.h scripts/console.c scripts/console.h Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ scripts/fuzz/fuzz-console.c scripts/console.c

build/host/fuzz-plan: scripts/fuzz/fuzz-plan.c scripts/fuzz/fuzz.h scripts/plan.c scripts/plan.h Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ scripts/fuzz/fuzz-plan.c scripts/plan.c

build/host/fuzz-errata: scripts/fuzz/fuzz-errata.c scripts/fuzz/fuzz.h scripts/errata.c scripts/errata.h Makefile
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ scripts/fuzz/fuzz-errata.c scripts/errata.c

# New inputs go to build/fuzz-corpus*; the seed corpus in scripts/fuzz/corpus stays untouched.
# The plan files of x86/run get a shorter run: their grammar is small.
# A failing input is written to build/fuzz-artifacts/ (the run prints its path and "Seed: N";
# FUZZ_SEED=N repeats a run's mutations).
FUZZ_PLAN_SECONDS ?= 5
FUZZ_SEED ?= 0
FUZZ_FLAGS = -seed=$(FUZZ_SEED) -artifact_prefix=build/fuzz-artifacts/
fuzz: build/host/fuzz-console build/host/fuzz-plan build/host/fuzz-errata
	@mkdir -p build/fuzz-corpus build/fuzz-corpus-plan build/fuzz-corpus-errata build/fuzz-artifacts
	build/host/fuzz-console $(FUZZ_FLAGS) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-dict=scripts/fuzz/hvt.dict build/fuzz-corpus scripts/fuzz/corpus
	build/host/fuzz-plan $(FUZZ_FLAGS) -max_total_time=$(FUZZ_PLAN_SECONDS) -max_len=4096 \
		build/fuzz-corpus-plan scripts/fuzz/corpus-plan
	build/host/fuzz-errata $(FUZZ_FLAGS) -max_total_time=$(FUZZ_PLAN_SECONDS) -max_len=4096 \
		build/fuzz-corpus-errata scripts/fuzz/corpus-errata

# ---------------------------------------------------------------- checks

unit-check: $(host_tests)
	@scripts/unit-check $(host_tests)

# The suite runs on every version the project verifies: provision them first
# (nothing to do once they are cached, docs/hypervisors.md).
check: all $(host_tests) hypervisors
	@scripts/check-all

# ---------------------------------------------------------------- standalone tests
# tests/NAME: one self-contained executable per unittests.cfg entry (docs/runner.md). The host
# tools go in statically linked, so that a test needs nothing on the machine but the hypervisor.

standalone_tools := build/host/static/hvt-verdict build/host/static/hvt-cfg build/host/static/hvt-job \
	build/host/static/hvt-bootdisk

build/host/static/hvt-verdict: build/host/hvt-verdict.o build/host/console.o build/host/errata.o
	@mkdir -p $(dir $@)
	$(HOST_CC) -static -s -o $@ $^
build/host/static/hvt-cfg: build/host/hvt-cfg.o build/host/cfg.o
	@mkdir -p $(dir $@)
	$(HOST_CC) -static -s -o $@ $^
build/host/static/hvt-job: build/host/hvt-job.o build/host/job.o build/host/logfiles.o
	@mkdir -p $(dir $@)
	$(HOST_CC) -static -s -o $@ $^
build/host/static/hvt-bootdisk: build/host/hvt-bootdisk.o build/host/bootdisk.o
	@mkdir -p $(dir $@)
	$(HOST_CC) -static -s -o $@ $^

standalone-tools: $(standalone_tools)

standalone: $(tests_elf) $(probe_elf) $(bochs_loader) host-tools standalone-tools
	@scripts/standalone/mkstandalone

.PHONY: standalone standalone-tools

# ---------------------------------------------------------------- benchmark

build/bench/null-kernel.elf: scripts/bench/null-kernel.S scripts/bench/null-kernel.lds
	@mkdir -p $(dir $@)
	$(quiet) LD $@
	$(Q)$(CC) -m64 -c $< -o build/bench/null-kernel.o
	$(Q)$(LD) -nostdlib -static -z noexecstack --no-warn-rwx-segments -T scripts/bench/null-kernel.lds -o $@ build/bench/null-kernel.o

bench: all build/bench/null-kernel.elf
	@scripts/bench/run

# Other hypervisor versions under build/hv (docs/hypervisors.md).
hypervisors:
	@scripts/get-hypervisor --all

# ---------------------------------------------------------------- coverage
# How much of QEMU's and Bochs' own code the suite reaches, with gcov builds of
# them (docs/coverage.md). Not part of check. The builds are cached per user
# (the first time: QEMU's took 51 minutes here); after that, coverage is the
# suite on both and the report, coverage-report the report alone. Arguments for run_tests.sh:
# make coverage COVERAGE_ARGS='-g svm'.
coverage: all
	@scripts/coverage all $(COVERAGE_ARGS)

coverage-report:
	@scripts/coverage report

clean:
	rm -rf build x86/*.elf logs

distclean: clean
	rm -f config.mak config.sh

.PHONY: all host-tools unit-check check bench fuzz clean distclean hypervisors coverage coverage-report

-include $(shell find build -name '*.d' 2>/dev/null)
