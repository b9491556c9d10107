//! The root task's resources and the operations built on them: retype into fresh slots,
//! map frames into the root VSpace (creating missing page tables), start threads that share
//! the root task's address space.
//!
//! Invocations go through an [`Invoker`]: [`Sel4`] performs them with `seL4_Call` on the
//! running kernel; a host test drives the same code against the kernel core's simulator.

use sel4_abi::bootinfo::slots;
use sel4_abi::{Arch, BootInfo, Error, ObjectKind};
use sel4_sys::abi::{object_size_bits, object_type};
use sel4_sys::invocation::{self as inv, default_vm_attributes, Invocation};
use sel4_sys::ops::InvokeError;
use sel4_sys::{CapRights, MessageInfo};

use crate::alloc::{Placement, SlotAlloc, UntypedAlloc};
use crate::bootinfo::check;
use crate::error::RootError;
use crate::thread::{missing_table, start_regs, table_span_bits};

/// The root CNode (slot 2), also a valid CPtr at depth 64.
pub const CNODE: u64 = slots::INIT_THREAD_CNODE;
/// The root VSpace (slot 3).
pub const VSPACE: u64 = slots::INIT_THREAD_VSPACE;
/// The root TCB (slot 1).
pub const TCB: u64 = slots::INIT_THREAD_TCB;
/// Depth of a CPtr into the root CNode.
pub const DEPTH: u8 = 64;
/// Size of a small page.
pub const PAGE: u64 = 4096;

/// Performs an encoded invocation on a cap and gives access to the reply's message registers.
pub trait Invoker {
    /// `seL4_Call` of `inv` on `cap`: the reply info (label 0) or the error.
    fn invoke(&mut self, cap: u64, inv: &Invocation) -> Result<MessageInfo, InvokeError>;
    /// Message register `i` of the last reply.
    fn mr(&self, i: usize) -> u64;
}

/// The running kernel, through `sel4_sys` (the root task's IPC buffer).
pub struct Sel4;

impl Invoker for Sel4 {
    fn invoke(&mut self, cap: u64, inv: &Invocation) -> Result<MessageInfo, InvokeError> {
        sel4_sys::ops::invoke(cap, inv)
    }
    fn mr(&self, i: usize) -> u64 {
        sel4_sys::get_mr(i)
    }
}

/// The root task's state: allocators and the invoker.
pub struct Root<I: Invoker> {
    /// How invocations are performed.
    pub invoker: I,
    /// The architecture (object types, labels, VM attributes).
    pub arch: Arch,
    /// Free slots of the root CNode.
    pub slots: SlotAlloc,
    /// RAM untypeds.
    pub untypeds: UntypedAlloc,
    /// The SchedControl cap of node 0.
    pub sched_control: u64,
    /// Page tables (any level) created by [`Root::map_frame`].
    pub tables_created: u32,
    /// Where the last [`Root::retype`] put its objects.
    pub last_placement: Option<Placement>,
}

/// Memory for a thread in the root VSpace: stack and IPC buffer.
#[derive(Clone, Copy, Debug)]
pub struct ThreadMemory {
    /// First stack frame's slot (the frames are consecutive).
    pub stack_frames: u64,
    /// Highest stack address (exclusive).
    pub stack_top: u64,
    /// IPC buffer frame slot.
    pub ipc_frame: u64,
    /// IPC buffer vaddr.
    pub ipc_vaddr: u64,
}

impl<I: Invoker> Root<I> {
    /// Checks the boot info and sets up the allocators.
    pub fn new(bi: &BootInfo, arch: Arch, invoker: I) -> Result<Self, RootError> {
        check(bi)?;
        Ok(Root {
            invoker,
            arch,
            slots: SlotAlloc::new(bi.empty),
            untypeds: UntypedAlloc::new(bi),
            sched_control: bi.schedcontrol.start,
            tables_created: 0,
            last_placement: None,
        })
    }

    /// Performs `inv` on `cap`.
    pub fn invoke(&mut self, cap: u64, inv: &Invocation) -> Result<MessageInfo, RootError> {
        Ok(self.invoker.invoke(cap, inv)?)
    }

    fn unit(
        &mut self,
        cap: u64,
        inv: Result<Invocation, inv::NoSuchMethod>,
    ) -> Result<(), RootError> {
        let inv = inv.map_err(|_| RootError::NoSuchMethod)?;
        self.invoke(cap, &inv).map(|_| ())
    }

    /// Retypes `count` objects of `kind` (size argument `user_bits`: log2 slots for a CNode,
    /// log2 bytes for a SchedContext or Untyped, ignored otherwise) into fresh consecutive
    /// slots of the root CNode; returns the first slot.
    pub fn retype(
        &mut self,
        kind: ObjectKind,
        user_bits: u64,
        count: u64,
    ) -> Result<u64, RootError> {
        let ty = object_type(self.arch, kind).ok_or(RootError::NoSuchMethod)?;
        let obj_bits = object_size_bits(self.arch, kind, user_bits).ok_or(RootError::NoSuchMethod)?;
        let slot = self.slots.alloc_range(count)?;
        let p = self.untypeds.alloc(obj_bits, count)?;
        self.unit(
            p.untyped,
            Ok(inv::untyped_retype(ty, user_bits, CNODE, 0, 0, slot, count)),
        )?;
        self.last_placement = Some(p);
        Ok(slot)
    }

    /// Retypes one object of `kind` straight into `slot` from the untyped that the next
    /// object of that size would come from, without reserving anything (for error paths).
    pub fn retype_into(&mut self, kind: ObjectKind, slot: u64) -> Result<(), RootError> {
        let ty = object_type(self.arch, kind).ok_or(RootError::NoSuchMethod)?;
        let obj_bits = object_size_bits(self.arch, kind, 0).ok_or(RootError::NoSuchMethod)?;
        let p = self.untypeds.clone().alloc(obj_bits, 1)?;
        self.unit(
            p.untyped,
            Ok(inv::untyped_retype(ty, 0, CNODE, 0, 0, slot, 1)),
        )
    }

    /// Mints `src` (a root-CNode slot) into slot `index` of the CNode at root slot `cnode`
    /// (resolved with `depth` bits), with `rights` and `badge`.
    pub fn mint(
        &mut self,
        cnode: u64,
        index: u64,
        depth: u8,
        src: u64,
        rights: CapRights,
        badge: u64,
    ) -> Result<(), RootError> {
        self.unit(
            cnode,
            Ok(inv::cnode_mint(
                index, depth, CNODE, src, DEPTH, rights, badge,
            )),
        )
    }

    /// Maps `frame` (4 KiB) at `vaddr` in the root VSpace with `rights`, first creating each
    /// paging level the kernel reports missing (FailedLookup, MissingCapability bitsLeft).
    pub fn map_frame(
        &mut self,
        frame: u64,
        vaddr: u64,
        rights: CapRights,
    ) -> Result<(), RootError> {
        self.map_frame_in(VSPACE, frame, vaddr, rights)
    }

    /// [`Root::map_frame`] into the VSpace whose root is at slot `vspace`.
    pub fn map_frame_in(
        &mut self,
        vspace: u64,
        frame: u64,
        vaddr: u64,
        rights: CapRights,
    ) -> Result<(), RootError> {
        let (arch, attr) = (self.arch, default_vm_attributes(self.arch));
        for _ in 0..4 {
            match self.unit(frame, inv::page_map(arch, vspace, vaddr, rights, attr)) {
                Ok(()) => return Ok(()),
                Err(RootError::Kernel {
                    error: Error::FailedLookup,
                    ..
                }) => {
                    // MR0 = source flag, MR1 = lookup failure type, MR2 = bits left.
                    let bits_left = self.invoker.mr(2);
                    let kind = missing_table(arch, bits_left).ok_or(RootError::Unexpected {
                        what: "page map lookup failure bitsLeft",
                        got: bits_left,
                        want: 21,
                    })?;
                    let table = self.retype(kind, 0, 1)?;
                    let base = vaddr & !((1u64 << table_span_bits(kind)) - 1);
                    let map = match kind {
                        ObjectKind::X86Pdpt => inv::pdpt_map(arch, vspace, base, attr),
                        ObjectKind::X86PageDirectory => {
                            inv::page_directory_map(arch, vspace, base, attr)
                        }
                        _ => inv::page_table_map(arch, vspace, base, attr),
                    };
                    self.unit(table, map)?;
                    self.tables_created += 1;
                }
                Err(e) => return Err(e),
            }
        }
        Err(RootError::Unexpected {
            what: "page tables created without the map succeeding",
            got: 4,
            want: 3,
        })
    }

    /// Retypes and maps `stack_pages` stack frames from `base`, then (after one unmapped guard
    /// page) the IPC buffer frame, all read-write in the root VSpace.
    pub fn thread_memory(
        &mut self,
        base: u64,
        stack_pages: u64,
    ) -> Result<ThreadMemory, RootError> {
        let frame = ObjectKind::Frame { size_bits: 12 };
        let stack_frames = self.retype(frame, 0, stack_pages)?;
        for i in 0..stack_pages {
            self.map_frame(stack_frames + i, base + i * PAGE, CapRights::READ_WRITE)?;
        }
        let ipc_frame = self.retype(frame, 0, 1)?;
        let ipc_vaddr = base + (stack_pages + 1) * PAGE;
        self.map_frame(ipc_frame, ipc_vaddr, CapRights::READ_WRITE)?;
        Ok(ThreadMemory {
            stack_frames,
            stack_top: base + stack_pages * PAGE,
            ipc_frame,
            ipc_vaddr,
        })
    }

    /// `TCB_Configure` of `tcb` in the root VSpace, with CSpace root `cspace` (guard data
    /// `cspace_data`) and the IPC buffer of `mem`.
    pub fn configure_thread(
        &mut self,
        tcb: u64,
        cspace: u64,
        cspace_data: u64,
        mem: &ThreadMemory,
    ) -> Result<(), RootError> {
        let i = inv::tcb_configure(cspace, cspace_data, VSPACE, 0, mem.ipc_vaddr, mem.ipc_frame);
        self.unit(tcb, Ok(i))
    }

    /// Starts `tcb` at `pc` as `fn(arg)` on the stack ending at `stack_top`
    /// (`TCB_WriteRegisters` with resume); `gp` is the RISC-V global pointer.
    pub fn start_thread_at(
        &mut self,
        tcb: u64,
        pc: u64,
        stack_top: u64,
        arg: u64,
        gp: u64,
    ) -> Result<(), RootError> {
        let regs = start_regs(self.arch, pc, stack_top, arg, gp);
        self.unit(tcb, Ok(inv::tcb_write_registers(true, 0, regs.as_slice())))
    }
}

/// Whether a new thread may use the FPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fpu {
    /// The default.
    Enabled,
    /// `seL4_TCBFlag_fpuDisabled` set before it starts: its first FP instruction faults.
    Disabled,
}

/// A thread to start in an address space of its own ([`Root::spawn_in_own_vspace`]).
#[derive(Clone, Copy, Debug)]
pub struct Spawn {
    /// Entry point (an address in this program's image).
    pub pc: u64,
    /// Its argument.
    pub arg: u64,
    /// Fault endpoint (a root-CNode slot, or 0 for none).
    pub fault_ep: u64,
    /// Priority (and MCP).
    pub priority: u64,
    /// Budget and period of its round-robin scheduling context, µs.
    pub budget_us: u64,
    /// FPU access.
    pub fpu: Fpu,
    /// RISC-V global pointer (ignored elsewhere).
    pub gp: u64,
}

/// A thread started by [`Root::spawn_in_own_vspace`].
#[derive(Clone, Copy, Debug)]
pub struct Spawned {
    /// TCB slot.
    pub tcb: u64,
    /// VSpace root slot.
    pub vspace: u64,
    /// Image frames mapped in its VSpace.
    pub image_frames: u64,
    /// Its scheduling context's slot.
    pub sc: u64,
}

/// Where [`Root::spawn_in_own_vspace`] maps a thread's stack (below it: unmapped).
pub const SPAWN_STACK: u64 = 0x1000_0000;
/// Pages of that stack.
pub const SPAWN_STACK_PAGES: u64 = 4;

impl<I: Invoker> Root<I> {
    /// Starts a thread in a new VSpace with its own ASID that maps copies of this program's
    /// image frame caps (`bi.user_image_frames`, frame *i* at `image_base + 4096 i`: the
    /// same memory, so statics are shared) and a private stack at [`SPAWN_STACK`]; it shares
    /// the root CNode and has no IPC buffer.
    pub fn spawn_in_own_vspace(
        &mut self,
        bi: &BootInfo,
        image_base: u64,
        t: Spawn,
    ) -> Result<Spawned, RootError> {
        let arch = self.arch;
        let vspace = self.retype(ObjectKind::VSpace, 0, 1)?;
        self.unit(slots::INIT_THREAD_ASID_POOL, inv::asid_pool_assign(arch, vspace))?;
        let frames = bi.user_image_frames;
        let n = frames.end.saturating_sub(frames.start);
        for i in 0..n {
            let copy = self.slots.alloc()?;
            self.unit(
                CNODE,
                Ok(inv::cnode_copy(copy, DEPTH, CNODE, frames.start + i, DEPTH, CapRights::ALL)),
            )?;
            self.map_frame_in(vspace, copy, image_base + PAGE * i, CapRights::READ_WRITE)?;
        }
        let frame = ObjectKind::Frame { size_bits: 12 };
        let stack = self.retype(frame, 0, SPAWN_STACK_PAGES)?;
        for i in 0..SPAWN_STACK_PAGES {
            self.map_frame_in(vspace, stack + i, SPAWN_STACK + PAGE * i, CapRights::READ_WRITE)?;
        }
        let tcb = self.retype(ObjectKind::Tcb, 0, 1)?;
        let sc = self.retype(ObjectKind::SchedContext, 8, 1)?;
        self.unit(tcb, Ok(inv::tcb_configure(CNODE, 0, vspace, 0, 0, 0)))?;
        let ctl = self.sched_control;
        self.unit(
            ctl,
            Ok(inv::sched_control_configure_flags(sc, t.budget_us, t.budget_us, 0, 0, 0)),
        )?;
        self.unit(
            tcb,
            Ok(inv::tcb_set_sched_params(TCB, t.priority, t.priority, sc, t.fault_ep)),
        )?;
        if t.fpu == Fpu::Disabled {
            self.unit(tcb, Ok(inv::tcb_set_flags(0, inv::TCB_FLAG_FPU_DISABLED)))?;
        }
        let top = SPAWN_STACK + SPAWN_STACK_PAGES * PAGE;
        self.start_thread_at(tcb, t.pc, top, t.arg, t.gp)?;
        Ok(Spawned {
            tcb,
            vspace,
            image_frames: n,
            sc,
        })
    }
}

#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "x86_64"
))]
impl Root<Sel4> {
    /// [`Spawn`] for `entry(arg)` in this program at the root task's priority (255) with a
    /// 5 ms round-robin budget, no fault handler and the FPU enabled.
    pub fn spawn_spec(entry: extern "C" fn(u64) -> !, arg: u64) -> Spawn {
        Spawn {
            pc: entry as usize as u64,
            arg,
            fault_ep: 0,
            priority: 255,
            budget_us: 5_000,
            fpu: Fpu::Enabled,
            gp: crate::rt::global_pointer(),
        }
    }

    /// [`Root::spawn_in_own_vspace`] with this program's image (linked from
    /// `__text_start`).
    pub fn spawn(&mut self, bi: &BootInfo, t: Spawn) -> Result<Spawned, RootError> {
        let base = crate::rt::text_range().0 & !(PAGE - 1);
        self.spawn_in_own_vspace(bi, base, t)
    }

    /// Starts `tcb` at `entry(arg)` in this program (same address space and RISC-V `gp`).
    pub fn start_thread(
        &mut self,
        tcb: u64,
        entry: extern "C" fn(u64) -> !,
        stack_top: u64,
        arg: u64,
    ) -> Result<(), RootError> {
        self.start_thread_at(
            tcb,
            entry as usize as u64,
            stack_top,
            arg,
            crate::rt::global_pointer(),
        )
    }
}

/// First and last COM1 port.
pub const COM1: (u16, u16) = (0x3f8, 0x3ff);
/// COM1 line status register.
const COM1_LSR: u16 = COM1.0 + 5;
/// LSR bit: transmit holding register empty.
const LSR_THRE: u64 = 0x20;

impl<I: Invoker> Root<I> {
    /// x86: issues an I/O port cap for COM1 (`IOPortControl_Issue` on slot 7) into a fresh slot.
    pub fn issue_com1(&mut self) -> Result<u64, RootError> {
        let slot = self.slots.alloc()?;
        let i =
            inv::ioport_control_issue(self.arch, COM1.0 as u64, COM1.1 as u64, CNODE, slot, DEPTH);
        self.unit(slots::IO_PORT_CONTROL, i)?;
        Ok(slot)
    }

    /// x86: reads an 8-bit port through the I/O port cap `port_cap`.
    pub fn port_in8(&mut self, port_cap: u64, port: u16) -> Result<u64, RootError> {
        let i = inv::ioport_in(self.arch, 8, port).map_err(|_| RootError::NoSuchMethod)?;
        self.invoke(port_cap, &i)?;
        Ok(self.invoker.mr(0))
    }

    /// x86: writes `s` to COM1 through `port_cap`, polling LSR.THRE before each byte.
    pub fn com1_write(&mut self, port_cap: u64, s: &str) -> Result<(), RootError> {
        for b in s.bytes() {
            let mut ready = false;
            for _ in 0..100_000 {
                if self.port_in8(port_cap, COM1_LSR)? & LSR_THRE != 0 {
                    ready = true;
                    break;
                }
            }
            if !ready {
                return Err(RootError::Unexpected {
                    what: "COM1 never ready (LSR.THRE)",
                    got: 0,
                    want: LSR_THRE,
                });
            }
            self.unit(port_cap, inv::ioport_out(self.arch, 8, COM1.0, b as u32))?;
        }
        Ok(())
    }
}
