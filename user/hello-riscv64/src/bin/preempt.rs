//! Preemption and address-space switching with two threads made through seL4 invocations.
//!
//! The root task retypes a TCB, a scheduling context, three page tables and a stack frame,
//! turns one page table into a new VSpace root (`ASIDPool_Assign`, so it gets its own ASID),
//! maps copies of its own image frame caps there at the same addresses plus the stack, and
//! starts a second thread in that VSpace at the same priority with a round-robin SC
//! (`TCB_Configure`, `SchedControl_ConfigureFlags`, `TCB_SetSchedParams`,
//! `TCB_WriteRegisters` with resume). Then both threads spin *without syscalls*, each waiting
//! for the other's counter (in a shared data page) to advance (the second thread's last
//! wait starts once the root has seen its counter): each makes progress only when
//! the timer preempts the other and the kernel switches `satp` to the other VSpace.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hello_riscv64::ipc::Ipc;
use hello_riscv64::syscalls::yield_now;
use hello_riscv64::{entry, println};

use sel4_abi::bootinfo::{slots, BootInfo};
use sel4_abi::object::{object_type_number, ObjectKind};
use sel4_abi::{arch_label_number, Arch, ArchLabel, Label};

entry!(main);

/// Counter the root thread advances.
static ROOT_COUNT: AtomicU64 = AtomicU64::new(0);
/// Counter the second thread advances.
static SECOND_COUNT: AtomicU64 = AtomicU64::new(0);
/// Set by the root once it has seen the second thread's counter reach [`TARGET`].
static ROOT_SAW: AtomicBool = AtomicBool::new(false);
/// How far each thread waits for the other's counter.
const TARGET: u64 = 2_000_000;
/// Where the root task's image is linked (link.ld).
const IMAGE_BASE: u64 = 0x40_0000;
/// The second thread's stack page (in the same 2 MiB as the image, so one leaf table).
const STACK_VADDR: u64 = 0x50_0000;

/// Print lock: a thread preempted mid-line keeps it, and the other spins until the timer
/// switches back, so lines never interleave.
static PRINT_LOCK: AtomicBool = AtomicBool::new(false);

/// `println!` under [`PRINT_LOCK`].
macro_rules! say {
    ($($arg:tt)*) => {{
        while PRINT_LOCK.swap(true, Ordering::Acquire) {}
        println!($($arg)*);
        PRINT_LOCK.store(false, Ordering::Release);
    }};
}

fn fail(what: &str, err: u64) -> ! {
    say!("preempt: ERROR: {} failed with error {}", what, err);
    loop {
        yield_now();
    }
}

fn main(bootinfo: usize) -> ! {
    // SAFETY: the kernel maps the bootinfo page at a0 and never changes it afterwards.
    let bi: &BootInfo = unsafe { &*(bootinfo as *const BootInfo) };
    let ipc = Ipc(bi.ipc_buffer);
    let cnode = slots::INIT_THREAD_CNODE;
    let ty = |k| object_type_number(Arch::Riscv64, k).unwrap_or(u64::MAX);
    let arch = |l| arch_label_number(Arch::Riscv64, l).unwrap_or(0);
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let Some(ut) = bi.untyped_list[..n.min(bi.untyped_list.len())]
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 17)
        .map(|i| bi.untyped.start + i as u64)
    else {
        fail("finding a 128 KiB RAM untyped", 0)
    };
    let e = bi.empty.start;
    let (tcb, sc, root, pt1, pt2, stack, copies) = (e, e + 1, e + 2, e + 3, e + 4, e + 5, e + 6);
    let retype = |kind, size: u64, slot: u64, count: u64| {
        let (err, _) = ipc.invoke(
            ut,
            Label::UntypedRetype as u64,
            &[ty(kind), size, 0, 0, slot, count],
            &[cnode],
        );
        if err != 0 {
            fail("Untyped_Retype", err);
        }
    };
    retype(ObjectKind::Tcb, 0, tcb, 1);
    retype(ObjectKind::SchedContext, 8, sc, 1);
    retype(ObjectKind::PageTable, 0, root, 3);
    retype(ObjectKind::Frame { size_bits: 12 }, 0, stack, 1);
    let ok = |what, (err, _): (u64, u64)| {
        if err != 0 {
            fail(what, err)
        }
    };
    ok(
        "ASIDPool_Assign",
        ipc.invoke(
            slots::INIT_THREAD_ASID_POOL,
            arch(ArchLabel::AsidPoolAssign),
            &[],
            &[root],
        ),
    );
    ok(
        "PageTable_Map (level 1)",
        ipc.invoke(
            pt1,
            arch(ArchLabel::PageTableMap),
            &[IMAGE_BASE, 0],
            &[root],
        ),
    );
    ok(
        "PageTable_Map (level 2)",
        ipc.invoke(
            pt2,
            arch(ArchLabel::PageTableMap),
            &[IMAGE_BASE, 0],
            &[root],
        ),
    );
    // The image frames, in address order from the link address (the segments are
    // contiguous pages): copy each cap and map the copy at the same address in the new VSpace.
    let frames = bi.user_image_frames.end - bi.user_image_frames.start;
    for i in 0..frames {
        let src = bi.user_image_frames.start + i;
        ok(
            "CNode_Copy (image frame)",
            ipc.invoke(
                cnode,
                Label::CNodeCopy as u64,
                &[copies + i, 64, src, 64, 0xf],
                &[cnode],
            ),
        );
        ok(
            "Page_Map (image frame)",
            ipc.invoke(
                copies + i,
                arch(ArchLabel::PageMap),
                &[IMAGE_BASE + 4096 * i, 3, 0],
                &[root],
            ),
        );
    }
    ok(
        "Page_Map (stack)",
        ipc.invoke(
            stack,
            arch(ArchLabel::PageMap),
            &[STACK_VADDR, 3, 1],
            &[root],
        ),
    );
    // Configure(cspace = ours, vspace = the new root, no IPC buffer).
    ok(
        "TCB_Configure",
        ipc.invoke(
            tcb,
            Label::TCBConfigure as u64,
            &[0, 0, 0],
            &[cnode, root, 0],
        ),
    );
    ok(
        "SchedControl_ConfigureFlags",
        ipc.invoke(
            bi.schedcontrol.start,
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[sc],
        ),
    );
    ok(
        "TCB_SetSchedParams",
        ipc.invoke(
            tcb,
            Label::TCBSetSchedParams as u64,
            &[255, 255, 0, 0, 0],
            &[slots::INIT_THREAD_TCB, sc, 0],
        ),
    );
    // seL4_UserContext order: pc, ra, sp, gp, s0..s11, a0.
    let gp: u64;
    // SAFETY: reads the global pointer register only.
    unsafe { core::arch::asm!("mv {}, gp", out(reg) gp, options(nomem, nostack)) };
    let mut regs = [0u64; 2 + 17];
    regs[0] = 1; // resume the target
    regs[1] = 17;
    regs[2] = second_thread as *const () as u64;
    regs[4] = STACK_VADDR + 4096;
    regs[5] = gp;
    regs[2 + 16] = 0x5ec0;
    say!(
        "preempt: second thread configured: own VSpace with {} image frames and a stack, same priority, 5 ms round-robin SC",
        frames
    );
    ok(
        "TCB_WriteRegisters",
        ipc.invoke(tcb, Label::TCBWriteRegisters as u64, &regs, &[]),
    );
    say!("preempt: root spinning without syscalls until the second thread advances");
    let mut mine = 0u64;
    while SECOND_COUNT.load(Ordering::Relaxed) < TARGET {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
    say!(
        "preempt: root saw the second thread's counter reach {}",
        TARGET
    );
    ROOT_SAW.store(true, Ordering::Release);
    loop {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
}

/// The second thread: runs in the new VSpace on its own stack.
extern "C" fn second_thread(arg: u64) -> ! {
    say!(
        "preempt: second thread running (arg {:#x}, sp page {:#x})",
        arg,
        STACK_VADDR
    );
    let mut mine = 0u64;
    // Advance until the root has seen this thread's progress, then wait for the root's
    // counter to advance by TARGET more (so this line always comes after the root's).
    while !ROOT_SAW.load(Ordering::Acquire) {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    let start = ROOT_COUNT.load(Ordering::Relaxed);
    while ROOT_COUNT.load(Ordering::Relaxed) < start + TARGET {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    say!(
        "preempt: second thread saw the root's counter advance by {}",
        TARGET
    );
    loop {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
}
