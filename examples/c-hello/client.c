/*
 * Client of the C example system (and of the mixed C/Rust system; it prints its PD name
 * first): writes a string into the region it shares with the
 * server, asks the server (a passive PD) for 6 * 7 by protected procedure call, then
 * notifies it and waits for the server's notification back.
 */
#include <stdint.h>
#include <microkit.h>

#define SERVER_PPC 0
#define SERVER_NOTIFY 1

/* The shared region's address, written by the microkit tool (setvar_vaddr). Kept in .data so
 * a tool that patches only file-backed bytes can write it too. */
__attribute__((section(".data"))) uintptr_t shared_vaddr;

static void put_str(volatile char *dst, const char *s)
{
    while ((*dst++ = *s++) != 0) {
    }
}

void init(void)
{
    put_str((volatile char *)shared_vaddr, "hello from C");

    microkit_mr_set(0, 6);
    microkit_mr_set(1, 7);
    microkit_msginfo reply = microkit_ppcall(SERVER_PPC, microkit_msginfo_new(1, 2));
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": ppc answered ");
    microkit_dbg_put32((seL4_Uint32)microkit_mr_get(0));
    microkit_dbg_puts(" (");
    microkit_dbg_put32((seL4_Uint32)microkit_msginfo_get_count(reply));
    microkit_dbg_puts(" MR)\n");

    microkit_notify(SERVER_NOTIFY);
}

void notified(microkit_channel ch)
{
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": notified on channel ");
    microkit_dbg_put32(ch);
    microkit_dbg_puts(" by the server, done\n");
}
