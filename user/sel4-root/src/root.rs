//! The root task's resources and the operations built on them: retype into fresh slots,
//! map frames into the root VSpace (creating missing page tables), configure and start
//! threads that share the root task's address space.

use sel4_abi::bootinfo::slots;
use sel4_abi::object::object_size_bits;
use sel4_abi::{BootInfo, Error, ObjectKind};
use sel4_sys::abi::{object_type, ARCH};
use sel4_sys::invocation::default_vm_attributes;
use sel4_sys::{ops, CapRights};

use crate::alloc::{SlotAlloc, UntypedAlloc};
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

/// The root task's state: boot info and allocators.
pub struct Root {
    /// The boot info.
    pub bi: &'static BootInfo,
    /// Free slots of the root CNode.
    pub slots: SlotAlloc,
    /// RAM untypeds.
    pub untypeds: UntypedAlloc,
    /// Page tables (any level) created by [`Root::map_frame`].
    pub tables_created: u32,
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

impl Root {
    /// Checks the boot info and sets up the allocators.
    pub fn new(bi: &'static BootInfo) -> Result<Self, RootError> {
        check(bi)?;
        Ok(Root {
            bi,
            slots: SlotAlloc::new(bi.empty),
            untypeds: UntypedAlloc::new(bi),
            tables_created: 0,
        })
    }

    /// The SchedControl cap of node 0.
    pub fn sched_control(&self) -> u64 {
        self.bi.schedcontrol.start
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
        let ty = object_type(ARCH, kind).ok_or(RootError::NoSuchMethod)?;
        let obj_bits = object_size_bits(kind, user_bits).ok_or(RootError::NoSuchMethod)?;
        let slot = self.slots.alloc_range(count)?;
        let p = self.untypeds.alloc(obj_bits, count)?;
        ops::untyped_retype(p.untyped, ty, user_bits, CNODE, 0, 0, slot, count)?;
        Ok(slot)
    }

    /// Retypes one object of `kind` straight into `slot` from the untyped that the next
    /// object of that size would come from, without reserving anything (for error paths).
    pub fn retype_into(&mut self, kind: ObjectKind, slot: u64) -> Result<(), RootError> {
        let ty = object_type(ARCH, kind).ok_or(RootError::NoSuchMethod)?;
        let obj_bits = object_size_bits(kind, 0).ok_or(RootError::NoSuchMethod)?;
        let p = self.untypeds.clone().alloc(obj_bits, 1)?;
        ops::untyped_retype(p.untyped, ty, 0, CNODE, 0, 0, slot, 1)?;
        Ok(())
    }

    /// Maps `frame` (4 KiB) at `vaddr` in the root VSpace with `rights`, first creating each
    /// paging level the kernel reports missing (FailedLookup, MissingCapability bitsLeft).
    pub fn map_frame(
        &mut self,
        frame: u64,
        vaddr: u64,
        rights: CapRights,
    ) -> Result<(), RootError> {
        let attr = default_vm_attributes(ARCH);
        for _ in 0..4 {
            match ops::page_map(frame, VSPACE, vaddr, rights, attr) {
                Ok(()) => return Ok(()),
                Err(ops::InvokeError::Kernel {
                    error: Error::FailedLookup,
                    ..
                }) => {
                    // MR0 = source flag, MR1 = lookup failure type, MR2 = bits left.
                    let bits_left = sel4_sys::get_mr(2);
                    let kind = missing_table(ARCH, bits_left).ok_or(RootError::Unexpected {
                        what: "page map lookup failure bitsLeft",
                        got: bits_left,
                        want: 21,
                    })?;
                    let table = self.retype(kind, 0, 1)?;
                    let base = vaddr & !((1u64 << table_span_bits(kind)) - 1);
                    match kind {
                        ObjectKind::X86Pdpt => ops::pdpt_map(table, VSPACE, base, attr)?,
                        ObjectKind::X86PageDirectory => {
                            ops::page_directory_map(table, VSPACE, base, attr)?
                        }
                        _ => ops::page_table_map(table, VSPACE, base, attr)?,
                    }
                    self.tables_created += 1;
                }
                Err(e) => return Err(e.into()),
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

    /// Starts `tcb` at `entry(arg)` on the stack ending at `stack_top` (WriteRegisters with
    /// resume), in the root task's address space (same RISC-V `gp`).
    pub fn start_thread(
        &mut self,
        tcb: u64,
        entry: extern "C" fn(u64) -> !,
        stack_top: u64,
        arg: u64,
    ) -> Result<(), RootError> {
        let regs = start_regs(
            ARCH,
            entry as usize as u64,
            stack_top,
            arg,
            crate::rt::global_pointer(),
        );
        ops::tcb_write_registers(tcb, true, 0, regs.as_slice())?;
        Ok(())
    }
}

/// Mints `src` (a root-CNode slot) into slot `index` of the CNode at root slot `cnode`
/// whose radix is `depth` bits, with `rights` and `badge`.
pub fn mint_into(
    cnode: u64,
    index: u64,
    depth: u8,
    src: u64,
    rights: CapRights,
    badge: u64,
) -> Result<(), RootError> {
    ops::cnode_mint(cnode, index, depth, CNODE, src, DEPTH, rights, badge)?;
    Ok(())
}
