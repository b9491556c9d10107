//! `seL4_Untyped_Retype` (seL4 `decodeUntypedInvocation` / `invokeUntyped_Retype`) and
//! object creation for every object type.

use kernel_hal::{Machine, PAddr};
use sel4_abi::object::{self as obj, ObjectKind};
use sel4_abi::{CapRights, Label, RETYPE_FAN_OUT_LIMIT};

use crate::cap::{Cap, PT_LEVEL_ANY, PT_LEVEL_IO};
use crate::cspace::{ensure_empty, lookup_target_slot};
use crate::error::{KResult, LookupFailure, SyscallError};
use crate::kernel::Kernel;
use crate::kmem;
use crate::mdb::{self, get_cap};
use crate::object::{Slot, Tcb};
use crate::preempt::{preemption_point, Preemptible, RESET_CHUNK_BITS, RESET_CHUNK_BYTES};
use crate::syscall::InvocationArgs;

/// A decoded retype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retype {
    /// The untyped cap's slot.
    pub untyped: Slot,
    /// Whether the untyped has no children (watermark reset, memory cleared).
    pub reset: bool,
    /// Address of the first object.
    pub first: PAddr,
    /// Object kind.
    pub kind: ObjectKind,
    /// User size argument.
    pub user_size: u64,
    /// log2 of each object's size.
    pub obj_bits: u32,
    /// First destination slot's CNode base address.
    pub cnode: PAddr,
    /// First destination slot index.
    pub offset: u64,
    /// Number of objects.
    pub count: u64,
    /// Device memory.
    pub device: bool,
}

/// Bytes per unit of the untyped watermark (`freeIndex`).
pub const FREE_INDEX_UNIT: u64 = 16;

/// Decode `seL4_Untyped_Retype`, with seL4's checks in seL4's order.
pub fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs) -> KResult<Retype> {
    let m = &k.machine;
    let Cap::Untyped {
        paddr,
        size_bits,
        free_index,
        is_device,
    } = a.cap
    else {
        return Err(SyscallError::InvalidCapability(0));
    };
    if Label::from_u64(a.label) != Some(Label::UntypedRetype) {
        return Err(SyscallError::IllegalOperation);
    }
    let Some((root_cap, _)) = a.extra.get(&k.machine, 0) else {
        return Err(SyscallError::TruncatedMessage);
    };
    if a.length < 6 {
        return Err(SyscallError::TruncatedMessage);
    }
    let new_type = k.arg(a, 0);
    let user_size = k.arg(a, 1);
    let node_index = k.arg(a, 2);
    let node_depth = k.arg(a, 3);
    let node_offset = k.arg(a, 4);
    let node_window = k.arg(a, 5);

    let Some(kind) = obj::object_type_in(k.arch, &k.config, new_type) else {
        return Err(SyscallError::InvalidArgument(0));
    };
    let max_bits = obj::max_untyped_bits(k.arch) as u64;
    let obj_bits = obj::object_size_bits_in(k.arch, &k.config, kind, user_size.min(64))
        .map(|b| b as u64)
        .unwrap_or(u64::MAX);
    if user_size >= 64 || obj_bits > max_bits {
        return Err(SyscallError::RangeError {
            min: 0,
            max: max_bits,
        });
    }
    let obj_bits = obj_bits as u32;
    if kind == ObjectKind::CNode && user_size == 0 {
        return Err(SyscallError::InvalidArgument(1));
    }
    if kind == ObjectKind::Untyped && user_size < obj::MIN_UNTYPED_BITS as u64 {
        return Err(SyscallError::InvalidArgument(1));
    }
    if kind == ObjectKind::SchedContext && user_size < obj::MIN_SCHED_CONTEXT_BITS as u64 {
        return Err(SyscallError::InvalidArgument(1));
    }

    let node_cap = if node_depth == 0 {
        root_cap
    } else {
        get_cap(m, lookup_target_slot(m, root_cap, node_index, node_depth)?)
    };
    let Cap::CNode {
        ptr: cnode, radix, ..
    } = node_cap
    else {
        return Err(SyscallError::FailedLookup {
            source: false,
            failure: LookupFailure::MissingCapability {
                bits_left: node_depth,
            },
        });
    };
    let node_size = 1u64 << radix;
    if node_offset > node_size - 1 {
        return Err(SyscallError::RangeError {
            min: 0,
            max: node_size - 1,
        });
    }
    if !(1..=RETYPE_FAN_OUT_LIMIT).contains(&node_window) {
        return Err(SyscallError::RangeError {
            min: 1,
            max: RETYPE_FAN_OUT_LIMIT,
        });
    }
    if node_window > node_size - node_offset {
        return Err(SyscallError::RangeError {
            min: 1,
            max: node_size - node_offset,
        });
    }
    for i in node_offset..node_offset + node_window {
        ensure_empty(m, Slot::at(cnode, i))?;
    }

    let reset = !mdb::has_children(m, a.slot);
    let used = if reset {
        0
    } else {
        free_index * FREE_INDEX_UNIT
    };
    let free_bytes = (1u64 << size_bits).saturating_sub(used);
    if (free_bytes >> obj_bits) < node_window {
        return Err(SyscallError::NotEnoughMemory(free_bytes));
    }
    let is_frame = matches!(kind, ObjectKind::Frame { .. });
    if is_device && !is_frame && kind != ObjectKind::Untyped {
        return Err(SyscallError::InvalidArgument(1));
    }
    let align = 1u64 << obj_bits;
    let first = (paddr + used + align - 1) & !(align - 1);
    Ok(Retype {
        untyped: a.slot,
        reset,
        first,
        kind,
        user_size,
        obj_bits,
        cnode,
        offset: node_offset,
        count: node_window,
        device: is_device,
    })
}

/// Perform a decoded retype: reset the untyped if it has no children (clearing the memory
/// below its watermark, with preemption points), then create the objects and insert their
/// caps as children of the untyped. Object creation itself is not preemptible (at most
/// `RETYPE_FAN_OUT_LIMIT` objects, none of which needs clearing).
pub fn invoke<M: Machine>(k: &mut Kernel<M>, r: &Retype) -> Preemptible {
    if r.reset {
        reset_untyped(k, r.untyped)?;
    }
    let Cap::Untyped {
        paddr,
        size_bits,
        is_device,
        ..
    } = get_cap(&k.machine, r.untyped)
    else {
        return Ok(());
    };
    let end = r.first + (r.count << r.obj_bits);
    mdb::set_cap(
        &k.machine,
        r.untyped,
        Cap::Untyped {
            paddr,
            size_bits,
            is_device,
            free_index: (end - paddr) / FREE_INDEX_UNIT,
        },
    );
    for i in 0..r.count {
        let addr = r.first + (i << r.obj_bits);
        let cap = create_object(k, r.kind, addr, r.user_size, r.device);
        mdb::insert_child(
            &k.machine,
            r.untyped,
            Slot::at(r.cnode, r.offset + i),
            cap,
            true,
            true,
        );
    }
    Ok(())
}

/// seL4 `resetUntypedCap`: clear the memory of the childless untyped in `slot` below its
/// watermark and move the watermark to 0. Non-device memory is cleared from the top down in
/// [`RESET_CHUNK_BYTES`] chunks, the watermark following each chunk, with a preemption point
/// after each; a preempted reset leaves a lower watermark over cleared memory, and the next
/// retype goes on from there. Device memory is not cleared. Memory above an untyped's
/// watermark is therefore always clear (boot untypeds start full, so their first retype
/// clears them), which is why [`create_object`] does not clear objects.
fn reset_untyped<M: Machine>(k: &mut Kernel<M>, slot: Slot) -> Preemptible {
    let Cap::Untyped {
        paddr,
        size_bits,
        is_device,
        free_index,
    } = get_cap(&k.machine, slot)
    else {
        return Ok(());
    };
    let used = free_index * FREE_INDEX_UNIT;
    if used == 0 {
        return Ok(());
    }
    let set_watermark = |k: &Kernel<M>, offset: u64| {
        mdb::set_cap(
            &k.machine,
            slot,
            Cap::Untyped {
                paddr,
                size_bits,
                is_device,
                free_index: offset / FREE_INDEX_UNIT,
            },
        )
    };
    if is_device || u32::from(size_bits) < RESET_CHUNK_BITS {
        if !is_device {
            kmem::zero(&k.machine, paddr, 1u64 << size_bits);
        }
        set_watermark(k, 0);
        return Ok(());
    }
    let mut offset = (used - 1) & !(RESET_CHUNK_BYTES - 1);
    loop {
        kmem::zero(&k.machine, paddr + offset, RESET_CHUNK_BYTES);
        set_watermark(k, offset);
        preemption_point(k)?;
        if offset == 0 {
            return Ok(());
        }
        offset -= RESET_CHUNK_BYTES;
    }
}

/// seL4 `createObject`: initialise the memory of one object at `addr` and return its cap.
/// Non-device memory is zeroed first.
pub fn create_object<M: Machine>(
    k: &mut Kernel<M>,
    kind: ObjectKind,
    addr: PAddr,
    user_size: u64,
    device: bool,
) -> Cap {
    // The memory is already clear (it lay above the untyped's watermark; see
    // `reset_untyped`); device memory is never cleared. The simulator checks the first.
    #[cfg(any(test, feature = "sim"))]
    if !device {
        let bits = obj::object_size_bits_in(k.arch, &k.config, kind, user_size)
            .unwrap_or(obj::PAGE_BITS);
        for off in (0..1u64 << bits).step_by(8) {
            assert_eq!(
                kmem::read_word(&k.machine, addr + off),
                0,
                "retype at {addr:#x}: memory above the watermark is not clear"
            );
        }
    }
    match kind {
        ObjectKind::Untyped => Cap::Untyped {
            paddr: addr,
            size_bits: user_size as u8,
            free_index: 0,
            is_device: device,
        },
        ObjectKind::Tcb => {
            let mut t = Tcb::<M::Context>::new();
            // seL4 `createObject`: a new TCB belongs to the current domain.
            t.domain = k.domains.cur;
            kmem::store(&k.machine, addr, &t);
            Cap::Thread { ptr: addr }
        }
        ObjectKind::Endpoint => Cap::Endpoint {
            ptr: addr,
            badge: 0,
            rights: CapRights::ALL,
        },
        ObjectKind::Notification => Cap::Notification {
            ptr: addr,
            badge: 0,
            rights: CapRights::RW,
        },
        ObjectKind::CNode => Cap::CNode {
            ptr: addr,
            radix: user_size as u8,
            guard_size: 0,
            guard: 0,
        },
        ObjectKind::SchedContext => {
            let sc = crate::object::SchedContext {
                size_bits: user_size,
                ..Default::default()
            };
            crate::sched::sc_store(k, addr, &sc);
            Cap::SchedContext {
                ptr: addr,
                size_bits: user_size as u8,
            }
        }
        ObjectKind::Reply => Cap::Reply {
            ptr: addr,
            can_grant: true,
        },
        ObjectKind::Frame { size_bits } => Cap::Frame {
            paddr: addr,
            size_bits,
            rights: CapRights::RW,
            device,
            mapped: None,
        },
        ObjectKind::PageTable => Cap::PageTable {
            paddr: addr,
            level: if k.arch == sel4_abi::Arch::X86_64 {
                3
            } else {
                PT_LEVEL_ANY
            },
            mapped: None,
        },
        ObjectKind::X86PageDirectory => Cap::PageTable {
            paddr: addr,
            level: 2,
            mapped: None,
        },
        ObjectKind::X86Pdpt => Cap::PageTable {
            paddr: addr,
            level: 1,
            mapped: None,
        },
        ObjectKind::IoPageTable => Cap::PageTable {
            paddr: addr,
            level: PT_LEVEL_IO,
            mapped: None,
        },
        ObjectKind::VSpace => {
            k.machine.init_vspace_root(addr);
            Cap::VSpace {
                paddr: addr,
                asid: None,
            }
        }
        // Zeroed memory: no bound TCB, every guest register 0.
        ObjectKind::ArmVcpu => Cap::Vcpu { ptr: addr },
    }
}
