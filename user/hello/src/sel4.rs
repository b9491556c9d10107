//! A few seL4 invocations for the test root tasks (AArch64): `seL4_Call` with message
//! registers and extra caps, an object allocator over the bootinfo's first RAM untyped, and
//! [`Root::spawn`], which starts a second thread in its own VSpace (own ASID) running a
//! function of this image: the image frames are copied and mapped at the same addresses,
//! plus a private stack page.

// Shared by several test tasks; each uses a subset.
#![allow(dead_code)]

use sel4_abi::bootinfo::slots;
use sel4_abi::message::ipc_buffer;
use sel4_abi::{arch_label_number, object_type_number, Arch, ArchLabel, BootInfo, Label, MessageInfo, ObjectKind};

/// `seL4_Call`.
const SYS_CALL: i64 = -1;
/// `seL4_Recv`.
const SYS_RECV: i64 = -7;
/// `seL4_DebugCapIdentify`.
const SYS_DEBUG_CAP_IDENTIFY: i64 = -15;
/// Where every test image is linked (see `link.ld`): image frame *i* maps at
/// `IMAGE_BASE + 4096 * i` (the sections are contiguous).
const IMAGE_BASE: u64 = 0x40_0000;
/// The spawned thread's private stack page (inside the same 2 MiB as the image, so one
/// set of page tables covers both).
const STACK_PAGE: u64 = 0x5F_F000;
/// `seL4_ARM_Default_VMAttributes` (PageCacheable | ParityEnabled) and ExecuteNever.
const ATTR_DEFAULT: u64 = 3;
const ATTR_EXECUTE_NEVER: u64 = 4;
/// `seL4_CapRights_new(0, 0, 1, 1)`: read + write.
const RIGHTS_RW: u64 = 3;

/// A `seL4_Call` reply: the error (reply label) and MR0..MR3.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    /// The reply label (`seL4_Error`, 0 = success).
    pub error: u64,
    /// MR0..MR3.
    #[allow(dead_code)]
    pub mr: [u64; 4],
}

/// The root task's view of its own environment.
pub struct Root {
    /// The bootinfo (copied).
    pub bi: &'static BootInfo,
    /// The IPC buffer address.
    ipc: u64,
    /// Next empty slot.
    next_slot: u64,
    /// Untyped slot objects are retyped from.
    untyped: u64,
}

/// Whether a spawned thread may use the FPU (`seL4_TCBFlag_fpuDisabled` clear or set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fpu {
    /// The default: FP/SIMD available.
    Enabled,
    /// `TCB_SetFlags(fpuDisabled)` before the thread starts.
    Disabled,
}

/// A received message: the label and MR0..MR3.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    /// The message label (for a fault message: the `seL4_FaultType`).
    pub label: u64,
    /// MR0..MR3.
    pub mr: [u64; 4],
}

/// Why a step of [`Root::spawn`] or [`Root::retype`] failed: the invocation and its error.
#[derive(Clone, Copy, Debug)]
pub struct Failed(pub &'static str, pub u64);

impl Root {
    /// The environment from the bootinfo at `bootinfo` (the address x0 held at entry).
    pub fn new(bootinfo: u64) -> Option<Root> {
        // SAFETY: the kernel maps the bootinfo page (plain integers) read-only at this
        // address for the root task's whole life and never changes it afterwards.
        let bi: &'static BootInfo = unsafe { &*(bootinfo as *const BootInfo) };
        let n = (bi.untyped.end - bi.untyped.start) as usize;
        let i = bi.untyped_list[..n.min(bi.untyped_list.len())]
            .iter()
            .position(|d| d.is_device == 0 && d.size_bits >= 20)?;
        Some(Root {
            bi,
            ipc: bi.ipc_buffer,
            next_slot: bi.empty.start,
            untyped: bi.untyped.start + i as u64,
        })
    }

    /// Write word `offset` (bytes) of the IPC buffer.
    fn ipc_write(&self, offset: u64, v: u64) {
        // SAFETY: the IPC buffer page is mapped read-write for this thread; every offset
        // used is inside its 1024 bytes.
        unsafe { core::ptr::write_volatile((self.ipc + offset) as *mut u64, v) }
    }

    /// `seL4_Call(cap)` with label, message registers (MR4.. go to the IPC buffer) and
    /// extra caps.
    pub fn call(&self, cap: u64, label: u64, mrs: &[u64], caps: &[u64]) -> Reply {
        for (i, &m) in mrs.iter().enumerate().skip(4) {
            self.ipc_write(ipc_buffer::mr_offset(i), m);
        }
        for (i, &c) in caps.iter().enumerate() {
            self.ipc_write(ipc_buffer::CAPS_OR_BADGES + 8 * i as u64, c);
        }
        let mut r = [0u64; 4];
        for (d, s) in r.iter_mut().zip(mrs) {
            *d = *s;
        }
        let info = MessageInfo::new(label, 0, caps.len() as u64, mrs.len() as u64);
        let (i, out) = raw_call(cap, info.to_word(), r);
        Reply {
            error: MessageInfo::from_word(i).label,
            mr: out,
        }
    }

    /// `call`, mapping a non-zero error to [`Failed`].
    fn ok(&self, what: &'static str, cap: u64, label: u64, mrs: &[u64], caps: &[u64]) -> Result<(), Failed> {
        match self.call(cap, label, mrs, caps).error {
            0 => Ok(()),
            e => Err(Failed(what, e)),
        }
    }

    /// A free slot.
    pub fn take_slot(&mut self) -> u64 {
        let s = self.next_slot;
        self.next_slot += 1;
        s
    }

    /// Retype one object of `kind` (`size_bits` for variable-size kinds) into a new slot.
    pub fn retype(&mut self, kind: ObjectKind, size_bits: u64) -> Result<u64, Failed> {
        let ty = object_type_number(Arch::Aarch64, kind).ok_or(Failed("object type", 0))?;
        let slot = self.take_slot();
        self.ok(
            "Untyped_Retype",
            self.untyped,
            Label::UntypedRetype as u64,
            &[ty, size_bits, 0, 0, slot, 1],
            &[slots::INIT_THREAD_CNODE],
        )?;
        Ok(slot)
    }

    /// Start `entry(arg)` as a new thread at priority 255 (the root task's) with a 5 ms
    /// budget, in a new VSpace with its own ASID that maps this image and a private stack.
    /// Returns the new thread's TCB slot.
    pub fn spawn(&mut self, entry: extern "C" fn(u64) -> !, arg: u64) -> Result<u64, Failed> {
        self.spawn_with(entry, arg, slots::NULL, Fpu::Enabled)
    }

    /// [`Root::spawn`] with a fault endpoint (a slot of the root CNode, or `slots::NULL`)
    /// and the thread's FPU flag.
    pub fn spawn_with(
        &mut self,
        entry: extern "C" fn(u64) -> !,
        arg: u64,
        fault_ep: u64,
        fpu: Fpu,
    ) -> Result<u64, Failed> {
        let arch = |l| arch_label_number(Arch::Aarch64, l).unwrap_or(u64::MAX);
        let vspace = self.retype(ObjectKind::VSpace, 0)?;
        self.ok("ASIDPool_Assign", slots::INIT_THREAD_ASID_POOL, arch(ArchLabel::AsidPoolAssign), &[], &[vspace])?;
        // Levels 1, 2 and 3 for the 2 MiB holding the image and the stack.
        for _ in 0..3 {
            let pt = self.retype(ObjectKind::PageTable, 0)?;
            self.ok("PageTable_Map", pt, arch(ArchLabel::PageTableMap), &[IMAGE_BASE, ATTR_DEFAULT], &[vspace])?;
        }
        let frames = self.bi.user_image_frames;
        for (i, frame) in (frames.start..frames.end).enumerate() {
            let copy = self.take_slot();
            self.ok(
                "CNode_Copy",
                slots::INIT_THREAD_CNODE,
                Label::CNodeCopy as u64,
                &[copy, 64, frame, 64, 0xf],
                &[slots::INIT_THREAD_CNODE],
            )?;
            let va = IMAGE_BASE + 4096 * i as u64;
            self.ok("Page_Map (image)", copy, arch(ArchLabel::PageMap), &[va, RIGHTS_RW, ATTR_DEFAULT], &[vspace])?;
        }
        let stack = self.retype(ObjectKind::Frame { size_bits: 12 }, 0)?;
        self.ok(
            "Page_Map (stack)",
            stack,
            arch(ArchLabel::PageMap),
            &[STACK_PAGE, RIGHTS_RW, ATTR_DEFAULT | ATTR_EXECUTE_NEVER],
            &[vspace],
        )?;
        let tcb = self.retype(ObjectKind::Tcb, 0)?;
        let sc = self.retype(ObjectKind::SchedContext, 8)?;
        // MCS TCB_Configure: cspace data, vspace data, buffer (none); cspace, vspace, frame.
        self.ok(
            "TCB_Configure",
            tcb,
            Label::TCBConfigure as u64,
            &[0, 0, 0],
            &[slots::INIT_THREAD_CNODE, vspace, slots::NULL],
        )?;
        self.ok(
            "SchedControl_ConfigureFlags",
            self.bi.schedcontrol.start,
            Label::SchedControlConfigureFlags as u64,
            &[5_000, 5_000, 0, 0, 0],
            &[sc],
        )?;
        self.ok(
            "TCB_SetSchedParams",
            tcb,
            Label::TCBSetSchedParams as u64,
            &[255, 255],
            &[slots::INIT_THREAD_TCB, sc, fault_ep],
        )?;
        if fpu == Fpu::Disabled {
            // TCB_SetFlags(clear, set): set seL4_TCBFlag_fpuDisabled (bit 0).
            self.ok("TCB_SetFlags", tcb, Label::TCBSetFlags as u64, &[0, 1], &[])?;
        }
        // seL4_UserContext order: pc, sp, spsr, x0; resume the thread.
        let entry_pc = entry as usize as u64;
        self.ok(
            "TCB_WriteRegisters",
            tcb,
            Label::TCBWriteRegisters as u64,
            &[1, 4, entry_pc, STACK_PAGE + 4096, 0, arg],
            &[],
        )?;
        Ok(tcb)
    }
}

/// `seL4_Recv(ep)` with reply object `reply`: the message label and MR0..MR3.
pub fn recv(ep: u64, reply: u64) -> Received {
    let (info, mr) = raw_recv(ep, reply);
    Received {
        label: MessageInfo::from_word(info).label,
        mr,
    }
}

/// `seL4_DebugCapIdentify(cap)`: the kernel's cap-type tag.
pub fn cap_identify(cap: u64) -> u64 {
    raw_syscall_cap(cap, SYS_DEBUG_CAP_IDENTIFY)
}

#[cfg(target_arch = "aarch64")]
fn raw_call(cap: u64, info: u64, mr: [u64; 4]) -> (u64, [u64; 4]) {
    let (i, m0, m1, m2, m3): (u64, u64, u64, u64, u64);
    // SAFETY: a syscall trap; the kernel writes only x0..x5 (declared as outputs) and
    // preserves every other register.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") cap => _,
            inout("x1") info => i,
            inout("x2") mr[0] => m0,
            inout("x3") mr[1] => m1,
            inout("x4") mr[2] => m2,
            inout("x5") mr[3] => m3,
            in("x6") 0u64,
            in("x7") SYS_CALL,
            options(nostack)
        )
    };
    (i, [m0, m1, m2, m3])
}

#[cfg(target_arch = "aarch64")]
fn raw_recv(ep: u64, reply: u64) -> (u64, [u64; 4]) {
    let (i, m0, m1, m2, m3): (u64, u64, u64, u64, u64);
    // SAFETY: as in `raw_call`.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") ep => _,
            lateout("x1") i,
            lateout("x2") m0,
            lateout("x3") m1,
            lateout("x4") m2,
            lateout("x5") m3,
            in("x6") reply,
            in("x7") SYS_RECV,
            options(nostack)
        )
    };
    (i, [m0, m1, m2, m3])
}

#[cfg(target_arch = "aarch64")]
fn raw_syscall_cap(cap: u64, no: i64) -> u64 {
    let out: u64;
    // SAFETY: as in `raw_call`.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") cap => out,
            lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            in("x7") no,
            options(nostack)
        )
    };
    out
}

/// Host stand-ins (the tasks are only meaningful on target).
#[cfg(not(target_arch = "aarch64"))]
fn raw_call(_cap: u64, info: u64, mr: [u64; 4]) -> (u64, [u64; 4]) {
    (info, mr)
}
#[cfg(not(target_arch = "aarch64"))]
fn raw_recv(_ep: u64, _reply: u64) -> (u64, [u64; 4]) {
    (0, [0; 4])
}
#[cfg(not(target_arch = "aarch64"))]
fn raw_syscall_cap(_cap: u64, _no: i64) -> u64 {
    0
}
