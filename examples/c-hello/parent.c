/*
 * Parent of the C example system: its child PD ("child", id 0) faults; fault() receives the
 * VM fault, restarts the child at its image start the first time and stops it the second.
 */
#include <microkit.h>

#define CHILD 0
#define CHILD_ENTRY 0x200000 /* microkit.ld puts _start first, at the image start */

static unsigned int faults;

static void put_hex(seL4_Word x)
{
    microkit_dbg_puts("0x");
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        unsigned int d = (x >> shift) & 0xf;
        if (d != 0 || started || shift == 0) {
            microkit_dbg_putc(d < 10 ? '0' + d : 'a' + d - 10);
            started = 1;
        }
    }
}

void init(void)
{
}

void notified(microkit_channel ch)
{
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    (void)reply_msginfo;
    faults++;
    microkit_dbg_puts("parent: child ");
    microkit_dbg_put32(child);
    if (microkit_msginfo_get_label(msginfo) == seL4_Fault_VMFault) {
        microkit_dbg_puts(" VM fault at ");
        put_hex(microkit_mr_get(seL4_VMFault_Addr));
    } else {
        microkit_dbg_puts(" fault with label ");
        microkit_dbg_put32((seL4_Uint32)microkit_msginfo_get_label(msginfo));
    }
    if (faults == 1) {
        microkit_dbg_puts(", restarting it\n");
        microkit_pd_restart(child, CHILD_ENTRY);
    } else {
        microkit_dbg_puts(", stopping it\n");
        microkit_pd_stop(child);
        microkit_dbg_puts("parent: child stopped after ");
        microkit_dbg_put32(faults);
        microkit_dbg_puts(" faults\n");
    }
    /* The child was restarted or stopped: there is nothing to reply to. */
    return seL4_False;
}
