/*
 * Application processors: found in the ACPI MADT (ACPI 6.x 5.2.12), started
 * one at a time with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4.1, "Typical BSP
 * Initialization Sequence"; AMD APM Vol. 2 16.5), then idle in a loop that
 * runs the work on_cpu() hands them.
 */
#include "alloc.h"
#include "apic.h"
#include "bootinfo.h"
#include "desc.h"
#include "msr.h"
#include "processor.h"
#include "report.h"
#include "smp.h"
#include "xen.h"

/* The STARTUP IPI's vector: the trampoline runs at 0x8000 (below 1 MiB, page aligned). */
#define TRAMPOLINE_VECTOR	0x08
#define TRAMPOLINE_ADDR		(TRAMPOLINE_VECTOR << 12)
#define AP_STACK_PAGES		4

/*
 * The SDM's 10 ms after INIT and 200 us after each SIPI, as spins: the
 * hypervisors here do not need real time, and the APs report when they run.
 */
#define INIT_SPINS		100000
#define SIPI_SPINS		2000
#define AP_ONLINE_SPINS		100000000ul

struct cpu_work {
	smp_fn_t fn;
	void *arg;
	int busy;
};

extern const char smp_trampoline[], smp_trampoline_end[];
extern uint32_t smp_trampoline_cr3, smp_trampoline_efer;
extern uint16_t smp_trampoline_gdt_limit;

uint64_t smp_ap_boot_stack;	/* smp_trampoline.S */
static unsigned ap_boot_cpu;
static int ap_online[SMP_MAX_CPUS];
static struct cpu_work work[SMP_MAX_CPUS];
static void *ap_stacks[SMP_MAX_CPUS];

static uint32_t apic_ids[SMP_MAX_CPUS];
static unsigned cpus_listed;	/* the BSP and the MADT's enabled APs */
static unsigned cpus_running = 1;
static bool smp_started;
static const char *smp_unavailable;	/* why only the BSP runs */

bool smp_wait_flag(volatile int *flag, unsigned long spins)
{
	for (unsigned long i = 0; i < spins; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static void spin(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		cpu_relax();
}

unsigned this_cpu_id(void)
{
	uint32_t id;

	if (!smp_started)
		return 0;
	id = apic_id();
	for (unsigned i = 0; i < cpus_listed; i++)
		if (apic_ids[i] == id)
			return i;
	return 0;
}

uint32_t smp_apic_id(unsigned cpu)
{
	return cpu < cpus_listed ? apic_ids[cpu] : apic_id();
}

unsigned smp_cpu_count(void)
{
	return cpus_running;
}

void apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
	if (apic_is_x2apic()) {
		/* One 64-bit write, destination in the high half (SDM Vol. 3A 12.12.9). */
		wrmsr(MSR_X2APIC_BASE + APIC_ICR / 16, ((uint64_t)dest << 32) | icr_low);
		return;
	}
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, icr_low);
	for (unsigned i = 0; i < 1000000 && (apic_read(APIC_ICR) & APIC_ICR_BUSY); i++)
		cpu_relax();
}

/* ------------------------------------------------------------ ACPI MADT */

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __packed;

static bool checksum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

/* The RSDP in [start, end) on a 16-byte boundary (ACPI 6.x 5.2.5.1). */
static const uint8_t *rsdp_search(uint64_t start, uint64_t end)
{
	for (uint64_t p = start; p + 20 <= end; p += 16)
		if (!memcmp((const void *)p, "RSD PTR ", 8) && checksum_ok((const void *)p, 20))
			return (const uint8_t *)p;
	return NULL;
}

static const char *rsdp_source = "none";

static const uint8_t *find_rsdp(void)
{
	/* The BIOS data area's word at 40Eh: the EBDA's segment. */
	const volatile uint16_t *ebda_segment = (const volatile uint16_t *)0x40e;
	uint64_t ebda;
	const uint8_t *p;

	asm("" : "+r"(ebda_segment));	/* a fixed low address, not an object GCC knows */
	ebda = (uint64_t)*ebda_segment << 4;

	if (bootinfo.has_acpi_rsdp) {
		rsdp_source = bootinfo.loader;
		return bootinfo.acpi_rsdp;
	}
	/* The first KiB of the EBDA, then the BIOS area E0000h-FFFFFh. */
	rsdp_source = "the BIOS areas";
	if (ebda >= 0x80000 && ebda < 0xa0000 && (p = rsdp_search(ebda, ebda + 1024)))
		return p;
	return rsdp_search(0xe0000, 0x100000);
}

static const struct acpi_header *find_madt(void)
{
	const uint8_t *rsdp = find_rsdp();
	const struct acpi_header *root;
	bool xsdt;
	unsigned entry_size, count;

	if (!rsdp)
		return NULL;
	xsdt = rsdp[15] >= 2 && *(const uint64_t *)(rsdp + 24);
	root = xsdt ? (const void *)*(const uint64_t *)(rsdp + 24)
		    : (const void *)(uint64_t)*(const uint32_t *)(rsdp + 16);
	if (!root || !checksum_ok(root, root->length))
		return NULL;
	entry_size = xsdt ? 8 : 4;
	count = (root->length - sizeof(*root)) / entry_size;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = (const uint8_t *)(root + 1) + i * entry_size;
		uint64_t addr = xsdt ? *(const uint64_t *)e : *(const uint32_t *)e;
		const struct acpi_header *t = (const void *)addr;

		if (addr && !memcmp(t->signature, "APIC", 4) && checksum_ok(t, t->length))
			return t;
	}
	return NULL;
}

static void add_cpu(uint32_t id)
{
	for (unsigned i = 0; i < cpus_listed; i++)
		if (apic_ids[i] == id)
			return;
	if (cpus_listed < SMP_MAX_CPUS)
		apic_ids[cpus_listed++] = id;
}

/* The BSP first, then each enabled local APIC (type 0) and x2APIC (type 9). */
static void list_cpus(void)
{
	const struct acpi_header *madt = find_madt();
	const uint8_t *p, *end;

	apic_ids[0] = apic_id();
	cpus_listed = 1;
	if (!madt) {
		smp_unavailable = "no ACPI MADT found (RSDP from the loader, EBDA or E0000h-FFFFFh)";
		return;
	}
	p = (const uint8_t *)madt + sizeof(*madt) + 8;
	end = (const uint8_t *)madt + madt->length;
	for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
		if (p[0] == 0 && p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1))
			add_cpu(p[3]);
		else if (p[0] == 9 && p[1] >= 16 && (*(const uint32_t *)(p + 8) & 1))
			add_cpu(*(const uint32_t *)(p + 4));
	}
}

/* ------------------------------------------------------------ bring-up */

void smp_ap_main(void);
void smp_ap_main(void)
{
	unsigned cpu = ap_boot_cpu;
	struct cpu_work *w = &work[cpu];

	desc_setup_ap();
	apic_setup();
	__atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ap_online[cpu], 1, __ATOMIC_RELEASE);
	for (;;) {
		while (!__atomic_load_n(&w->busy, __ATOMIC_ACQUIRE))
			cpu_relax();
		w->fn(w->arg);
		__atomic_store_n(&w->busy, 0, __ATOMIC_RELEASE);
	}
}

static bool start_ap(unsigned cpu)
{
	uint32_t dest = apic_ids[cpu];
	uint64_t cr3 = read_cr3();

	if (cr3 >= BIT(32))
		report_abort("smp: page tables at %#lx, above what the trampoline can load", cr3);
	if (!ap_stacks[cpu])
		ap_stacks[cpu] = alloc_pages(AP_STACK_PAGES, PAGE_SIZE);
	memcpy((void *)TRAMPOLINE_ADDR, smp_trampoline, smp_trampoline_end - smp_trampoline);
	*(uint32_t *)(TRAMPOLINE_ADDR + ((char *)&smp_trampoline_cr3 - smp_trampoline)) = cr3;
	*(uint32_t *)(TRAMPOLINE_ADDR + ((char *)&smp_trampoline_efer - smp_trampoline)) =
		rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE);
	*(uint16_t *)(TRAMPOLINE_ADDR + ((char *)&smp_trampoline_gdt_limit - smp_trampoline)) =
		(gdt64_end - gdt64) * sizeof(gdt64[0]) - 1;
	smp_ap_boot_stack = (uint64_t)ap_stacks[cpu] + AP_STACK_PAGES * PAGE_SIZE;
	ap_boot_cpu = cpu;
	__atomic_store_n(&ap_online[cpu], 0, __ATOMIC_RELEASE);

	/*
	 * INIT, then up to two SIPIs (SDM Vol. 3A 9.4.4.1).  No INIT level
	 * de-assert: processors since the Pentium 4 do not support it (12.6.1).
	 */
	apic_send_ipi(dest, APIC_DM_INIT | APIC_ICR_LEVEL | APIC_ICR_ASSERT);
	spin(INIT_SPINS);
	for (int sipi = 0; sipi < 2; sipi++) {
		apic_send_ipi(dest, APIC_DM_STARTUP | TRAMPOLINE_VECTOR);
		spin(SIPI_SPINS);
		if (__atomic_load_n(&ap_online[cpu], __ATOMIC_ACQUIRE))
			break;
	}
	return smp_wait_flag(&ap_online[cpu], AP_ONLINE_SPINS);
}

unsigned smp_init(void)
{
	if (smp_started || smp_unavailable)
		return cpus_running;
	/* A PVH dom0's vCPUs start through VCPUOP_initialise and VCPUOP_up, not INIT-SIPI. */
	if (xen_detect()) {
		smp_unavailable = "under Xen the APs start through hypercalls (VCPUOP_up), not INIT-SIPI-SIPI";
		return cpus_running;
	}
	if (!cpu_has(X86_FEATURE_APIC)) {
		smp_unavailable = "no local APIC (CPUID 1 EDX[9])";
		return cpus_running;
	}
	list_cpus();
	info("smp: the ACPI MADT (RSDP from %s) lists %u enabled CPUs", rsdp_source, cpus_listed);
	if (cpus_listed < 2 && !smp_unavailable)
		smp_unavailable = "the ACPI MADT lists one enabled processor";
	if (cpus_listed < 2)
		return cpus_running;
	smp_started = true;
	for (unsigned cpu = 1; cpu < cpus_listed; cpu++) {
		if (!start_ap(cpu))
			report_abort("smp: CPU %u (APIC ID %u) listed in the MADT did not start",
				     cpu, apic_ids[cpu]);
		cpus_running++;
	}
	return cpus_running;
}

bool smp_restart_cpu(unsigned cpu)
{
	if (cpu == 0 || cpu >= cpus_running)
		report_abort("smp_restart_cpu: no AP %u", cpu);
	return start_ap(cpu);
}

bool smp_require(unsigned count)
{
	unsigned n = smp_init();

	if (n >= count)
		return true;
	if (smp_unavailable)
		skip("", "needs %u CPUs, %u running: %s", count, n, smp_unavailable);
	else
		skip("", "needs %u CPUs, %u running (as many as the ACPI MADT lists)", count, n);
	return false;
}

bool smp_require_prepared(unsigned count, bool ready[SMP_MAX_CPUS], smp_fn_t prepare)
{
	if (!smp_require(count))
		return false;
	for (unsigned cpu = 0; cpu < cpus_running; cpu++) {
		if (!ready[cpu]) {
			on_cpu(cpu, prepare, NULL);
			ready[cpu] = true;
		}
	}
	return true;
}

/* ------------------------------------------------------------ work */

bool smp_cpu_idle(unsigned cpu)
{
	return !__atomic_load_n(&work[cpu].busy, __ATOMIC_ACQUIRE);
}

void smp_wait(unsigned cpu)
{
	while (!smp_cpu_idle(cpu))
		cpu_relax();
}

void on_cpu_async(unsigned cpu, smp_fn_t fn, void *arg)
{
	if (cpu >= cpus_running)
		report_abort("on_cpu: no CPU %u (%u running)", cpu, cpus_running);
	if (cpu == this_cpu_id()) {
		fn(arg);
		return;
	}
	smp_wait(cpu);
	work[cpu].fn = fn;
	work[cpu].arg = arg;
	__atomic_store_n(&work[cpu].busy, 1, __ATOMIC_RELEASE);
}

bool on_cpu_async_started(unsigned cpu, smp_fn_t fn, void *arg, volatile int *started)
{
	__atomic_store_n(started, 0, __ATOMIC_RELEASE);
	on_cpu_async(cpu, fn, arg);
	return smp_wait_flag(started, AP_ONLINE_SPINS);
}

void on_cpu(unsigned cpu, smp_fn_t fn, void *arg)
{
	on_cpu_async(cpu, fn, arg);
	smp_wait(cpu);
}
