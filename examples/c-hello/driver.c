/*
 * IRQ driver of the C example system: programs the board's real-time clock to interrupt,
 * handles the interrupt as a notification on its IRQ channel, clears the device and acks
 * the IRQ: the first and third time with microkit_irq_ack, the second with
 * microkit_deferred_irq_ack (the ack leaves with the event loop's next receive). Each later
 * interrupt only arrives if the previous ack unmasked the line. The driver has the lowest
 * priority of the system, so its lines come after every other PD's.
 *
 * Devices (QEMU): aarch64 virt PL031 RTC (MMIO 0x9010000, SPI 2 = INTID 34); riscv64 virt
 * Goldfish RTC (MMIO 0x101000, PLIC IRQ 11); x86_64 CMOS RTC periodic interrupt (I/O ports
 * 0x70-0x71 as I/O port id 0, ISA IRQ 8 through I/O APIC pin 8).
 */
#include <stdint.h>
#include <microkit.h>

#define IRQ 0
#define ROUNDS 3

static unsigned int count;

#if defined(CONFIG_ARCH_X86_64)
#define PORTS 0

static uint8_t cmos_read(uint8_t reg)
{
    microkit_x86_ioport_write_8(PORTS, 0x70, reg);
    return microkit_x86_ioport_read_8(PORTS, 0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
    microkit_x86_ioport_write_8(PORTS, 0x70, reg);
    microkit_x86_ioport_write_8(PORTS, 0x71, v);
}

/* Periodic interrupt (register B bit 6) at 2 Hz (register A rate 15). */
static void arm(void)
{
    cmos_write(0x8a, (cmos_read(0x8a) & 0xf0) | 0x0f);
    cmos_write(0x8b, cmos_read(0x8b) | 0x40);
}

/* Reading register C clears the interrupt; then stop periodic interrupts. */
static void clear(void)
{
    (void)cmos_read(0x0c);
    cmos_write(0x8b, cmos_read(0x8b) & ~0x40);
}
#else
/* The RTC page, mapped uncached by the tool (setvar_vaddr). */
__attribute__((section(".data"))) uintptr_t rtc_vaddr;

static uint32_t rd(uintptr_t off)
{
    return *(volatile uint32_t *)(rtc_vaddr + off);
}

static void wr(uintptr_t off, uint32_t v)
{
    *(volatile uint32_t *)(rtc_vaddr + off) = v;
}

#if defined(CONFIG_ARCH_AARCH64)
/* PL031: match = now + 1 s, unmask. */
static void arm(void)
{
    wr(0x004, rd(0x000) + 1);
    wr(0x010, 1);
}

static void clear(void)
{
    wr(0x01c, 1);
}
#else
/* Goldfish RTC: alarm = now + 50 ms, enable. */
static void arm(void)
{
    uint64_t now = rd(0x00);
    now |= (uint64_t)rd(0x04) << 32;
    uint64_t at = now + 50000000ull;
    wr(0x0c, (uint32_t)(at >> 32));
    wr(0x08, (uint32_t)at);
    wr(0x10, 1);
}

static void clear(void)
{
    wr(0x1c, 1);
}
#endif
#endif

void init(void)
{
    arm();
    microkit_dbg_puts("driver: timer armed\n");
}

void notified(microkit_channel ch)
{
    if (ch != IRQ) {
        microkit_dbg_puts("driver: unexpected notification\n");
        return;
    }
    count++;
    clear();
    if (count == 2) {
        microkit_deferred_irq_ack(IRQ);
        microkit_dbg_puts("driver: irq ack deferred (2 of 3)\n");
    } else {
        microkit_irq_ack(IRQ);
        microkit_dbg_puts("driver: irq acked (");
        microkit_dbg_put32(count);
        microkit_dbg_puts(" of 3)\n");
    }
    if (count < ROUNDS) {
        arm();
    }
}
