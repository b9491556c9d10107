//! Starting a second thread in its own VSpace through seL4 invocations (used by the
//! `preempt` and `fpcheck` tasks).
//!
//! From one RAM untyped of at least 128 KiB: a TCB, a 2^8-byte SC, three page tables (one
//! becomes a new VSpace root with its own ASID via `ASIDPool_Assign`) and a stack frame.
//! Copies of the root task's image frame caps are mapped at the same addresses, so the two
//! threads share the image's statics. The thread gets the root's CSpace, priority 255 (the
//! root's) and a 5 ms / 5 ms round-robin SC, and is started with `TCB_WriteRegisters`.

use sel4_abi::bootinfo::{slots, BootInfo};
use sel4_abi::object::{object_type_number, ObjectKind};
use sel4_abi::{arch_label_number, Arch, ArchLabel, Label};

use crate::ipc::Ipc;

/// Where the root task's image is linked (link.ld).
pub const IMAGE_BASE: u64 = 0x40_0000;
/// The second thread's stack page (in the same 2 MiB as the image, so one leaf table).
pub const STACK_VADDR: u64 = 0x50_0000;

/// A failed step: the invocation's name and the seL4 error number (0 if not an invocation).
#[derive(Clone, Copy, Debug)]
pub struct Failed(pub &'static str, pub u64);

/// Start `entry(arg)` as a second thread in a new VSpace (see the module docs). `before_start`
/// runs just before `TCB_WriteRegisters` (e.g. to print while still the only thread). Returns
/// the number of image frames mapped in the new VSpace.
pub fn spawn_in_own_vspace(
    bi: &BootInfo,
    entry: extern "C" fn(u64) -> !,
    arg: u64,
    before_start: impl FnOnce(u64),
) -> Result<u64, Failed> {
    spawn_with(bi, entry, arg, Options::first(bi), before_start)
}

/// Where and how [`spawn_with`] starts a thread.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// First of the empty slots it fills (`slots_used` of them).
    pub first_slot: u64,
    /// Fault endpoint cap (0: none).
    pub fault_ep: u64,
    /// `TCB_SetFlags` flags set before the thread starts (0: none).
    pub flags: u64,
}

impl Options {
    /// The first empty slot, no fault handler, no flags.
    pub fn first(bi: &BootInfo) -> Options {
        Options {
            first_slot: bi.empty.start,
            fault_ep: 0,
            flags: 0,
        }
    }
}

/// Slots a spawn fills, given the number of image frames it maps (its return value).
pub fn slots_used(frames: u64) -> u64 {
    6 + frames
}

/// [`spawn_in_own_vspace`] with explicit [`Options`]. The TCB is in `opts.first_slot`.
pub fn spawn_with(
    bi: &BootInfo,
    entry: extern "C" fn(u64) -> !,
    arg: u64,
    opts: Options,
    before_start: impl FnOnce(u64),
) -> Result<u64, Failed> {
    let ipc = Ipc(bi.ipc_buffer);
    let cnode = slots::INIT_THREAD_CNODE;
    let ty = |k| object_type_number(Arch::Riscv64, k).unwrap_or(u64::MAX);
    let arch = |l| arch_label_number(Arch::Riscv64, l).unwrap_or(0);
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let ut = bi.untyped_list[..n.min(bi.untyped_list.len())]
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 17)
        .map(|i| bi.untyped.start + i as u64)
        .ok_or(Failed("finding a 128 KiB RAM untyped", 0))?;
    let e = opts.first_slot;
    let (tcb, sc, root, pt1, pt2, stack, copies) = (e, e + 1, e + 2, e + 3, e + 4, e + 5, e + 6);
    let ok = |what, (err, _): (u64, u64)| {
        if err != 0 {
            Err(Failed(what, err))
        } else {
            Ok(())
        }
    };
    let retype = |kind, size: u64, slot: u64, count: u64| {
        ok(
            "Untyped_Retype",
            ipc.invoke(
                ut,
                Label::UntypedRetype as u64,
                &[ty(kind), size, 0, 0, slot, count],
                &[cnode],
            ),
        )
    };
    retype(ObjectKind::Tcb, 0, tcb, 1)?;
    retype(ObjectKind::SchedContext, 8, sc, 1)?;
    retype(ObjectKind::PageTable, 0, root, 3)?;
    retype(ObjectKind::Frame { size_bits: 12 }, 0, stack, 1)?;
    ok(
        "ASIDPool_Assign",
        ipc.invoke(
            slots::INIT_THREAD_ASID_POOL,
            arch(ArchLabel::AsidPoolAssign),
            &[],
            &[root],
        ),
    )?;
    for (what, pt) in [
        ("PageTable_Map (level 1)", pt1),
        ("PageTable_Map (level 2)", pt2),
    ] {
        ok(
            what,
            ipc.invoke(pt, arch(ArchLabel::PageTableMap), &[IMAGE_BASE, 0], &[root]),
        )?;
    }
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
        )?;
        ok(
            "Page_Map (image frame)",
            ipc.invoke(
                copies + i,
                arch(ArchLabel::PageMap),
                &[IMAGE_BASE + 4096 * i, 3, 0],
                &[root],
            ),
        )?;
    }
    ok(
        "Page_Map (stack)",
        ipc.invoke(
            stack,
            arch(ArchLabel::PageMap),
            &[STACK_VADDR, 3, 1],
            &[root],
        ),
    )?;
    // Configure(cspace = ours, vspace = the new root, no IPC buffer).
    ok(
        "TCB_Configure",
        ipc.invoke(
            tcb,
            Label::TCBConfigure as u64,
            &[0, 0, 0],
            &[cnode, root, 0],
        ),
    )?;
    ok(
        "SchedControl_ConfigureFlags",
        ipc.invoke(
            bi.schedcontrol.start,
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[sc],
        ),
    )?;
    ok(
        "TCB_SetSchedParams",
        ipc.invoke(
            tcb,
            Label::TCBSetSchedParams as u64,
            &[255, 255, 0, 0, 0],
            &[slots::INIT_THREAD_TCB, sc, opts.fault_ep],
        ),
    )?;
    if opts.flags != 0 {
        ok(
            "TCB_SetFlags",
            ipc.invoke(tcb, Label::TCBSetFlags as u64, &[0, opts.flags], &[]),
        )?;
    }
    // seL4_UserContext order: pc, ra, sp, gp, s0..s11, a0.
    let mut gp: u64 = 0;
    #[cfg(target_arch = "riscv64")]
    // SAFETY: reads the global pointer register only.
    unsafe {
        core::arch::asm!("mv {}, gp", out(reg) gp, options(nomem, nostack))
    };
    let mut regs = [0u64; 2 + 17];
    regs[0] = 1; // resume the target
    regs[1] = 17;
    regs[2] = entry as *const () as u64;
    regs[4] = STACK_VADDR + 4096;
    regs[5] = gp;
    regs[2 + 16] = arg;
    before_start(frames);
    ok(
        "TCB_WriteRegisters",
        ipc.invoke(tcb, Label::TCBWriteRegisters as u64, &regs, &[]),
    )?;
    Ok(frames)
}
