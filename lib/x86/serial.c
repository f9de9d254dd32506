/*
 * The console: a 16550 UART on COM1.  The guest programs the line itself (Bochs
 * honours LCR) and waits for THRE before each byte and TEMT before exiting, or
 * Bochs cuts or loses bytes.
 */
#include "libhvt.h"
#include "processor.h"
#include "serial.h"

#define COM1 0x3f8
#define UART_THR 0	/* transmit holding register */
#define UART_DLL 0	/* divisor latch, low (DLAB = 1) */
#define UART_IER 1
#define UART_DLM 1	/* divisor latch, high (DLAB = 1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

/* A UART that never becomes ready must not hang the run forever. */
#define READY_SPINS 10000000

static void serial_wait(uint8_t bits)
{
	for (unsigned i = 0; i < READY_SPINS; i++)
		if ((inb(COM1 + UART_LSR) & bits) == bits)
			return;
}

static void serial_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			serial_wait(LSR_THRE);
			outb(COM1 + UART_THR, '\r');
		}
		serial_wait(LSR_THRE);
		outb(COM1 + UART_THR, buf[i]);
	}
}

void (*console_write)(const char *buf, size_t len) = serial_write;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);	/* no UART interrupts */
	outb(COM1 + UART_LCR, 0x80);	/* DLAB */
	outb(COM1 + UART_DLL, 0x01);	/* 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03);	/* 8N1 */
	outb(COM1 + UART_FCR, 0xc7);	/* FIFO on and cleared */
	outb(COM1 + UART_MCR, 0x03);	/* DTR, RTS */
}

void serial_drain(void)
{
	serial_wait(LSR_THRE | LSR_TEMT);
}
