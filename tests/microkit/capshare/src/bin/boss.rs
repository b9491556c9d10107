//! Boss: uses the caps its `<cspace>` gave it. Every line it prints needs the cap to be real:
//! the worker stops (its count stays put) only if the TCB cap suspends it, its registers come
//! from its TCB, `Consumed` answers only on a scheduling-context cap, the CNode invocations
//! act on the shared `mailbox` (the worker signals the boss through the cap minted there) and
//! the kernel's errors come back for an occupied or an empty mailbox slot.
#![no_std]
#![no_main]

use sel4_microkit::cspace::{UserCap, CNODE_DEPTH};
use sel4_microkit::sel4_sys::ops::{self, InvokeError};
use sel4_microkit::sel4_sys::{syscall, CapRights};
use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

/// Channel to the worker.
const WORKER: Channel = Channel::new(0);
/// Notifications through the cap minted into the mailbox carry this channel's bit.
const VIA_MAILBOX: Channel = Channel::new(5);

const WORKER_SC: UserCap = UserCap::new(1);
const WORKER_TCB: UserCap = UserCap::new(2);
const MY_SC: UserCap = UserCap::new(3);
const MY_TCB: UserCap = UserCap::new(4);
/// The shared CNode (16 slots), seen as a directory: `MAILBOX.index(i)` is its slot `i`.
const MAILBOX: UserCap = UserCap::new(5);
/// This PD's own CSpace root: `MY_CSPACE.index(t)` is the cap in its root slot `t`.
const MY_CSPACE: UserCap = UserCap::new(6);
/// Slots of the mailbox (`size_bits` 4).
const MAILBOX_SLOTS: u64 = 16;
/// Slot of this PD's notification in its Microkit CNode (libmicrokit's INPUT_CAP).
const INPUT_CAP: u64 = 1;

/// Index of the stack pointer in `seL4_UserContext`.
#[cfg(target_arch = "riscv64")]
const SP_INDEX: usize = 2;
#[cfg(not(target_arch = "riscv64"))]
const SP_INDEX: usize = 1;
/// Top of every PD's stack (the tool's `stack_top`: on riscv64 and x86_64 one page below the
/// top user page, which Microkit 2.3 keeps for the IPC buffer).
#[cfg(target_arch = "riscv64")]
const STACK_TOP: u64 = 0x0000_003f_ffff_e000;
#[cfg(target_arch = "x86_64")]
const STACK_TOP: u64 = 0x0000_7fff_ffff_e000;
#[cfg(target_arch = "aarch64")]
const STACK_TOP: u64 = 0x0000_7fff_ffff_f000;

struct Boss {
    counter: *const u64,
    via_mailbox: u32,
}

impl Boss {
    fn count(&self) -> u64 {
        // SAFETY: the SDF maps the `counter` page read-only at `counter_vaddr`.
        unsafe { self.counter.read_volatile() }
    }
}

fn err_name(r: Result<(), InvokeError>) -> &'static str {
    match r {
        Ok(()) => "no error",
        Err(InvokeError::Kernel { error, .. }) => match error as u64 {
            2 => "InvalidCapability",
            3 => "IllegalOperation",
            6 => "FailedLookup",
            8 => "DeleteFirst",
            _ => "another seL4 error",
        },
        Err(_) => "not an seL4 error",
    }
}

fn mailbox_cnode() -> u64 {
    MY_CSPACE.index(MAILBOX.slot())
}

impl Handler for Boss {
    fn notified(&mut self, channel: Channel) {
        if channel != VIA_MAILBOX {
            debug_println!("boss: unexpected notification on channel {}", channel.index());
            return;
        }
        self.via_mailbox += 1;
        if self.via_mailbox == 1 {
            debug_println!("boss: notified through mailbox slot 3 (badge bit 5)");
            let r = ops::cnode_move(mailbox_cnode(), 4, CNODE_DEPTH, mailbox_cnode(), 3, CNODE_DEPTH);
            debug_println!("boss: moved mailbox slot 3 to slot 4: {}", err_name(r));
            let r = ops::cnode_copy(mailbox_cnode(), 9, CNODE_DEPTH, mailbox_cnode(), 3, CNODE_DEPTH, CapRights::ALL);
            debug_println!("boss: copy from the emptied mailbox slot 3: {}", err_name(r));
            WORKER.notify();
        } else {
            debug_println!("boss: notified through mailbox slot 4 (badge bit 5)");
            debug_println!("boss: done, suspending myself through my own TCB cap");
            let r = ops::tcb_suspend(MY_TCB.cptr());
            debug_println!("boss: ERROR: still running after suspending myself ({})", err_name(r));
        }
    }
}

fn init() -> Boss {
    let boss = Boss {
        counter: setvar!(counter_vaddr: *const u64),
        via_mailbox: 0,
    };
    let id = |c: u64| syscall::debug_cap_identify(c);
    debug_println!(
        "boss: cap types: slot 1 = {}, slot 2 = {}, slot 3 = {}, slot 4 = {}, mailbox cap = {}, mailbox slot 0 = {}",
        id(WORKER_SC.cptr()),
        id(WORKER_TCB.cptr()),
        id(MY_SC.cptr()),
        id(MY_TCB.cptr()),
        id(mailbox_cnode()),
        id(MAILBOX.index(0))
    );

    WORKER.notify();
    debug_println!("boss: worker count after a notification: {}", boss.count());

    let r = ops::tcb_suspend(WORKER_TCB.cptr());
    debug_println!("boss: suspend worker: {}", err_name(r));
    let mut regs = [0u64; 4];
    match ops::tcb_read_registers(WORKER_TCB.cptr(), false, 0, &mut regs) {
        Ok(()) => {
            let (pc, sp) = (regs[0], regs[SP_INDEX]);
            let pc_ok = (0x20_0000..0x400_0000).contains(&pc);
            let sp_ok = sp <= STACK_TOP && sp > STACK_TOP - 0x1000;
            if pc_ok && sp_ok {
                debug_println!("boss: worker registers read: pc {:#x} lies in its program, sp {:#x} in its stack", pc, sp);
            } else {
                debug_println!("boss: ERROR: implausible worker registers: pc {:#x}, sp {:#x}", pc, sp);
            }
        }
        Err(e) => debug_println!("boss: ERROR: reading the worker's registers: {:?}", e),
    }
    WORKER.notify();
    syscall::yield_now();
    debug_println!("boss: worker count while suspended, after a notification: {}", boss.count());

    let worker_used = ops::sched_context_consumed(WORKER_SC.cptr());
    let me_used = ops::sched_context_consumed(MY_SC.cptr());
    let wrong = ops::sched_context_consumed(WORKER_TCB.cptr()).map(|_| ());
    debug_println!(
        "boss: Consumed on the worker's SC: {}, on mine: {}, on the worker's TCB: {}",
        if worker_used.is_ok() { "ok" } else { "failed" },
        if me_used.is_ok() { "ok" } else { "failed" },
        err_name(wrong)
    );

    let r = ops::tcb_resume(WORKER_TCB.cptr());
    debug_println!("boss: resume worker: {}; worker count now {}", err_name(r), boss.count());

    // Mint a cap to this PD's notification, badged as channel 5, into mailbox slot 3.
    let microkit_cnode = MY_CSPACE.index(0);
    let mint = |slot: u64| {
        ops::cnode_mint(mailbox_cnode(), slot, CNODE_DEPTH, microkit_cnode, INPUT_CAP, CNODE_DEPTH, CapRights::ALL, 1 << VIA_MAILBOX.index())
    };
    debug_println!("boss: mint my notification into mailbox slot 3: {}", err_name(mint(3)));
    debug_println!("boss: mint again into the occupied mailbox slot 3: {}", err_name(mint(3)));
    let r = ops::cnode_copy(mailbox_cnode(), 8, CNODE_DEPTH, mailbox_cnode(), 7, CNODE_DEPTH, CapRights::ALL);
    debug_println!("boss: copy from the empty mailbox slot 7: {}", err_name(r));
    let r = ops::cnode_delete(mailbox_cnode(), MAILBOX_SLOTS, CNODE_DEPTH);
    debug_println!("boss: delete mailbox slot {} (past its end): {}", MAILBOX_SLOTS, err_name(r));
    debug_println!("boss: mailbox slot 3 is now cap type {}", id(MAILBOX.index(3)));
    WORKER.notify();
    boss
}

protection_domain!(init);
