//! The typed system description produced by the parser.

use crate::config::Arch;
use crate::error::Loc;

/// A whole validated system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemDescription {
    /// The file name the description was parsed from (as given to [`crate::parse`]); with a
    /// [`Loc`] it makes the `file:line:col` of later stages' errors.
    pub file: String,
    /// All protection domains, flattened depth-first: each parent comes before its children.
    pub protection_domains: Vec<ProtectionDomain>,
    /// All memory regions in file order.
    pub memory_regions: Vec<MemoryRegion>,
    /// All channels in file order.
    pub channels: Vec<Channel>,
    /// IOMMU address spaces, one per PCI device: the `<io_address_space>` elements in file
    /// order, then one per further device named by a PD's `<iomap pcidev=...>`.
    pub io_address_spaces: Vec<IoAddressSpace>,
    /// Top-level `<cnode>` objects, in file order (shared through `<cap_cspace cnode_name>`).
    pub cnodes: Vec<CNodeDecl>,
    /// Non-fatal findings (e.g. a memory region that is never mapped).
    pub warnings: Vec<String>,
    /// Architecture the description was checked for.
    pub arch: Arch,
    /// Scheduling domains and their schedule, if the system declares any.
    pub domains: Option<crate::domains::Domains>,
}

impl SystemDescription {
    /// Index of the protection domain called `name`.
    pub fn pd_index(&self, name: &str) -> Option<usize> {
        self.protection_domains.iter().position(|p| p.name == name)
    }

    /// The memory region called `name`.
    pub fn memory_region(&self, name: &str) -> Option<&MemoryRegion> {
        self.memory_regions.iter().find(|m| m.name == name)
    }

    /// Index of the top-level `<cnode>` called `name`.
    pub fn cnode_index(&self, name: &str) -> Option<usize> {
        self.cnodes.iter().position(|c| c.name == name)
    }
}

/// A top-level `<cnode>`: a CNode object of 2^`size_bits` slots that the tool creates empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CNodeDecl {
    /// Unique name.
    pub name: String,
    /// log2 of the number of slots.
    pub size_bits: u8,
    /// Where the element is.
    pub loc: Loc,
}

/// What kind of cap a `<cspace>` child places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserCapKind {
    /// `<cap_tcb pd>`: the TCB of a PD.
    Tcb,
    /// `<cap_sc pd>`: the scheduling context of a PD.
    Sc,
    /// `<cap_vspace pd>`: the VSpace of a PD.
    VSpace,
    /// `<cap_cspace pd>`: the root CNode of a PD's CSpace.
    PdCSpace,
    /// `<cap_cspace cnode_name>`: a top-level `<cnode>`.
    CNode,
}

impl UserCapKind {
    /// The element name it is written as.
    pub fn element(self) -> &'static str {
        match self {
            UserCapKind::Tcb => "cap_tcb",
            UserCapKind::Sc => "cap_sc",
            UserCapKind::VSpace => "cap_vspace",
            UserCapKind::PdCSpace | UserCapKind::CNode => "cap_cspace",
        }
    }
}

/// One extra cap in a PD's `<cspace>`: `kind` of `target` placed at user slot `slot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCap {
    /// Slot of the PD's root CNode (1..=63; slot 0 holds Microkit's own CNode).
    pub slot: u64,
    /// Which cap.
    pub kind: UserCapKind,
    /// The PD (or, for [`UserCapKind::CNode`], the `<cnode>`) the cap refers to; validated to
    /// exist, so [`SystemDescription::pd_index`] / [`SystemDescription::cnode_index`] find it.
    pub target: String,
    /// Where the element is.
    pub loc: Loc,
}

/// Mapping permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl std::fmt::Display for Perms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = if self.read { "r" } else { "-" };
        let w = if self.write { "w" } else { "-" };
        let x = if self.execute { "x" } else { "-" };
        write!(f, "{r}{w}{x}")
    }
}

/// A `<map>` of a memory region into a PD or VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    /// Name of the mapped memory region.
    pub mr: String,
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Permissions (default `rw`).
    pub perms: Perms,
    /// Cacheable (default true).
    pub cached: bool,
    /// Where the element is.
    pub loc: Loc,
}

/// IRQ trigger mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Level-triggered (the default).
    Level,
    /// Edge-triggered.
    Edge,
}

/// x86 IOAPIC pin polarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Active low.
    Low,
    /// Active high (the default).
    High,
}

/// The hardware source of an interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IrqSource {
    /// Arm GIC / RISC-V PLIC interrupt number.
    Line { irq: u64, trigger: Trigger },
    /// x86 IOAPIC pin routed to a CPU vector.
    IoApic {
        ioapic: u64,
        pin: u64,
        trigger: Trigger,
        polarity: Polarity,
        vector: u64,
    },
    /// x86 MSI from a PCI function routed to a CPU vector.
    Msi {
        bus: u64,
        device: u64,
        function: u64,
        handle: u64,
        vector: u64,
    },
}

impl std::fmt::Display for IrqSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IrqSource::Line { irq, .. } => write!(f, "{irq}"),
            IrqSource::IoApic { ioapic, pin, .. } => write!(f, "ioapic {ioapic} pin {pin}"),
            IrqSource::Msi {
                bus,
                device,
                function,
                handle,
                ..
            } => write!(f, "msi {bus}:{device}.{function} handle {handle}"),
        }
    }
}

/// An `<irq>` delivered to a PD as a notification on channel `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Irq {
    /// Channel id the PD sees.
    pub id: u64,
    /// Hardware source.
    pub source: IrqSource,
    /// Where the element is.
    pub loc: Loc,
}

/// What a setvar symbol is patched with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetVarKind {
    /// The vaddr of a mapping (`map setvar_vaddr`).
    Vaddr { vaddr: u64 },
    /// The size of a mapped region (`map setvar_size`).
    Size { mr: String },
    /// The size of a region's prefill data (`map setvar_prefill_size`).
    PrefillSize { mr: String },
    /// The physical address of a region (`setvar region_paddr`).
    PhysAddr { mr: String },
    /// An IRQ channel id (`irq setvar_id`), an I/O port id (`ioport setvar_id`), a child PD
    /// id (`protection_domain setvar_id`) or a channel id (`end setvar_id`, set in that end's
    /// PD).
    Id { id: u64 },
    /// The first port of an x86 I/O port range (`ioport setvar_addr`).
    IoPortAddr { addr: u64 },
}

/// A symbol in the PD's ELF that the tool overwrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVar {
    /// Symbol name.
    pub symbol: String,
    /// Value source.
    pub kind: SetVarKind,
    /// Where it was requested.
    pub loc: Loc,
}

/// An x86 `<ioport>` range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoPort {
    /// Id the PD uses for it.
    pub id: u64,
    /// First port.
    pub addr: u64,
    /// Number of ports.
    pub size: u64,
    /// Where the element is.
    pub loc: Loc,
}

/// A `<vcpu>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vcpu {
    /// Id the owning PD uses for it.
    pub id: u64,
    /// CPU it runs on.
    pub cpu: u64,
}

/// A `<virtual_machine>` owned by a PD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualMachine {
    /// Name.
    pub name: String,
    /// Priority 0..=254.
    pub priority: u8,
    /// Budget in microseconds.
    pub budget: u64,
    /// Period in microseconds.
    pub period: u64,
    /// vCPUs.
    pub vcpus: Vec<Vcpu>,
    /// Guest-physical mappings.
    pub maps: Vec<Map>,
    /// Where the element is.
    pub loc: Loc,
}

/// A `<protection_domain>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectionDomain {
    /// Unique name.
    pub name: String,
    /// Priority 0..=254 (default 0).
    pub priority: u8,
    /// Budget in microseconds (default 1000).
    pub budget: u64,
    /// Period in microseconds (default = budget).
    pub period: u64,
    /// Passive: gives up its scheduling context after `init`.
    pub passive: bool,
    /// Stack size in bytes.
    pub stack_size: u64,
    /// CPU it runs on.
    pub cpu: u64,
    /// May make Arm SMC calls.
    pub smc: bool,
    /// Uses the FPU (default true).
    pub fpu: bool,
    /// ELF path as written.
    pub program_image: String,
    /// Separate ELF to read symbols from, if given.
    pub program_image_for_symbols: Option<String>,
    /// Mappings.
    pub maps: Vec<Map>,
    /// Interrupts.
    pub irqs: Vec<Irq>,
    /// Symbols to patch.
    pub setvars: Vec<SetVar>,
    /// x86 I/O port ranges.
    pub ioports: Vec<IoPort>,
    /// Virtual machine owned by this PD.
    pub virtual_machine: Option<VirtualMachine>,
    /// Index of the parent PD, for child PDs.
    pub parent: Option<usize>,
    /// Id this PD has in its parent, for child PDs.
    pub child_id: Option<u64>,
    /// Scheduling domain (`domain` attribute); `None` runs the PD in domain 0.
    pub domain: Option<crate::domains::PdDomain>,
    /// Extra caps from `<cspace>`, in file order (empty without one).
    pub cspace: Vec<UserCap>,
    /// A `<template>`: a child PD without a program image (`program_image` is empty). It gets
    /// its address space (maps, stack, IPC buffer), scheduling and caps like any child and is
    /// started at address 0, so its first fault reaches the parent, which loads code into a
    /// region it shares with it and restarts it (`microkit_pd_restart`).
    pub template: bool,
    /// Where the element is.
    pub loc: Loc,
}

impl ProtectionDomain {
    /// Highest address (exclusive) mappings may reach, given this PD's stack.
    pub fn map_limit(&self, config: &crate::TargetConfig) -> u64 {
        config.pd_map_limit(self.stack_size)
    }
}

/// A `<memory_region>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryRegion {
    /// Unique name.
    pub name: String,
    /// Size in bytes (a multiple of `page_size`).
    pub size: u64,
    /// Page size used to back and map it.
    pub page_size: u64,
    /// Whether `page_size` was written in the file (otherwise it was chosen by the parser).
    pub page_size_explicit: bool,
    /// Fixed physical address, if any.
    pub phys_addr: Option<u64>,
    /// File whose contents fill the region at boot.
    pub prefill_path: Option<String>,
    /// Boot-information chunk copied into the region at boot (`prefill_bootinfo`).
    pub prefill_bootinfo: Option<BootInfoKind>,
    /// The region describes, and the one PD mapping it receives caps to, all untyped memory
    /// left once the system is built (`receive_all_untypeds`).
    pub receive_all_untypeds: bool,
    /// Where the element is.
    pub loc: Loc,
}

/// A kind of seL4 extra boot information (`seL4_BootInfoHeader` id) a region can be
/// prefilled with; names as in Microkit's `prefill_bootinfo` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootInfoKind {
    /// `x86_vbe` (id 1).
    X86Vbe,
    /// `x86_mbmmap` (id 2; `x86_mbmap` is accepted too).
    X86Mbmmap,
    /// `x86_acpi_rsdp` (id 3).
    X86AcpiRsdp,
    /// `x86_framebuffer` (id 4).
    X86Framebuffer,
    /// `x86_tsc_freq` (id 5).
    X86TscFreq,
    /// `fdt` (id 6).
    Fdt,
}

impl BootInfoKind {
    /// Every kind with its attribute value.
    pub const ALL: [(&'static str, BootInfoKind); 6] = [
        ("x86_vbe", BootInfoKind::X86Vbe),
        ("x86_mbmmap", BootInfoKind::X86Mbmmap),
        ("x86_acpi_rsdp", BootInfoKind::X86AcpiRsdp),
        ("x86_framebuffer", BootInfoKind::X86Framebuffer),
        ("x86_tsc_freq", BootInfoKind::X86TscFreq),
        ("fdt", BootInfoKind::Fdt),
    ];

    /// The kind named by an attribute value.
    pub fn from_name(s: &str) -> Option<BootInfoKind> {
        if s == "x86_mbmap" {
            return Some(BootInfoKind::X86Mbmmap);
        }
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, k)| *k)
    }

    /// The attribute value naming this kind.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }

    /// The `seL4_BootInfoHeader` id of the chunk.
    pub fn id(self) -> u64 {
        match self {
            BootInfoKind::X86Vbe => 1,
            BootInfoKind::X86Mbmmap => 2,
            BootInfoKind::X86AcpiRsdp => 3,
            BootInfoKind::X86Framebuffer => 4,
            BootInfoKind::X86TscFreq => 5,
            BootInfoKind::Fdt => 6,
        }
    }
}

impl MemoryRegion {
    /// Number of pages.
    pub fn page_count(&self) -> u64 {
        self.size.checked_div(self.page_size).unwrap_or(0)
    }
}

/// One end of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEnd {
    /// Index into [`SystemDescription::protection_domains`].
    pub pd: usize,
    /// Channel id this PD uses.
    pub id: u64,
    /// This end may make protected procedure calls into the other end.
    pub pp: bool,
    /// This end may notify the other end (default true).
    pub notify: bool,
    /// `setvar_id`: a symbol in this end's PD that gets the channel id, and where the
    /// attribute is (the setvar itself is also in the PD's `setvars`).
    pub setvar_id: Option<(String, Loc)>,
    /// Where the element is.
    pub loc: Loc,
}

/// A `<channel>` between two PDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// First `<end>`.
    pub end_a: ChannelEnd,
    /// Second `<end>`.
    pub end_b: ChannelEnd,
    /// Where the element is.
    pub loc: Loc,
}

/// A PCI function, as an x86 IOMMU (VT-d) identifies a DMA source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PciDevice {
    /// Bus (0..=0xff).
    pub bus: u8,
    /// Device (0..=0x1f).
    pub device: u8,
    /// Function (0..=7).
    pub function: u8,
}

impl PciDevice {
    /// The 16-bit PCI requester id VT-d uses: bus in bits 15..8, device 7..3, function 2..0.
    pub fn requester_id(self) -> u16 {
        (u16::from(self.bus) << 8) | (u16::from(self.device) << 3) | u16::from(self.function)
    }
}

impl std::fmt::Display for PciDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02x}:{:02x}.{:x}",
            self.bus, self.device, self.function
        )
    }
}

/// One `<iomap>`: a memory region made visible to a device's DMA at `iovaddr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoMap {
    /// Name of the mapped memory region.
    pub mr: String,
    /// IO virtual address (the address the device puts on the bus).
    pub iovaddr: u64,
    /// Device may read the region.
    pub read: bool,
    /// Device may write the region.
    pub write: bool,
    /// The PD whose `<iomap pcidev=...>` declared it (index into
    /// [`SystemDescription::protection_domains`]); `None` inside `<io_address_space>`.
    pub pd: Option<usize>,
    /// Where the element is.
    pub loc: Loc,
}

/// The IOMMU address space of one PCI device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoAddressSpace {
    /// Name (`<io_address_space name>`, or `pcidev <bus:dev.fn>` for one made from PD iomaps).
    pub name: String,
    /// The device.
    pub device: PciDevice,
    /// IOMMU domain id (1..=0xffff): written, or the lowest unused one chosen by the parser.
    pub domain_id: u64,
    /// Whether `domain_id` was written in the file.
    pub domain_id_explicit: bool,
    /// The mappings, in file order.
    pub maps: Vec<IoMap>,
    /// Where the element (or the first PD iomap naming the device) is.
    pub loc: Loc,
}
