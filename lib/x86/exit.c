/*
 * Leaving the machine: QEMU's isa-debug-exit (port 0xf4, exit status code << 1 | 1),
 * then Bochs' shutdown port, then a halt with interrupts off as the last resort.
 */
#include "libhvt.h"
#include "processor.h"
#include "serial.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

void platform_exit(int code)
{
	static const char shutdown[] = "Shutdown";

	serial_drain();
	outl(QEMU_DEBUG_EXIT_PORT, (uint32_t)code);
	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, *p);
	for (;;)
		asm volatile("cli; hlt");
}
