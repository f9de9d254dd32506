/** @file serial.h  The COM1 console. */
#ifndef HVT_X86_SERIAL_H
#define HVT_X86_SERIAL_H

/** Programs COM1 for 115200 8N1. */
void serial_init(void);

/** Waits until every byte has left the UART. */
void serial_drain(void);

#endif
