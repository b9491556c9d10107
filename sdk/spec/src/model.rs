//! The spec data model.

use alloc::string::String;
use alloc::vec::Vec;

/// Index of an object in [`Spec::objects`].
pub type ObjId = u32;

/// Target architecture of a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Arch {
    /// AArch64.
    Aarch64 = 0,
    /// RISC-V 64 (Sv39).
    Riscv64 = 1,
    /// x86_64.
    X86_64 = 2,
}

/// Interrupt trigger mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Trigger {
    /// Level-triggered.
    Level = 0,
    /// Edge-triggered.
    Edge = 1,
}

/// Which interrupt an IRQ handler object stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqSource {
    /// ARM/RISC-V: interrupt number and trigger (`IRQControl_GetTrigger`).
    Plain {
        /// Interrupt number.
        irq: u64,
        /// Trigger mode.
        trigger: Trigger,
    },
    /// x86 I/O APIC pin (`IRQControl_GetIOAPIC`).
    IoApic {
        /// I/O APIC index.
        ioapic: u64,
        /// Pin.
        pin: u64,
        /// 1 = level-triggered.
        level: u64,
        /// 1 = active low.
        polarity: u64,
        /// Vector (offset from the kernel's first user vector).
        vector: u64,
    },
    /// x86 MSI (`IRQControl_GetMSI`).
    Msi {
        /// PCI bus.
        bus: u64,
        /// PCI device.
        dev: u64,
        /// PCI function.
        func: u64,
        /// MSI handle.
        handle: u64,
        /// Vector.
        vector: u64,
    },
}

/// A kernel object to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    /// Thread control block; its settings live in a [`Pd`].
    Tcb,
    /// Endpoint.
    Endpoint,
    /// Notification.
    Notification,
    /// Reply object (MCS).
    Reply,
    /// CNode with 2^`radix` slots.
    CNode {
        /// log2 of the number of slots (1..=28).
        radix: u8,
    },
    /// Scheduling context, configured with `SchedControl_ConfigureFlags`.
    SchedContext {
        /// log2 object size (7..=20).
        size_bits: u8,
        /// Budget in µs.
        budget: u64,
        /// Period in µs.
        period: u64,
        /// Extra refills.
        extra_refills: u64,
        /// Badge reported in timeout faults.
        badge: u64,
    },
    /// A frame of 2^`size_bits` bytes (12, 21 or 30), optionally at a fixed physical address
    /// (then carved from a device or RAM untyped covering it), filled from the data blob.
    Frame {
        /// 12, 21 or 30.
        size_bits: u8,
        /// Fixed physical address, if any.
        paddr: Option<u64>,
        /// Data copied into the frame (it is otherwise zero).
        fill: Vec<Fill>,
    },
    /// A VSpace root (aarch64 VSpace, riscv root page table, x86 PML4).
    VSpace,
    /// An IRQ handler for `source`, bound to `notification` with `badge` if given.
    Irq {
        /// Which interrupt.
        source: IrqSource,
        /// (notification object, badge) the IRQ signals.
        notification: Option<(ObjId, u64)>,
    },
    /// x86 I/O port range `first..=last`.
    IoPort {
        /// First port.
        first: u16,
        /// Last port (inclusive).
        last: u16,
    },
    /// The Arm SMC cap (aarch64): a copy of the root task's `seL4_CapSMC`, unbadged (any
    /// function id), as Microkit gives PDs with `smc="true"`.
    ArmSmc,
}

/// One named object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// Name for logs and reports.
    pub name: String,
    /// What to create.
    pub kind: ObjectKind,
}

/// Bytes `data[data_offset .. data_offset + len]` copied to `frame_offset` in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// Destination offset within the frame.
    pub frame_offset: u64,
    /// Source offset within the data blob.
    pub data_offset: u64,
    /// Number of bytes.
    pub len: u64,
}

/// `seL4_CapRights` bits.
pub mod rights {
    /// Write.
    pub const WRITE: u8 = 1;
    /// Read.
    pub const READ: u8 = 2;
    /// Grant.
    pub const GRANT: u8 = 4;
    /// GrantReply.
    pub const GRANT_REPLY: u8 = 8;
    /// All four rights.
    pub const ALL: u8 = 15;
}

/// A capability to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    /// The object.
    pub object: ObjId,
    /// [`rights`] bits.
    pub rights: u8,
    /// Badge (endpoints, notifications) or CNode guard size (CNode caps); 0 = none.
    pub badge: u64,
}

/// A cap to place in slot `slot` of CNode `cnode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapSlot {
    /// The CNode object.
    pub cnode: ObjId,
    /// The slot index (< 2^radix).
    pub slot: u64,
    /// The cap.
    pub cap: Cap,
}

/// Map `frame` at `vaddr` in `vspace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The VSpace object.
    pub vspace: ObjId,
    /// Virtual address (aligned to the frame size).
    pub vaddr: u64,
    /// The frame object.
    pub frame: ObjId,
    /// Read allowed.
    pub read: bool,
    /// Write allowed.
    pub write: bool,
    /// Execute allowed.
    pub execute: bool,
    /// Cacheable (else device memory).
    pub cached: bool,
}

/// A protection domain's thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pd {
    /// Name (for `DebugNameThread` and fault reports).
    pub name: String,
    /// TCB object.
    pub tcb: ObjId,
    /// CSpace root CNode object.
    pub cspace: ObjId,
    /// Guard size of the CSpace root cap (64 − radix makes plain slot numbers valid cptrs).
    pub cspace_guard_size: u8,
    /// VSpace object.
    pub vspace: ObjId,
    /// IPC buffer vaddr (1 KiB aligned) and the frame mapped there.
    pub ipc_buffer: (u64, ObjId),
    /// Scheduling context object.
    pub sc: Option<ObjId>,
    /// Notification bound to the TCB.
    pub bound_notification: Option<ObjId>,
    /// (endpoint object, badge) for faults.
    pub fault_ep: Option<(ObjId, u64)>,
    /// Priority (0..=254).
    pub priority: u8,
    /// Maximum controlled priority.
    pub mcp: u8,
    /// Entry point.
    pub entry: u64,
    /// Initial stack pointer.
    pub sp: u64,
    /// Passive: the SC is unbound once the PD reports `init` done.
    pub passive: bool,
    /// Scheduling domain (`DomainSet_Set`; 0 = the boot domain).
    pub domain: u8,
    /// Core the PD runs on (Microkit's `cpu`): its SC is configured through that core's
    /// SchedControl cap, passive PDs' too (the SC's core is where a client's call runs them).
    pub cpu: u8,
}

/// The kernel domain schedule the initialiser installs (seL4 15+ `DomainSet_Schedule*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainSchedule {
    /// `(domain, duration in timer ticks)` per entry; `(0, 0)` is an end marker.
    pub entries: Vec<(u8, u64)>,
    /// Kernel schedule index of `entries[0]`.
    pub shift: u64,
    /// Index into `entries` the schedule starts at.
    pub start: u64,
}

/// A whole system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Architecture the spec was built for.
    pub arch: Arch,
    /// Every object.
    pub objects: Vec<Object>,
    /// Caps to place in CNodes.
    pub caps: Vec<CapSlot>,
    /// Frame mappings.
    pub mappings: Vec<Mapping>,
    /// PD threads.
    pub pds: Vec<Pd>,
    /// Indices into `pds`, in start order.
    pub start_order: Vec<u32>,
    /// Endpoint the initialiser serves as monitor (badge = PD index + 1).
    pub fault_ep: Option<ObjId>,
    /// Frames the initialiser fills with a chunk of the kernel's extra boot information.
    pub bootinfo_fills: Vec<BootInfoFill>,
    /// Where the initialiser hands over the untyped memory left once the system is built.
    pub untyped_handoff: Option<UntypedHandoff>,
    /// IOMMU address spaces (x86 VT-d), one per PCI device.
    pub io_spaces: Vec<IoSpace>,
    /// Frames made visible to a device's DMA.
    pub io_mappings: Vec<IoMapping>,
    /// Variables that receive the physical address of a memory region the initialiser
    /// allocates (`setvar region_paddr` naming a region without a fixed `phys_addr`).
    pub paddr_vars: Vec<PaddrVar>,
    /// Domain schedule to install, if the system uses scheduling domains.
    pub domain_schedule: Option<DomainSchedule>,
    /// Virtual machines (`<virtual_machine>`, hypervisor kernels only). Carried for the
    /// initialiser, which does not build them yet (`docs/hyp.md`).
    pub vms: Vec<Vm>,
}

/// A guest of a hypervisor kernel: a `<virtual_machine>` of the PD `pds[pd]`, which manages
/// its vCPUs. Nothing here is an object yet: the VM's TCBs, SCs, vCPUs and stage-2 VSpace
/// are for the initialiser to create (the next step, `docs/hyp.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vm {
    /// Name.
    pub name: String,
    /// Index of the managing PD in [`Spec::pds`].
    pub pd: u32,
    /// Priority of the vCPU threads.
    pub priority: u8,
    /// Budget of each vCPU's scheduling context, in microseconds.
    pub budget: u64,
    /// Period, in microseconds.
    pub period: u64,
    /// The vCPUs (at least one, ids unique).
    pub vcpus: Vec<VmVcpu>,
    /// Guest-physical mappings of region frames.
    pub mappings: Vec<VmMapping>,
}

/// One `<vcpu>`: the id the managing PD uses for it and the core it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmVcpu {
    /// Id (the managing PD's vCPU and vCPU-TCB cap slots are numbered by it).
    pub id: u64,
    /// Core.
    pub cpu: u64,
}

/// Map `frame` at guest-physical address `gpa` in a VM's stage-2 address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmMapping {
    /// Guest-physical address (aligned to the frame size).
    pub gpa: u64,
    /// The frame object.
    pub frame: ObjId,
    /// Read allowed.
    pub read: bool,
    /// Write allowed.
    pub write: bool,
    /// Execute allowed.
    pub execute: bool,
    /// Cacheable (else device memory).
    pub cached: bool,
}

/// Frames (in order, contiguous in the PD's view) that receive the extra-boot-information
/// chunk with `seL4_BootInfoHeader` id `id`, header included, cut to the frames' total size.
/// Without such a chunk the frames stay zero (so the PD reads a header of length 0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfoFill {
    /// Chunk id (1..=6: x86 VBE, multiboot memory map, ACPI RSDP, framebuffer, TSC frequency, FDT).
    pub id: u64,
    /// The frames, in order.
    pub frames: Vec<ObjId>,
}

/// After every PD is configured and before any starts, the initialiser moves its untyped caps
/// into `cnode` at slots `first_slot..` and writes the description Microkit's
/// `receive_all_untypeds` PDs read into `frames` (see [`crate::microkit`]): word 0 `cptr`,
/// words 1–2 the slot range, then one 16-byte `seL4_UntypedDesc` per slot of `cnode` from
/// slot 0 on (entries below `first_slot` are zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UntypedHandoff {
    /// The CNode receiving the untyped caps.
    pub cnode: ObjId,
    /// First slot given to an untyped.
    pub first_slot: u64,
    /// The CPtr the PD uses for `cnode` (written as the first word).
    pub cptr: u64,
    /// The frames of the description region, in order.
    pub frames: Vec<ObjId>,
}

/// The IOMMU address space of one PCI device: what the initialiser gets by minting
/// `seL4_CapIOSpace` with the device's requester id and `domain_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoSpace {
    /// Name for logs and reports.
    pub name: String,
    /// PCI bus (0..=255).
    pub bus: u8,
    /// PCI device (0..=31).
    pub dev: u8,
    /// PCI function (0..=7).
    pub func: u8,
    /// IOMMU domain id (non-zero).
    pub domain_id: u16,
}

impl IoSpace {
    /// The PCI requester id (bus << 8 | dev << 3 | func).
    pub fn requester_id(&self) -> u16 {
        (u16::from(self.bus) << 8) | (u16::from(self.dev) << 3) | u16::from(self.func)
    }
}

/// Map 4 KiB `frame` at `iovaddr` in IO space `io_space` (`X86PageMapIO`); the IO page
/// tables on the way are implicit, like a VSpace's page tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoMapping {
    /// Index into [`Spec::io_spaces`].
    pub io_space: u32,
    /// IO virtual address (4 KiB aligned, below [`IOVA_END`]).
    pub iovaddr: u64,
    /// The frame object (4 KiB).
    pub frame: ObjId,
    /// The device may read.
    pub read: bool,
    /// The device may write.
    pub write: bool,
}

/// One past the highest IO virtual address (three levels of VT-d second-level tables).
pub const IOVA_END: u64 = 1 << 39;

/// A `u64` (little-endian) at `offset` in frame `frame` that the initialiser sets, before any
/// PD starts, to the physical address of frame `first`.
///
/// Frames `first .. first + count` (consecutive object ids, all of one size, none with a fixed
/// `paddr`) are one memory region: the initialiser allocates them physically contiguous, in
/// order, so the address is the region's base and the whole region lies behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaddrVar {
    /// First frame of the region.
    pub first: ObjId,
    /// Number of frames in the region (≥ 1).
    pub count: u32,
    /// Frame holding the variable (a PD's ELF page).
    pub frame: ObjId,
    /// Byte offset of the variable in that frame (the 8 bytes lie inside the frame).
    pub offset: u64,
}

impl ObjectKind {
    /// Short kind name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            ObjectKind::Tcb => "tcb",
            ObjectKind::Endpoint => "endpoint",
            ObjectKind::Notification => "notification",
            ObjectKind::Reply => "reply",
            ObjectKind::CNode { .. } => "cnode",
            ObjectKind::SchedContext { .. } => "sched_context",
            ObjectKind::Frame { .. } => "frame",
            ObjectKind::VSpace => "vspace",
            ObjectKind::Irq { .. } => "irq",
            ObjectKind::IoPort { .. } => "ioport",
            ObjectKind::ArmSmc => "arm_smc",
        }
    }
}
