//! Object types (`seL4_ObjectType`) per arch and object sizes (MCS, seL4 16.0.0).

use crate::config::KernelConfig;
use crate::label::Arch;

/// What a `seL4_ObjectType` number means on one arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `seL4_UntypedObject` (0).
    Untyped,
    /// `seL4_TCBObject` (1).
    Tcb,
    /// `seL4_EndpointObject` (2).
    Endpoint,
    /// `seL4_NotificationObject` (3).
    Notification,
    /// `seL4_CapTableObject` (4).
    CNode,
    /// `seL4_SchedContextObject` (5, MCS).
    SchedContext,
    /// `seL4_ReplyObject` (6, MCS).
    Reply,
    /// A frame of `2^size_bits` bytes (small/large/huge page).
    Frame {
        /// log2 of the frame size (12, 21 or 30).
        size_bits: u8,
    },
    /// A page table below the root (aarch64 PageTable, riscv PageTable — also usable as a
    /// riscv VSpace root —, x86 PageTable).
    PageTable,
    /// A VSpace root that is its own type (aarch64 VSpace object, x86_64 PML4).
    VSpace,
    /// x86_64 page-directory-pointer table.
    X86Pdpt,
    /// x86_64 page directory.
    X86PageDirectory,
    /// x86 IOMMU page table (IOMMU on).
    IoPageTable,
    /// `seL4_ARM_VCPUObject` (aarch64 with `CONFIG_ARM_HYPERVISOR_SUPPORT` only, type 12).
    ArmVcpu,
}

/// Type number of `seL4_ARM_VCPUObject` in an aarch64 kernel with hypervisor support (the
/// first number after the plain aarch64 types).
pub const ARM_VCPU_OBJECT: u64 = 12;
/// `seL4_VCPUBits` (`seL4_ARM_VCPUBits`).
pub const VCPU_BITS: u32 = 12;

/// Number of non-arch object types (MCS): Untyped..Reply.
pub const NON_ARCH_OBJECT_TYPE_COUNT: u64 = 7;

/// Object types of `arch`, indexed by number from 0 (`seL4_ObjectTypeCount` = length).
pub const fn object_types(arch: Arch) -> &'static [ObjectKind] {
    use ObjectKind::*;
    match arch {
        Arch::Aarch64 => &[
            Untyped,
            Tcb,
            Endpoint,
            Notification,
            CNode,
            SchedContext,
            Reply,
            Frame { size_bits: 30 }, // ARM_HugePage
            VSpace,                  // ARM_VSpaceObject
            Frame { size_bits: 12 }, // ARM_SmallPage
            Frame { size_bits: 21 }, // ARM_LargePage
            PageTable,               // ARM_PageTableObject
        ],
        Arch::Riscv64 => &[
            Untyped,
            Tcb,
            Endpoint,
            Notification,
            CNode,
            SchedContext,
            Reply,
            Frame { size_bits: 30 }, // RISCV_Giga_Page
            Frame { size_bits: 12 }, // RISCV_4K_Page
            Frame { size_bits: 21 }, // RISCV_Mega_Page
            PageTable,               // RISCV_PageTableObject
        ],
        Arch::X86_64 => &[
            Untyped,
            Tcb,
            Endpoint,
            Notification,
            CNode,
            SchedContext,
            Reply,
            X86Pdpt,                 // X86_PDPTObject
            VSpace,                  // X64_PML4Object
            Frame { size_bits: 30 }, // X64_HugePage
            Frame { size_bits: 12 }, // X86_4K
            Frame { size_bits: 21 }, // X86_LargePage
            PageTable,               // X86_PageTableObject
            X86PageDirectory,        // X86_PageDirectoryObject
            IoPageTable,             // X86_IOPageTableObject
        ],
    }
}

/// The object kind of type number `n` on `arch` in a kernel built with `config`: without
/// `CONFIG_IOMMU`, x86_64 has no `seL4_X86_IOPageTableObject` (the last type, so no other
/// number moves).
pub fn object_type_in(arch: Arch, config: &KernelConfig, n: u64) -> Option<ObjectKind> {
    if arch == Arch::Aarch64 && config.hypervisor && n == ARM_VCPU_OBJECT {
        return Some(ObjectKind::ArmVcpu);
    }
    match object_type(arch, n)? {
        ObjectKind::IoPageTable if !config.iommu => None,
        k => Some(k),
    }
}

/// `seL4_ObjectTypeCount` on `arch` in a kernel built with `config`.
pub fn object_type_count_in(arch: Arch, config: &KernelConfig) -> u64 {
    match arch {
        Arch::X86_64 if !config.iommu => object_type_count(arch) - 1,
        Arch::Aarch64 if config.hypervisor => object_type_count(arch) + 1,
        _ => object_type_count(arch),
    }
}

/// `seL4_ObjectTypeCount` on `arch` (seL4's default options: x86_64 with the IOMMU).
pub const fn object_type_count(arch: Arch) -> u64 {
    object_types(arch).len() as u64
}

/// The object kind of type number `n` on `arch`.
pub fn object_type(arch: Arch, n: u64) -> Option<ObjectKind> {
    object_types(arch).get(usize::try_from(n).ok()?).copied()
}

/// The type number of `kind` on `arch`, if that arch has it.
pub fn object_type_number(arch: Arch, kind: ObjectKind) -> Option<u64> {
    object_types(arch)
        .iter()
        .position(|k| *k == kind)
        .map(|i| i as u64)
}

/// `seL4_TCBBits` (all three arches, default configs).
pub const TCB_BITS: u32 = 11;
/// `seL4_EndpointBits`.
pub const ENDPOINT_BITS: u32 = 4;
/// `seL4_NotificationBits` (MCS).
pub const NOTIFICATION_BITS: u32 = 6;
/// `seL4_ReplyBits` (MCS).
pub const REPLY_BITS: u32 = 5;
/// `seL4_MinSchedContextBits`.
pub const MIN_SCHED_CONTEXT_BITS: u32 = 7;
/// `seL4_SlotBits`: one CNode slot is 32 bytes.
pub const SLOT_BITS: u32 = 5;
/// `seL4_PageBits`.
pub const PAGE_BITS: u32 = 12;
/// `seL4_LargePageBits`.
pub const LARGE_PAGE_BITS: u32 = 21;
/// `seL4_HugePageBits`.
pub const HUGE_PAGE_BITS: u32 = 30;
/// `seL4_PageTableBits` (and VSpaceBits, PML4/PDPT/PD bits).
pub const PAGE_TABLE_BITS: u32 = 12;
/// `seL4_PageTableIndexBits`.
pub const PAGE_TABLE_INDEX_BITS: u32 = 9;
/// `seL4_VSpaceBits` (without hypervisor support; see [`vspace_bits`]).
pub const VSPACE_BITS: u32 = 12;
/// `seL4_VSpaceBits` of an aarch64 kernel with `CONFIG_ARM_HYPERVISOR_SUPPORT`: the VSpace is
/// a stage-2 root for a 40-bit IPA, which starts at level 1 with 1024 entries (two
/// concatenated 4 KiB tables).
pub const HYP_VSPACE_BITS: u32 = 13;
/// `seL4_UserTop` + 1 of an aarch64 kernel with hypervisor support (40-bit IPA).
pub const HYP_USER_TOP: u64 = 1 << 40;

/// `seL4_VSpaceBits` on `arch` in a kernel built with `config`.
pub const fn vspace_bits(arch: Arch, config: &KernelConfig) -> u32 {
    match arch {
        Arch::Aarch64 if config.hypervisor => HYP_VSPACE_BITS,
        _ => VSPACE_BITS,
    }
}

/// [`object_size_bits`] in a kernel built with `config` (the VSpace object is larger with
/// aarch64 hypervisor support).
pub fn object_size_bits_in(
    arch: Arch,
    config: &KernelConfig,
    kind: ObjectKind,
    user_bits: u64,
) -> Option<u32> {
    match kind {
        ObjectKind::VSpace => Some(vspace_bits(arch, config)),
        _ => object_size_bits(kind, user_bits),
    }
}
/// `seL4_ASIDPoolBits`.
pub const ASID_POOL_BITS: u32 = 12;
/// `seL4_ASIDPoolIndexBits`.
pub const ASID_POOL_INDEX_BITS: u32 = 9;
/// `seL4_IOPageTableBits`.
pub const IO_PAGE_TABLE_BITS: u32 = 12;
/// `seL4_MinUntypedBits`.
pub const MIN_UNTYPED_BITS: u32 = 4;
/// `seL4_IPCBufferSizeBits`.
pub const IPC_BUFFER_SIZE_BITS: u32 = 10;
/// Bytes per refill in a scheduling context.
pub const REFILL_BYTES: u64 = 16;
/// Bytes of a scheduling context's core (10 words + 48 bytes).
pub const SCHED_CONTEXT_CORE_BYTES: u64 = 128;

/// Refills held by a scheduling context of `2^size_bits` bytes: `2 + (2^n − 128)/16`.
pub const fn sched_context_refills(size_bits: u32) -> u64 {
    2 + ((1u64 << size_bits) - SCHED_CONTEXT_CORE_BYTES) / REFILL_BYTES
}

/// `seL4_NumASIDPoolsBits` on `arch`.
pub const fn num_asid_pools_bits(arch: Arch) -> u32 {
    match arch {
        Arch::X86_64 => 3,
        _ => 7,
    }
}

/// `seL4_MaxUntypedBits` on `arch`.
pub const fn max_untyped_bits(arch: Arch) -> u32 {
    match arch {
        Arch::Riscv64 => 38,
        _ => 47,
    }
}

/// First user virtual address that is not usable (exclusive top of user space).
pub const fn user_top(arch: Arch) -> u64 {
    match arch {
        Arch::Aarch64 => 0x0000_8000_0000_0000,
        Arch::Riscv64 => 0x0000_003f_ffff_f000,
        Arch::X86_64 => 0x0000_7fff_ffff_f000,
    }
}

/// log2 of the size in bytes of an object of `kind` with user size argument `user_bits`
/// (only meaningful for Untyped, CNode and SchedContext), or `None` for a size that can never
/// fit in a word.
pub fn object_size_bits(kind: ObjectKind, user_bits: u64) -> Option<u32> {
    Some(match kind {
        ObjectKind::Untyped | ObjectKind::SchedContext => u32::try_from(user_bits).ok()?,
        ObjectKind::CNode => u32::try_from(user_bits).ok()?.checked_add(SLOT_BITS)?,
        ObjectKind::Tcb => TCB_BITS,
        ObjectKind::Endpoint => ENDPOINT_BITS,
        ObjectKind::Notification => NOTIFICATION_BITS,
        ObjectKind::Reply => REPLY_BITS,
        ObjectKind::Frame { size_bits } => size_bits as u32,
        ObjectKind::PageTable
        | ObjectKind::VSpace
        | ObjectKind::X86Pdpt
        | ObjectKind::X86PageDirectory
        | ObjectKind::IoPageTable => PAGE_TABLE_BITS,
        ObjectKind::ArmVcpu => VCPU_BITS,
    })
}
