//! Object invocations: our table of methods (object type, method name, label, parameters),
//! the message-register packing of their arguments, and the C stubs generated from them.
//!
//! Label numbers are not written here: each method names its label and the number comes from
//! `sel4_abi::label` for the arch being generated (a method whose label the arch lacks is left
//! out). Packing follows seL4's stub rules (`sel4-abi.md` §5): sub-word arguments (bool 1 bit,
//! 8, 16 and 32-bit integers) share a word, each aligned to its own size; word-sized arguments
//! start a new word; capability arguments become extra caps in order.

use sel4_abi::label::{arch_labels, Arch, Label};

/// How a parameter travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// An input value in the message registers.
    In,
    /// A capability, sent as an extra cap.
    Cap,
    /// An output value read from the reply's message registers.
    Out,
}

/// One parameter: direction, C type, name.
pub type Param = (Dir, &'static str, &'static str);

/// How the stub body is produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// From the parameter list alone.
    Plain,
    /// `TCB_ReadRegisters`: `count` words of `seL4_UserContext` come back.
    ReadRegisters,
    /// `TCB_WriteRegisters`: the whole `seL4_UserContext` follows the two header words.
    WriteRegisters,
    /// `ARM_SMC_Call`: eight argument words in, eight result words out.
    SmcCall,
}

/// A method of an object type.
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// C type of the invoked cap, e.g. `seL4_CNode`.
    pub object: &'static str,
    /// Method name, e.g. `Copy` (the stub is `<object>_<name>`).
    pub name: &'static str,
    /// seL4's label name, e.g. `CNodeCopy`.
    pub label: &'static str,
    /// Parameters after the invoked cap, in C signature order.
    pub params: &'static [Param],
    /// Body kind.
    pub shape: Shape,
}

use Dir::{Cap, In, Out};

const fn m(object: &'static str, name: &'static str, label: &'static str, params: &'static [Param]) -> Method {
    Method { object, name, label, params, shape: Shape::Plain }
}

/// Generic methods (every arch).
pub const GENERIC: &[Method] = &[
    m("seL4_Untyped", "Retype", "UntypedRetype", &[
        (In, "seL4_Word", "type"), (In, "seL4_Word", "size_bits"), (Cap, "seL4_CNode", "root"),
        (In, "seL4_Word", "node_index"), (In, "seL4_Word", "node_depth"),
        (In, "seL4_Word", "node_offset"), (In, "seL4_Word", "num_objects"),
    ]),
    Method { object: "seL4_TCB", name: "ReadRegisters", label: "TCBReadRegisters", params: &[
        (In, "seL4_Bool", "suspend_source"), (In, "seL4_Uint8", "arch_flags"), (In, "seL4_Word", "count"),
    ], shape: Shape::ReadRegisters },
    Method { object: "seL4_TCB", name: "WriteRegisters", label: "TCBWriteRegisters", params: &[
        (In, "seL4_Bool", "resume_target"), (In, "seL4_Uint8", "arch_flags"), (In, "seL4_Word", "count"),
    ], shape: Shape::WriteRegisters },
    m("seL4_TCB", "CopyRegisters", "TCBCopyRegisters", &[
        (Cap, "seL4_TCB", "source"), (In, "seL4_Bool", "suspend_source"), (In, "seL4_Bool", "resume_target"),
        (In, "seL4_Bool", "transfer_frame"), (In, "seL4_Bool", "transfer_integer"), (In, "seL4_Uint8", "arch_flags"),
    ]),
    m("seL4_TCB", "Configure", "TCBConfigure", &[
        (Cap, "seL4_CNode", "cspace_root"), (In, "seL4_Word", "cspace_root_data"),
        (Cap, "seL4_CPtr", "vspace_root"), (In, "seL4_Word", "vspace_root_data"),
        (In, "seL4_Word", "buffer"), (Cap, "seL4_CPtr", "bufferFrame"),
    ]),
    m("seL4_TCB", "SetPriority", "TCBSetPriority", &[(Cap, "seL4_TCB", "authority"), (In, "seL4_Word", "priority")]),
    m("seL4_TCB", "SetMCPriority", "TCBSetMCPriority", &[(Cap, "seL4_TCB", "authority"), (In, "seL4_Word", "mcp")]),
    m("seL4_TCB", "SetSchedParams", "TCBSetSchedParams", &[
        (Cap, "seL4_TCB", "authority"), (In, "seL4_Word", "mcp"), (In, "seL4_Word", "priority"),
        (Cap, "seL4_CPtr", "sched_context"), (Cap, "seL4_CPtr", "fault_ep"),
    ]),
    m("seL4_TCB", "SetTimeoutEndpoint", "TCBSetTimeoutEndpoint", &[(Cap, "seL4_CPtr", "timeout_fault_ep")]),
    m("seL4_TCB", "SetIPCBuffer", "TCBSetIPCBuffer", &[(In, "seL4_Word", "buffer"), (Cap, "seL4_CPtr", "bufferFrame")]),
    m("seL4_TCB", "SetSpace", "TCBSetSpace", &[
        (Cap, "seL4_CPtr", "fault_ep"), (Cap, "seL4_CNode", "cspace_root"), (In, "seL4_Word", "cspace_root_data"),
        (Cap, "seL4_CPtr", "vspace_root"), (In, "seL4_Word", "vspace_root_data"),
    ]),
    m("seL4_TCB", "Suspend", "TCBSuspend", &[]),
    m("seL4_TCB", "Resume", "TCBResume", &[]),
    m("seL4_TCB", "BindNotification", "TCBBindNotification", &[(Cap, "seL4_CPtr", "notification")]),
    m("seL4_TCB", "UnbindNotification", "TCBUnbindNotification", &[]),
    m("seL4_TCB", "SetTLSBase", "TCBSetTLSBase", &[(In, "seL4_Word", "tls_base")]),
    m("seL4_TCB", "SetFlags", "TCBSetFlags", &[(In, "seL4_Word", "clear"), (In, "seL4_Word", "set"), (Out, "seL4_Word", "flags")]),
    m("seL4_CNode", "Revoke", "CNodeRevoke", &[(In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth")]),
    m("seL4_CNode", "Delete", "CNodeDelete", &[(In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth")]),
    m("seL4_CNode", "CancelBadgedSends", "CNodeCancelBadgedSends", &[(In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth")]),
    m("seL4_CNode", "Copy", "CNodeCopy", &[
        (In, "seL4_Word", "dest_index"), (In, "seL4_Uint8", "dest_depth"), (Cap, "seL4_CNode", "src_root"),
        (In, "seL4_Word", "src_index"), (In, "seL4_Uint8", "src_depth"), (In, "seL4_CapRights_t", "rights"),
    ]),
    m("seL4_CNode", "Mint", "CNodeMint", &[
        (In, "seL4_Word", "dest_index"), (In, "seL4_Uint8", "dest_depth"), (Cap, "seL4_CNode", "src_root"),
        (In, "seL4_Word", "src_index"), (In, "seL4_Uint8", "src_depth"), (In, "seL4_CapRights_t", "rights"),
        (In, "seL4_Word", "badge"),
    ]),
    m("seL4_CNode", "Move", "CNodeMove", &[
        (In, "seL4_Word", "dest_index"), (In, "seL4_Uint8", "dest_depth"), (Cap, "seL4_CNode", "src_root"),
        (In, "seL4_Word", "src_index"), (In, "seL4_Uint8", "src_depth"),
    ]),
    m("seL4_CNode", "Mutate", "CNodeMutate", &[
        (In, "seL4_Word", "dest_index"), (In, "seL4_Uint8", "dest_depth"), (Cap, "seL4_CNode", "src_root"),
        (In, "seL4_Word", "src_index"), (In, "seL4_Uint8", "src_depth"), (In, "seL4_Word", "badge"),
    ]),
    m("seL4_CNode", "Rotate", "CNodeRotate", &[
        (In, "seL4_Word", "dest_index"), (In, "seL4_Uint8", "dest_depth"), (In, "seL4_Word", "dest_badge"),
        (Cap, "seL4_CNode", "pivot_root"), (In, "seL4_Word", "pivot_index"), (In, "seL4_Uint8", "pivot_depth"),
        (In, "seL4_Word", "pivot_badge"), (Cap, "seL4_CNode", "src_root"), (In, "seL4_Word", "src_index"),
        (In, "seL4_Uint8", "src_depth"),
    ]),
    m("seL4_IRQControl", "Get", "IRQIssueIRQHandler", &[
        (In, "seL4_Word", "irq"), (Cap, "seL4_CNode", "root"), (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
    ]),
    m("seL4_IRQHandler", "Ack", "IRQAckIRQ", &[]),
    m("seL4_IRQHandler", "SetNotification", "IRQSetIRQHandler", &[(Cap, "seL4_CPtr", "notification")]),
    m("seL4_IRQHandler", "Clear", "IRQClearIRQHandler", &[]),
    m("seL4_DomainSet", "Set", "DomainSetSet", &[(In, "seL4_Uint8", "domain"), (Cap, "seL4_TCB", "thread")]),
    m("seL4_DomainSet", "ScheduleConfigure", "DomainScheduleConfigure", &[
        (In, "seL4_Word", "index"), (In, "seL4_Uint8", "domain"), (In, "seL4_Word", "duration"),
    ]),
    m("seL4_DomainSet", "ScheduleSetStart", "DomainScheduleSetStart", &[(In, "seL4_Word", "index")]),
    m("seL4_SchedControl", "ConfigureFlags", "SchedControlConfigureFlags", &[
        (Cap, "seL4_SchedContext", "schedcontext"), (In, "seL4_Time", "budget"), (In, "seL4_Time", "period"),
        (In, "seL4_Word", "extra_refills"), (In, "seL4_Word", "badge"), (In, "seL4_Word", "flags"),
    ]),
    m("seL4_SchedContext", "Bind", "SchedContextBind", &[(Cap, "seL4_CPtr", "cap")]),
    m("seL4_SchedContext", "Unbind", "SchedContextUnbind", &[]),
    m("seL4_SchedContext", "UnbindObject", "SchedContextUnbindObject", &[(Cap, "seL4_CPtr", "cap")]),
    m("seL4_SchedContext", "Consumed", "SchedContextConsumed", &[(Out, "seL4_Time", "consumed")]),
    m("seL4_SchedContext", "YieldTo", "SchedContextYieldTo", &[(Out, "seL4_Time", "consumed")]),
];

const RANGE: &[Param] = &[(In, "seL4_Word", "start"), (In, "seL4_Word", "end")];
const OFFSETS: &[Param] = &[(In, "seL4_Word", "start_offset"), (In, "seL4_Word", "end_offset")];
const MAKE_POOL: &[Param] = &[
    (Cap, "seL4_Untyped", "untyped"), (Cap, "seL4_CNode", "root"), (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
];
const GET_TRIGGER: &[Param] = &[
    (In, "seL4_Word", "irq"), (In, "seL4_Word", "trigger"), (Cap, "seL4_CNode", "root"),
    (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
];

/// AArch64 methods.
pub const AARCH64: &[Method] = &[
    m("seL4_ARM_VSpace", "Clean_Data", "ARMVSpaceClean_Data", RANGE),
    m("seL4_ARM_VSpace", "Invalidate_Data", "ARMVSpaceInvalidate_Data", RANGE),
    m("seL4_ARM_VSpace", "CleanInvalidate_Data", "ARMVSpaceCleanInvalidate_Data", RANGE),
    m("seL4_ARM_VSpace", "Unify_Instruction", "ARMVSpaceUnify_Instruction", RANGE),
    Method { object: "seL4_ARM_SMC", name: "Call", label: "ARMSMCCall", params: &[], shape: Shape::SmcCall },
    m("seL4_ARM_PageTable", "Map", "ARMPageTableMap", &[
        (Cap, "seL4_CPtr", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_ARM_VMAttributes", "attr"),
    ]),
    m("seL4_ARM_PageTable", "Unmap", "ARMPageTableUnmap", &[]),
    m("seL4_ARM_Page", "Map", "ARMPageMap", &[
        (Cap, "seL4_CPtr", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_CapRights_t", "rights"),
        (In, "seL4_ARM_VMAttributes", "attr"),
    ]),
    m("seL4_ARM_Page", "Unmap", "ARMPageUnmap", &[]),
    m("seL4_ARM_Page", "Clean_Data", "ARMPageClean_Data", OFFSETS),
    m("seL4_ARM_Page", "Invalidate_Data", "ARMPageInvalidate_Data", OFFSETS),
    m("seL4_ARM_Page", "CleanInvalidate_Data", "ARMPageCleanInvalidate_Data", OFFSETS),
    m("seL4_ARM_Page", "Unify_Instruction", "ARMPageUnify_Instruction", OFFSETS),
    m("seL4_ARM_Page", "GetAddress", "ARMPageGetAddress", &[(Out, "seL4_Word", "paddr")]),
    m("seL4_ARM_ASIDControl", "MakePool", "ARMASIDControlMakePool", MAKE_POOL),
    m("seL4_ARM_ASIDPool", "Assign", "ARMASIDPoolAssign", &[(Cap, "seL4_CPtr", "vspace")]),
    m("seL4_IRQControl", "GetTrigger", "ARMIRQIssueIRQHandlerTrigger", GET_TRIGGER),
    m("seL4_IRQControl", "IssueSGISignal", "ARMIRQIssueSGISignal", &[
        (In, "seL4_Word", "irq"), (In, "seL4_Word", "target"), (Cap, "seL4_CNode", "root"),
        (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
    ]),
];

/// RISC-V 64 methods.
pub const RISCV64: &[Method] = &[
    m("seL4_RISCV_PageTable", "Map", "RISCVPageTableMap", &[
        (Cap, "seL4_CPtr", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_RISCV_VMAttributes", "attr"),
    ]),
    m("seL4_RISCV_PageTable", "Unmap", "RISCVPageTableUnmap", &[]),
    m("seL4_RISCV_Page", "Map", "RISCVPageMap", &[
        (Cap, "seL4_CPtr", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_CapRights_t", "rights"),
        (In, "seL4_RISCV_VMAttributes", "attr"),
    ]),
    m("seL4_RISCV_Page", "Unmap", "RISCVPageUnmap", &[]),
    m("seL4_RISCV_Page", "GetAddress", "RISCVPageGetAddress", &[(Out, "seL4_Word", "paddr")]),
    m("seL4_RISCV_ASIDControl", "MakePool", "RISCVASIDControlMakePool", MAKE_POOL),
    m("seL4_RISCV_ASIDPool", "Assign", "RISCVASIDPoolAssign", &[(Cap, "seL4_CPtr", "vspace")]),
    m("seL4_IRQControl", "GetTrigger", "RISCVIRQIssueIRQHandlerTrigger", GET_TRIGGER),
];

const X86_MAP: &[Param] = &[(Cap, "seL4_X64_PML4", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_X86_VMAttributes", "attr")];

/// x86_64 methods.
pub const X86_64: &[Method] = &[
    m("seL4_X86_PDPT", "Map", "X86PDPTMap", &[(Cap, "seL4_X64_PML4", "pml4"), (In, "seL4_Word", "vaddr"), (In, "seL4_X86_VMAttributes", "attr")]),
    m("seL4_X86_PDPT", "Unmap", "X86PDPTUnmap", &[]),
    m("seL4_X86_PageDirectory", "Map", "X86PageDirectoryMap", X86_MAP),
    m("seL4_X86_PageDirectory", "Unmap", "X86PageDirectoryUnmap", &[]),
    m("seL4_X86_PageTable", "Map", "X86PageTableMap", X86_MAP),
    m("seL4_X86_PageTable", "Unmap", "X86PageTableUnmap", &[]),
    m("seL4_X86_IOPageTable", "Map", "X86IOPageTableMap", &[(Cap, "seL4_X86_IOSpace", "iospace"), (In, "seL4_Word", "ioaddr")]),
    m("seL4_X86_IOPageTable", "Unmap", "X86IOPageTableUnmap", &[]),
    m("seL4_X86_Page", "Map", "X86PageMap", &[
        (Cap, "seL4_X64_PML4", "vspace"), (In, "seL4_Word", "vaddr"), (In, "seL4_CapRights_t", "rights"),
        (In, "seL4_X86_VMAttributes", "attr"),
    ]),
    m("seL4_X86_Page", "Unmap", "X86PageUnmap", &[]),
    m("seL4_X86_Page", "MapIO", "X86PageMapIO", &[
        (Cap, "seL4_X86_IOSpace", "iospace"), (In, "seL4_CapRights_t", "rights"), (In, "seL4_Word", "ioaddr"),
    ]),
    m("seL4_X86_Page", "GetAddress", "X86PageGetAddress", &[(Out, "seL4_Word", "paddr")]),
    m("seL4_X86_ASIDControl", "MakePool", "X86ASIDControlMakePool", MAKE_POOL),
    m("seL4_X86_ASIDPool", "Assign", "X86ASIDPoolAssign", &[(Cap, "seL4_CPtr", "vspace")]),
    m("seL4_X86_IOPortControl", "Issue", "X86IOPortControlIssue", &[
        (In, "seL4_Word", "first_port"), (In, "seL4_Word", "last_port"), (Cap, "seL4_CNode", "root"),
        (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
    ]),
    m("seL4_X86_IOPort", "In8", "X86IOPortIn8", &[(In, "seL4_Uint16", "port"), (Out, "seL4_Uint8", "result")]),
    m("seL4_X86_IOPort", "In16", "X86IOPortIn16", &[(In, "seL4_Uint16", "port"), (Out, "seL4_Uint16", "result")]),
    m("seL4_X86_IOPort", "In32", "X86IOPortIn32", &[(In, "seL4_Uint16", "port"), (Out, "seL4_Uint32", "result")]),
    m("seL4_X86_IOPort", "Out8", "X86IOPortOut8", &[(In, "seL4_Word", "port"), (In, "seL4_Word", "data")]),
    m("seL4_X86_IOPort", "Out16", "X86IOPortOut16", &[(In, "seL4_Word", "port"), (In, "seL4_Word", "data")]),
    m("seL4_X86_IOPort", "Out32", "X86IOPortOut32", &[(In, "seL4_Word", "port"), (In, "seL4_Word", "data")]),
    m("seL4_IRQControl", "GetIOAPIC", "X86IRQIssueIRQHandlerIOAPIC", &[
        (Cap, "seL4_CNode", "root"), (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
        (In, "seL4_Word", "ioapic"), (In, "seL4_Word", "pin"), (In, "seL4_Word", "level"),
        (In, "seL4_Word", "polarity"), (In, "seL4_Word", "vector"),
    ]),
    m("seL4_IRQControl", "GetMSI", "X86IRQIssueIRQHandlerMSI", &[
        (Cap, "seL4_CNode", "root"), (In, "seL4_Word", "index"), (In, "seL4_Uint8", "depth"),
        (In, "seL4_Word", "pci_bus"), (In, "seL4_Word", "pci_dev"), (In, "seL4_Word", "pci_func"),
        (In, "seL4_Word", "handle"), (In, "seL4_Word", "vector"),
    ]),
];

/// The label number of `label` on `arch`: generic labels from [`Label::ALL`], arch labels from
/// [`arch_labels`]. `None` if `arch` has no such label.
pub fn label_number(arch: Arch, label: &str) -> Option<u64> {
    if let Some(l) = Label::ALL.iter().find(|l| l.name() == label) {
        return Some(*l as u64);
    }
    arch_labels(arch)
        .iter()
        .position(|(_, n)| *n == label)
        .map(|i| sel4_abi::label::FIRST_ARCH_LABEL + i as u64)
}

/// The methods generated for `arch` (generic first), each with its label number.
pub fn methods(arch: Arch) -> Vec<(Method, u64)> {
    let arch_methods = match arch {
        Arch::Aarch64 => AARCH64,
        Arch::Riscv64 => RISCV64,
        Arch::X86_64 => X86_64,
    };
    GENERIC
        .iter()
        .chain(arch_methods.iter())
        .map(|m| {
            let n = label_number(arch, m.label)
                .unwrap_or_else(|| panic!("label {} has no number on {arch:?}", m.label));
            (*m, n)
        })
        .collect()
}

/// Width in bits of a C parameter type in the message (64 unless sub-word).
pub fn type_bits(ty: &str) -> u32 {
    match ty {
        "seL4_Bool" => 1,
        "seL4_Uint8" => 8,
        "seL4_Uint16" => 16,
        "seL4_Uint32" => 32,
        _ => 64,
    }
}

/// Where one value lives: message register `mr`, bits `lo..lo+bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Message register index.
    pub mr: usize,
    /// Lowest bit.
    pub lo: u32,
    /// Width in bits.
    pub bits: u32,
}

/// Packs values of the given C types into message registers; returns each value's slot and
/// the number of words used.
pub fn pack(types: &[&str]) -> (Vec<Slot>, usize) {
    let mut mr = 0usize;
    let mut bit = 0u32;
    let mut out = Vec::new();
    for ty in types {
        let bits = type_bits(ty);
        if bits == 64 {
            if bit > 0 {
                mr += 1;
                bit = 0;
            }
            out.push(Slot { mr, lo: 0, bits });
            mr += 1;
        } else {
            bit = bit.div_ceil(bits) * bits;
            if bit + bits > 64 {
                mr += 1;
                bit = 0;
            }
            out.push(Slot { mr, lo: bit, bits });
            bit += bits;
        }
    }
    if bit > 0 {
        mr += 1;
    }
    (out, mr)
}

fn params(m: &Method, dir: Dir) -> Vec<(&'static str, &'static str)> {
    m.params.iter().filter(|p| p.0 == dir).map(|p| (p.1, p.2)).collect()
}

/// The value of an input parameter as a word.
fn as_word(ty: &str, name: &str) -> String {
    match ty {
        "seL4_CapRights_t" | "seL4_CNode_CapData_t" => format!("{name}.words[0]"),
        _ => format!("(seL4_Word){name}"),
    }
}

fn slot_text(s: &Slot) -> String {
    if s.bits == 64 {
        format!("MR{}", s.mr)
    } else {
        format!("MR{}[{}:{}]", s.mr, s.lo + s.bits - 1, s.lo)
    }
}

/// The method's message layout in the one-line form of the reference data
/// (`seL4_CNode.Copy [CNodeCopy]: len=5 in: MR0=dest_index, … | caps: C0=src_root | out: -`).
/// `None` for the special shapes.
pub fn layout_line(m: &Method) -> Option<String> {
    if m.shape != Shape::Plain {
        return None;
    }
    let ins = params(m, Dir::In);
    let (slots, len) = pack(&ins.iter().map(|p| p.0).collect::<Vec<_>>());
    let caps = params(m, Dir::Cap);
    let outs = params(m, Dir::Out);
    let (oslots, _) = pack(&outs.iter().map(|p| p.0).collect::<Vec<_>>());
    let list = |v: Vec<String>| if v.is_empty() { "-".to_string() } else { v.join(", ") };
    Some(format!(
        "{}.{} [{}]: len={} in: {} | caps: {} | out: {}",
        m.object,
        m.name,
        m.label,
        len,
        list(slots.iter().zip(&ins).map(|(s, p)| format!("{}={}", slot_text(s), p.1)).collect()),
        list(caps.iter().enumerate().map(|(i, c)| format!("C{i}={}", c.1)).collect()),
        list(oslots.iter().zip(&outs).map(|(s, p)| format!("{}={}", slot_text(s), p.1)).collect()),
    ))
}

/// Name of the result struct of a method with outputs.
fn result_type(m: &Method) -> String {
    format!("{}_{}_t", m.object, m.name)
}

/// C code for the method's result struct (if it has outputs) and its stub.
pub fn stub(m: &Method, user_context_words: usize) -> String {
    let mut s = String::new();
    let ins = params(m, Dir::In);
    let caps = params(m, Dir::Cap);
    let outs = params(m, Dir::Out);
    let fname = format!("{}_{}", m.object, m.name);
    let ret = if outs.is_empty() { "seL4_Error".to_string() } else { result_type(m) };
    if !outs.is_empty() {
        s += &format!("typedef struct {}_{} {{\n    int error;\n", m.object, m.name);
        for (ty, name) in &outs {
            s += &format!("    {ty} {name};\n");
        }
        s += &format!("}} {};\n\n", ret);
    }
    // Signature: the invoked cap, then In and Cap parameters in table order.
    let mut sig = vec![format!("{} _service", m.object)];
    for p in m.params.iter().filter(|p| p.0 != Dir::Out) {
        sig.push(format!("{} {}", p.1, p.2));
    }
    match m.shape {
        Shape::ReadRegisters | Shape::WriteRegisters => sig.push("seL4_UserContext *regs".into()),
        Shape::SmcCall => {
            sig.push("seL4_ARM_SMCContext *smc_args".into());
            sig.push("seL4_ARM_SMCContext *smc_response".into());
        }
        Shape::Plain => {}
    }
    s += &format!("LIBSEL4_INLINE {ret} {fname}({})\n{{\n", sig.join(", "));
    for (i, (_, name)) in caps.iter().enumerate() {
        s += &format!("    seL4_SetCap({i}, {name});\n");
    }
    let (slots, mut len) = pack(&ins.iter().map(|p| p.0).collect::<Vec<_>>());
    // Words first zeroed, then each value or-ed in at its position.
    for w in 0..len {
        let mut terms = Vec::new();
        for (sl, (ty, name)) in slots.iter().zip(&ins) {
            if sl.mr != w {
                continue;
            }
            let v = as_word(ty, name);
            if sl.bits == 64 {
                terms.push(v);
            } else {
                terms.push(format!("(({v} & 0x{:x}ull) << {})", (1u128 << sl.bits) - 1, sl.lo));
            }
        }
        s += &format!("    seL4_SetMR({w}, {});\n", terms.join(" | "));
    }
    match m.shape {
        Shape::WriteRegisters => {
            s += &format!(
                "    for (seL4_Word i = 0; i < {user_context_words}; i++) {{\n        seL4_SetMR({len} + i, ((seL4_Word *)regs)[i]);\n    }}\n"
            );
            len += user_context_words;
        }
        Shape::SmcCall => {
            s += "    for (seL4_Word i = 0; i < 8; i++) {\n        seL4_SetMR(i, ((seL4_Word *)smc_args)[i]);\n    }\n";
            len = 8;
        }
        _ => {}
    }
    s += &format!(
        "    seL4_MessageInfo_t tag = seL4_MessageInfo_new({}, 0, {}, {len});\n",
        m.label,
        caps.len()
    );
    s += "    seL4_MessageInfo_t out = seL4_Call(_service, tag);\n";
    s += "    int error = (int)seL4_MessageInfo_get_label(out);\n";
    match m.shape {
        Shape::ReadRegisters => {
            s += "    if (error == seL4_NoError) {\n        for (seL4_Word i = 0; i < count && i < ";
            s += &format!("{user_context_words}; i++) {{\n            ((seL4_Word *)regs)[i] = seL4_GetMR(i);\n        }}\n    }}\n");
        }
        Shape::SmcCall => {
            s += "    if (error == seL4_NoError) {\n        for (seL4_Word i = 0; i < 8; i++) {\n            ((seL4_Word *)smc_response)[i] = seL4_GetMR(i);\n        }\n    }\n";
        }
        _ => {}
    }
    if outs.is_empty() {
        s += "    return (seL4_Error)error;\n}\n\n";
    } else {
        let (oslots, _) = pack(&outs.iter().map(|p| p.0).collect::<Vec<_>>());
        s += &format!("    {ret} result;\n    result.error = error;\n");
        s += "    if (error == seL4_NoError) {\n";
        for (sl, (ty, name)) in oslots.iter().zip(&outs) {
            if sl.bits == 64 {
                s += &format!("        result.{name} = ({ty})seL4_GetMR({});\n", sl.mr);
            } else {
                s += &format!(
                    "        result.{name} = ({ty})((seL4_GetMR({}) >> {}) & 0x{:x}ull);\n",
                    sl.mr,
                    sl.lo,
                    (1u128 << sl.bits) - 1
                );
            }
        }
        s += "    } else {\n";
        for (_, name) in &outs {
            s += &format!("        result.{name} = 0;\n");
        }
        s += "    }\n    return result;\n}\n\n";
    }
    s
}
