/*
 * Passive server of the C example system (and of the mixed C/Rust system; it prints its PD
 * name first): answers protected procedure calls (it runs on
 * the caller's scheduling context), and on a notification reads the region the client
 * shares with it and notifies the client back (deferred: the signal leaves with the event
 * loop's next receive).
 */
#include <stdint.h>
#include <microkit.h>

#define CLIENT 1

__attribute__((section(".data"))) uintptr_t shared_vaddr;

microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
    seL4_Word a = microkit_mr_get(0);
    seL4_Word b = microkit_mr_get(1);
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": ppc on channel ");
    microkit_dbg_put32(ch);
    microkit_dbg_puts(" (label ");
    microkit_dbg_put32((seL4_Uint32)microkit_msginfo_get_label(msginfo));
    microkit_dbg_puts("): ");
    microkit_dbg_put32((seL4_Uint32)a);
    microkit_dbg_puts(" * ");
    microkit_dbg_put32((seL4_Uint32)b);
    microkit_dbg_puts(" = ");
    microkit_dbg_put32((seL4_Uint32)(a * b));
    microkit_dbg_puts("\n");
    microkit_mr_set(0, a * b);
    return microkit_msginfo_new(0, 1);
}

void init(void)
{
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": init, I am '");
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts("'\n");
}

void notified(microkit_channel ch)
{
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": notified on channel ");
    microkit_dbg_put32(ch);
    microkit_dbg_puts(", shared memory says '");
    microkit_dbg_puts((const char *)shared_vaddr);
    microkit_dbg_puts("'\n");
    microkit_deferred_notify(CLIENT);
}
