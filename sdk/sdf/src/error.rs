//! Typed SDF errors: every error names a file position and says what is wrong.

use std::fmt;

/// A 1-based line and column in the system description file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Loc {
    /// Line, counted from 1.
    pub line: u32,
    /// Column (in characters), counted from 1.
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// An error found while reading or checking a system description.
///
/// Displays as `file:line:col: error: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdfError {
    /// The file name given to [`crate::parse`].
    pub file: String,
    /// Where in the file the problem is.
    pub loc: Loc,
    /// What the problem is (boxed to keep `Result`s small).
    pub kind: Box<ErrorKind>,
}

impl SdfError {
    /// Builds an error at `loc` in `file`.
    pub fn new(file: &str, loc: Loc, kind: ErrorKind) -> SdfError {
        SdfError {
            file: file.to_string(),
            loc,
            kind: Box::new(kind),
        }
    }

    /// The message without the location prefix.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

impl fmt::Display for SdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: error: {}", self.file, self.loc, self.kind)
    }
}

impl std::error::Error for SdfError {}

/// Every distinct problem the parser reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not well-formed XML.
    Xml(String),
    /// The document element is not `<system>`.
    RootNotSystem { found: String },
    /// Non-whitespace text where only elements may appear.
    UnexpectedText { element: String },
    /// An element that is not part of the schema at this place.
    UnknownElement { element: String, parent: String },
    /// A Microkit feature this implementation does not support yet.
    NotSupported { what: String },
    /// An attribute that this element does not take.
    UnknownAttribute { attr: String, element: String },
    /// A required attribute is absent.
    MissingAttribute { attr: String, element: String },
    /// An attribute that must hold a number does not.
    BadNumber {
        attr: String,
        value: String,
        reason: &'static str,
    },
    /// An attribute that must be `true` or `false` is neither.
    BadBool { attr: String, value: String },
    /// A number outside its allowed inclusive range.
    OutOfRange {
        attr: String,
        value: u64,
        min: u64,
        max: u64,
    },
    /// A name attribute is empty.
    EmptyName { attr: String },
    /// A name longer than the fixed-size buffer it is patched into.
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    /// Budget larger than period.
    BudgetExceedsPeriod { budget: u64, period: u64 },
    /// A zero budget.
    ZeroBudget,
    /// Stack size outside Microkit's limits.
    StackSizeRange { value: u64, min: u64, max: u64 },
    /// Stack size not a multiple of the smallest page.
    StackSizeAlign { value: u64, page: u64 },
    /// A CPU index beyond the board's CPU count.
    CpuOutOfRange { cpu: u64, cpus: u64 },
    /// `smc="true"` where SMC forwarding is unavailable.
    SmcUnavailable { reason: &'static str },
    /// `<program_image>` given twice.
    DuplicateProgramImage,
    /// A protection domain without `<program_image>`.
    MissingProgramImage { pd: String },
    /// `<program_image>` inside a `<template>` (its code is loaded by the parent at run time).
    TemplateProgramImage { pd: String },
    /// `<setvar>` inside a `<template>` (there is no ELF whose symbols could be patched).
    TemplateSetvar { pd: String },
    /// `perms` has a letter other than r, w, x (or is empty).
    BadPerms { value: String },
    /// `perms="w"`.
    WriteOnlyMap,
    /// A feature (interrupt form, I/O ports, ...) that does not exist on this architecture.
    WrongArch {
        what: &'static str,
        arch: &'static str,
    },
    /// An `<irq>` whose attributes mix interrupt forms or name none.
    IrqForm { detail: String },
    /// `trigger` is not `level` or `edge`.
    BadTrigger { value: String },
    /// `polarity` is not `low` or `high`.
    BadPolarity { value: String },
    /// `pcidev` is not `bus:device.function`.
    BadPciDev { value: String },
    /// Two setvars in one protection domain patch the same symbol.
    DuplicateSetvar { symbol: String },
    /// A channel without exactly two ends.
    ChannelEnds { count: usize },
    /// A reference to a protection domain that does not exist.
    UnknownPd { name: String },
    /// Both ends of a channel may make protected procedure calls.
    BidirectionalPp,
    /// A PPC into a PD whose priority is not strictly higher.
    PpcPriority {
        from: String,
        from_prio: u8,
        to: String,
        to_prio: u8,
    },
    /// A channel or IRQ id already used in the same protection domain.
    DuplicateId { id: u64, pd: String },
    /// A child id already used in the same parent.
    DuplicateChildId { id: u64, pd: String },
    /// A child id equal to one of the parent's vCPU ids.
    ChildIdClashesVcpu { id: u64, pd: String },
    /// Two vCPUs with the same id in one virtual machine.
    DuplicateVcpuId { id: u64, vm: String },
    /// One hardware interrupt given to two places.
    DuplicateIrq {
        irq: String,
        pd: String,
        other_pd: String,
    },
    /// Two protection domains with the same name.
    DuplicatePdName { name: String },
    /// Two memory regions with the same name.
    DuplicateMrName { name: String },
    /// Two virtual machines with the same name.
    DuplicateVmName { name: String },
    /// A system with no protection domain.
    NoProtectionDomains,
    /// More protection domains than Microkit allows.
    TooManyPds { count: usize, max: usize },
    /// A reference to a memory region that does not exist.
    UnknownMr { name: String },
    /// A mapping whose vaddr is not aligned to the region's page size.
    UnalignedVaddr {
        vaddr: u64,
        page_size: u64,
        mr: String,
    },
    /// A mapping that does not fit below the highest mappable address.
    MapTooHigh {
        mr: String,
        start: u64,
        end: u64,
        limit: u64,
    },
    /// Two mappings in one address space overlap.
    OverlappingMaps {
        mr: String,
        start: u64,
        end: u64,
        other: String,
        other_start: u64,
        other_end: u64,
        owner: String,
    },
    /// A page size the architecture does not have.
    UnsupportedPageSize { page_size: u64, supported: String },
    /// Region size not a multiple of its page size.
    SizeNotMultiple { size: u64, page_size: u64 },
    /// A region of size zero.
    ZeroSize,
    /// A physical address not aligned to the region's page size.
    UnalignedPhysAddr { phys_addr: u64, page_size: u64 },
    /// An address range that wraps past 2^64.
    AddressOverflow { what: String },
    /// Two regions with fixed physical addresses overlap.
    OverlappingPhys {
        mr: String,
        start: u64,
        end: u64,
        other: String,
        other_start: u64,
        other_end: u64,
    },
    /// A region without `size` and without a prefill file to size it.
    MissingSize,
    /// The prefill file's size could not be learnt.
    PrefillSize { path: String, reason: String },
    /// The prefill file is larger than the region.
    PrefillTooLarge {
        path: String,
        file_size: u64,
        size: u64,
    },
    /// `setvar_prefill_size` on a map of a region that has no prefill file.
    PrefillSetvarWithoutPrefill { mr: String },
    /// `prefill_bootinfo` names no known boot-information kind.
    UnknownBootInfo { value: String },
    /// Two attributes of a memory region that exclude each other.
    ExclusiveAttributes { attr: String, other: String },
    /// A second region with `receive_all_untypeds="true"`.
    DuplicateUntypedReceiver { mr: String, other: String },
    /// A `receive_all_untypeds` region not mapped exactly once, by a PD (`count` maps in PDs and VMs).
    UntypedReceiverMaps { mr: String, count: usize },
    /// `region_paddr` on x86_64 naming a region without a fixed phys_addr.
    SetvarPaddrNeedsPhysAddr { mr: String },
    /// An I/O port range of size zero.
    IoPortZeroSize,
    /// An I/O port range beyond port 0xffff.
    IoPortBeyondEnd { addr: u64, size: u64 },
    /// Two I/O port ranges overlap.
    IoPortOverlap {
        id: u64,
        pd: String,
        start: u64,
        end: u64,
        other_id: u64,
        other_pd: String,
        other_start: u64,
        other_end: u64,
    },
    /// Two I/O ports with the same id in one PD.
    DuplicateIoPortId { id: u64, pd: String },
    /// A virtual machine without vCPUs.
    VmMissingVcpu { vm: String },
    /// More than one virtual machine in a PD.
    DuplicateVm,
    /// A `<virtual_machine>` directly under `<system>`.
    VmNotChild,
    /// IO mappings (`<io_address_space>`, `<iomap>`) on a board whose configuration has no
    /// IOMMU.
    NoIommu { what: &'static str, target: String },
    /// A PCI device identifier (`peripheral_id`, `pcidev` of an `<iomap>`) that is not
    /// `bus:device.function` in hexadecimal within the PCI limits.
    BadPeripheralId {
        attr: &'static str,
        value: String,
        reason: &'static str,
    },
    /// Two `<io_address_space>` elements with the same name.
    DuplicateIoSpaceName { name: String },
    /// Two IO address spaces with the same IOMMU domain id.
    DuplicateDomainId { id: u64, other: String },
    /// Two `<io_address_space>` elements for the same PCI device.
    DuplicateIoDevice { device: String, other: String },
    /// `perms` of an `<iomap>` is not a non-empty combination of `r` and `w`.
    BadIoPerms { value: String },
    /// An iomapped memory region backed by pages larger than the IOMMU's 4 KiB pages.
    IoMapLargePage { mr: String, page_size: u64 },
    /// An `iovaddr` not aligned to the region's page size.
    UnalignedIova {
        iova: u64,
        page_size: u64,
        mr: String,
    },
    /// An IO mapping that does not fit in the IOMMU's address space.
    IoMapTooHigh {
        mr: String,
        start: u64,
        end: u64,
        limit: u64,
    },
    /// Two IO mappings of one device that overlap.
    OverlappingIoMaps {
        mr: String,
        start: u64,
        end: u64,
        other: String,
        other_start: u64,
        other_end: u64,
        device: String,
    },
    /// Two top-level `<cnode>`s with the same name.
    DuplicateCNodeName { name: String },
    /// A `<cap_cspace cnode_name>` naming no `<cnode>`.
    UnknownCNode { name: String },
    /// A `<cspace>` child `cap_<kind>` that Microkit does not define.
    UnknownCapType { kind: String },
    /// `<cap_cspace>` with both or neither of `pd` and `cnode_name`.
    CapSource { both: bool },
    /// A `<cspace>` slot outside the PD's user slots.
    CapSlotRange { slot: u64, max: u64 },
    /// Two caps for one slot of a PD's `<cspace>`.
    DuplicateCapSlot { slot: u64, pd: String },
    /// A second `<cspace>` in one protection domain.
    DuplicateCSpace,
}

fn hex_range(start: u64, end: u64) -> String {
    format!("[{start:#x}, {end:#x})")
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            Xml(e) => write!(f, "not well-formed XML: {e}"),
            RootNotSystem { found } => write!(f, "the document element must be <system>, not <{found}>"),
            UnexpectedText { element } => write!(f, "unexpected text inside <{element}>; only elements and comments may appear here"),
            UnknownElement { element, parent } => write!(f, "unknown element <{element}> inside <{parent}>"),
            NotSupported { what } => write!(f, "{what} is not supported yet by this implementation"),
            UnknownAttribute { attr, element } => write!(f, "unknown attribute '{attr}' on <{element}>"),
            MissingAttribute { attr, element } => write!(f, "<{element}> is missing the required attribute '{attr}'"),
            BadNumber { attr, value, reason } => write!(f, "attribute '{attr}' must be a number, but '{value}' {reason}"),
            BadBool { attr, value } => write!(f, "attribute '{attr}' must be 'true' or 'false', not '{value}'"),
            OutOfRange { attr, value, min, max } => write!(f, "attribute '{attr}' is {value}, outside the allowed range {min}..={max}"),
            EmptyName { attr } => write!(f, "attribute '{attr}' must not be empty"),
            NameTooLong { name, len, max } => write!(f, "name '{name}' is {len} bytes long; at most {max} bytes are allowed"),
            BudgetExceedsPeriod { budget, period } => write!(f, "budget ({budget} us) must not be larger than period ({period} us)"),
            ZeroBudget => write!(f, "budget must be greater than zero"),
            StackSizeRange { value, min, max } => write!(f, "stack_size {value:#x} is outside the allowed range {min:#x}..={max:#x}"),
            StackSizeAlign { value, page } => write!(f, "stack_size {value:#x} is not a multiple of the page size {page:#x}"),
            CpuOutOfRange { cpu, cpus } => write!(f, "cpu {cpu} does not exist: the board has {cpus} CPU(s)"),
            SmcUnavailable { reason } => write!(f, "smc=\"true\" cannot be used: {reason}"),
            DuplicateProgramImage => write!(f, "<program_image> is given more than once in this protection domain"),
            MissingProgramImage { pd } => write!(f, "protection domain '{pd}' has no <program_image>"),
            TemplateProgramImage { pd } => write!(f, "template '{pd}' cannot have a <program_image>: its parent loads its code at run time"),
            TemplateSetvar { pd } => write!(f, "template '{pd}' cannot have a <setvar>: it has no program image whose symbols could be patched"),
            BadPerms { value } => write!(f, "perms '{value}' must be a non-empty combination of 'r', 'w' and 'x'"),
            WriteOnlyMap => write!(f, "perms 'w' asks for a write-only mapping, which the hardware cannot provide"),
            WrongArch { what, arch } => write!(f, "{what} is not available on {arch}"),
            IrqForm { detail } => write!(f, "<irq> {detail}"),
            BadTrigger { value } => write!(f, "trigger must be 'level' or 'edge', not '{value}'"),
            BadPolarity { value } => write!(f, "polarity must be 'low' or 'high', not '{value}'"),
            BadPciDev { value } => write!(f, "pcidev '{value}' must have the form bus:device.function (bus <= 255, device <= 31, function <= 7)"),
            DuplicateSetvar { symbol } => write!(f, "symbol '{symbol}' is already set by another setvar in this protection domain"),
            ChannelEnds { count } => write!(f, "a channel needs exactly two <end> elements, found {count}"),
            UnknownPd { name } => write!(f, "there is no protection domain named '{name}'"),
            BidirectionalPp => write!(f, "both ends have pp=\"true\"; protected procedure calls may go in one direction only"),
            PpcPriority { from, from_prio, to, to_prio } => write!(f, "protected procedure call from '{from}' (priority {from_prio}) into '{to}' (priority {to_prio}): the callee's priority must be strictly higher"),
            DuplicateId { id, pd } => write!(f, "id {id} is already used by another channel or interrupt of protection domain '{pd}'"),
            DuplicateChildId { id, pd } => write!(f, "child id {id} is already used in protection domain '{pd}'"),
            ChildIdClashesVcpu { id, pd } => write!(f, "child id {id} is also a vCPU id of the virtual machine of protection domain '{pd}'"),
            DuplicateVcpuId { id, vm } => write!(f, "vcpu id {id} appears twice in virtual machine '{vm}'"),
            DuplicateIrq { irq, pd, other_pd } => write!(f, "interrupt {irq} of protection domain '{pd}' is already given to protection domain '{other_pd}'"),
            DuplicatePdName { name } => write!(f, "protection domain name '{name}' is used more than once"),
            DuplicateMrName { name } => write!(f, "memory region name '{name}' is used more than once"),
            DuplicateVmName { name } => write!(f, "virtual machine name '{name}' is used more than once"),
            NoProtectionDomains => write!(f, "the system has no protection domain; at least one is needed"),
            TooManyPds { count, max } => write!(f, "the system has {count} protection domains; at most {max} are allowed"),
            UnknownMr { name } => write!(f, "there is no memory region named '{name}'"),
            UnalignedVaddr { vaddr, page_size, mr } => write!(f, "vaddr {vaddr:#x} is not aligned to the page size {page_size:#x} of memory region '{mr}'"),
            MapTooHigh { mr, start, end, limit } => write!(f, "mapping of '{mr}' at {} does not fit below the highest mappable address {limit:#x}", hex_range(*start, *end)),
            OverlappingMaps { mr, start, end, other, other_start, other_end, owner } => write!(f, "mapping of '{mr}' at {} overlaps the mapping of '{other}' at {} in {owner}", hex_range(*start, *end), hex_range(*other_start, *other_end)),
            UnsupportedPageSize { page_size, supported } => write!(f, "page size {page_size:#x} is not supported here (supported: {supported})"),
            SizeNotMultiple { size, page_size } => write!(f, "size {size:#x} is not a multiple of the page size {page_size:#x}"),
            ZeroSize => write!(f, "size must be greater than zero"),
            UnalignedPhysAddr { phys_addr, page_size } => write!(f, "phys_addr {phys_addr:#x} is not aligned to the page size {page_size:#x}"),
            AddressOverflow { what } => write!(f, "{what} extends past the end of the 64-bit address space"),
            OverlappingPhys { mr, start, end, other, other_start, other_end } => write!(f, "physical range {} of memory region '{mr}' overlaps {} of memory region '{other}'", hex_range(*start, *end), hex_range(*other_start, *other_end)),
            MissingSize => write!(f, "<memory_region> needs a 'size' unless it has a 'prefill_path'"),
            PrefillSize { path, reason } => write!(f, "cannot learn the size of prefill file '{path}': {reason}"),
            PrefillTooLarge { path, file_size, size } => write!(f, "prefill file '{path}' has {file_size} bytes, more than the region size {size:#x}"),
            PrefillSetvarWithoutPrefill { mr } => write!(f, "setvar_prefill_size is used on memory region '{mr}', which has no prefill_path"),
            UnknownBootInfo { value } => {
                let names: Vec<&str> = crate::model::BootInfoKind::ALL.iter().map(|(n, _)| *n).collect();
                write!(f, "prefill_bootinfo '{value}' is not a boot information kind (one of {})", names.join(", "))
            }
            ExclusiveAttributes { attr, other } => write!(f, "'{attr}' cannot be given together with '{other}'"),
            DuplicateUntypedReceiver { mr, other } => write!(f, "memory region '{mr}' has receive_all_untypeds=\"true\", but '{other}' already receives all untypeds"),
            UntypedReceiverMaps { mr, count } => write!(f, "memory region '{mr}' has receive_all_untypeds=\"true\" and must be mapped exactly once, by a protection domain (it has {count} mappings)"),
            SetvarPaddrNeedsPhysAddr { mr } => write!(f, "region_paddr on x86_64 needs memory region '{mr}' to have a fixed phys_addr"),
            IoPortZeroSize => write!(f, "I/O port range size must be greater than zero"),
            IoPortBeyondEnd { addr, size } => write!(f, "I/O port range at {addr:#x} of size {size:#x} goes past port 0xffff"),
            IoPortOverlap { id, pd, start, end, other_id, other_pd, other_start, other_end } => write!(f, "I/O port range {id} {} of protection domain '{pd}' overlaps I/O port range {other_id} {} of protection domain '{other_pd}'", hex_range(*start, *end), hex_range(*other_start, *other_end)),
            DuplicateIoPortId { id, pd } => write!(f, "I/O port id {id} is used twice in protection domain '{pd}'"),
            VmMissingVcpu { vm } => write!(f, "virtual machine '{vm}' has no <vcpu>"),
            DuplicateVm => write!(f, "a protection domain may hold only one <virtual_machine>"),
            VmNotChild => write!(f, "<virtual_machine> must be inside a <protection_domain>"),
            NoIommu { what, target } => write!(f, "{what} needs a kernel with IOMMU support, which {target} does not have"),
            BadPeripheralId { attr, value, reason } => write!(f, "{attr} '{value}' is not a PCI device bus:device.function in hexadecimal (bus <= ff, device <= 1f, function <= 7): {reason}"),
            DuplicateIoSpaceName { name } => write!(f, "io address space name '{name}' is used more than once"),
            DuplicateDomainId { id, other } => write!(f, "IOMMU domain id {id} is already used by io address space '{other}'; each device needs its own domain"),
            DuplicateIoDevice { device, other } => write!(f, "PCI device {device} already has io address space '{other}'"),
            BadIoPerms { value } => write!(f, "perms '{value}' of an <iomap> must be a non-empty combination of 'r' and 'w'"),
            IoMapLargePage { mr, page_size } => write!(f, "memory region '{mr}' uses {page_size:#x}-byte pages; IO mappings take 4 KiB pages only"),
            UnalignedIova { iova, page_size, mr } => write!(f, "iovaddr {iova:#x} is not aligned to the page size {page_size:#x} of memory region '{mr}'"),
            IoMapTooHigh { mr, start, end, limit } => write!(f, "IO mapping of '{mr}' at {} does not fit below the IOMMU address limit {limit:#x}", hex_range(*start, *end)),
            OverlappingIoMaps { mr, start, end, other, other_start, other_end, device } => write!(f, "IO mapping of '{mr}' at {} overlaps the IO mapping of '{other}' at {} for PCI device {device}", hex_range(*start, *end), hex_range(*other_start, *other_end)),
            DuplicateCNodeName { name } => write!(f, "cnode name '{name}' is used more than once"),
            UnknownCNode { name } => write!(f, "there is no <cnode> named '{name}'"),
            UnknownCapType { kind } => write!(f, "unknown cap type 'cap_{kind}' in <cspace> (known: cap_tcb, cap_sc, cap_vspace, cap_cspace, cap_smc)"),
            CapSource { both: true } => write!(f, "<cap_cspace> takes either 'pd' or 'cnode_name', not both"),
            CapSource { both: false } => write!(f, "<cap_cspace> needs either 'pd' (that PD's CSpace) or 'cnode_name' (a <cnode>)"),
            CapSlotRange { slot, max } => write!(f, "slot {slot} is not a user slot: a PD's root CNode offers slots 1..={max} (slot 0 holds Microkit's own CNode)"),
            DuplicateCapSlot { slot, pd } => write!(f, "slot {slot} of protection domain '{pd}' is given more than one cap"),
            DuplicateCSpace => write!(f, "<cspace> is given more than once in this protection domain"),
        }
    }
}
