/*
 * libmicrokit for this project's SDK: the protection domain's runtime, written for the
 * Microkit 2.3 conventions (see README.md beside this directory):
 *
 *  - the microkit tool maps the PD's IPC buffer at the top user page
 *    (MICROKIT_IPC_BUFFER_VADDR: seL4_UserVSpaceTop & ~0xfff of Microkit's kernel for the board);
 *  - the tool writes the variables below into the ELF before load (microkit_name, the
 *    channel masks, microkit_passive).
 *
 * The entry code (_start, entry.c) calls microkit_main(), which runs the C constructors and
 * the PD's init(), then serves events for ever: notifications (one notified() call per set
 * badge bit), protected procedure calls (protected(), whose result is the reply) and faults
 * of child PDs (fault(), which decides whether to reply).
 */
#include <microkit.h>

/* Cap slots of libmicrokit that microkit.h does not name. */
#define INPUT_CAP 1
#define REPLY_CAP 4

/* Badge bits on the input endpoint (see sdk/layout). */
#define PPC_BADGE_BIT 63
#define FAULT_BADGE_BIT 62
#define CHILD_MASK 0xffull
#define CHANNEL_MASK 0x3full

/*
 * Patched by the tool. They are placed in .data (zero bytes in the file) rather than .bss:
 * a tool that writes symbols only into file-backed bytes can patch them, and one that also
 * writes .bss (Microkit 2.3) finds them all the same.
 */
#define PATCHED __attribute__((section(".data"), used))
PATCHED char microkit_name[MICROKIT_PD_NAME_LENGTH];
PATCHED seL4_Bool microkit_passive;
PATCHED seL4_Word microkit_irqs;
PATCHED seL4_Word microkit_notifications;
PATCHED seL4_Word microkit_pps;
PATCHED seL4_Word microkit_ioports;

seL4_Bool microkit_have_signal = seL4_False;
seL4_CPtr microkit_signal_cap;
seL4_MessageInfo_t microkit_signal_msg;

/* The IPC buffer page the tool maps (Microkit 2.3: the top page of user space). */
seL4_IPCBuffer *__sel4_ipc_buffer = (seL4_IPCBuffer *)MICROKIT_IPC_BUFFER_VADDR;

typedef void (*microkit_ctor)(void);
extern microkit_ctor __init_array_start[];
extern microkit_ctor __init_array_end[];

__attribute__((weak)) microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
    (void)msginfo;
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": protected call on channel ");
    microkit_dbg_put32(ch);
    microkit_dbg_puts(" but the PD has no 'protected' entry point\n");
    microkit_internal_crash(seL4_IllegalOperation);
    return seL4_MessageInfo_new(0, 0, 0, 0);
}

__attribute__((weak)) seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    (void)msginfo;
    (void)reply_msginfo;
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": fault of child ");
    microkit_dbg_put32(child);
    microkit_dbg_puts(" but the PD has no 'fault' entry point\n");
    microkit_internal_crash(seL4_IllegalOperation);
    return seL4_False;
}

static void run_constructors(void)
{
    for (microkit_ctor *f = __init_array_start; f < __init_array_end; f++) {
        (*f)();
    }
}

/* Calls notified() for every channel whose bit is set in a notification badge. */
static void deliver_notifications(seL4_Word badge)
{
    for (microkit_channel ch = 0; badge != 0; ch++, badge >>= 1) {
        if (badge & 1) {
            notified(ch);
        }
    }
}

static __attribute__((noreturn)) void event_loop(void)
{
    seL4_Bool reply_pending = seL4_False;
    microkit_msginfo reply = seL4_MessageInfo_new(0, 0, 0, 0);
    for (;;) {
        seL4_Word badge = 0;
        microkit_msginfo msg;
        if (reply_pending) {
            msg = seL4_ReplyRecv(INPUT_CAP, reply, &badge, REPLY_CAP);
        } else if (microkit_have_signal) {
            microkit_have_signal = seL4_False;
            msg = seL4_NBSendRecv(microkit_signal_cap, microkit_signal_msg, INPUT_CAP, &badge, REPLY_CAP);
        } else {
            msg = seL4_Recv(INPUT_CAP, &badge, REPLY_CAP);
        }
        reply_pending = seL4_False;
        if ((badge >> FAULT_BADGE_BIT) & 1) {
            reply_pending = fault((microkit_child)(badge & CHILD_MASK), msg, &reply);
        } else if ((badge >> PPC_BADGE_BIT) & 1) {
            reply = protected((microkit_channel)(badge & CHANNEL_MASK), msg);
            reply_pending = seL4_True;
        } else {
            deliver_notifications(badge);
        }
    }
}

void __attribute__((noreturn)) microkit_main(void)
{
    run_constructors();
    init();
    /*
     * A passive PD tells the monitor it has finished init() (the monitor then takes its
     * scheduling context away); the signal goes out with the first receive, so the PD is
     * already waiting when it loses its time.
     */
    if (microkit_passive) {
        microkit_have_signal = seL4_True;
        microkit_signal_msg = seL4_MessageInfo_new(0, 0, 0, 0);
        microkit_signal_cap = MONITOR_EP;
    }
    event_loop();
}
