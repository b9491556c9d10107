/*
 * Child PD of the C example system: reads an unmapped address in init(), so its parent's
 * fault() runs. The parent restarts it once (its memory, and so `runs`, survive the restart).
 */
#include <microkit.h>

#define UNMAPPED 0x100ad8

__attribute__((section(".data"))) unsigned int runs;

void init(void)
{
    runs++;
    microkit_dbg_puts(runs == 1 ? "child: first run, reading an unmapped address\n"
                                : "child: restarted by the parent, reading it again\n");
    (void)*(volatile seL4_Word *)UNMAPPED;
    microkit_dbg_puts("child: must not get here\n");
}

void notified(microkit_channel ch)
{
}
