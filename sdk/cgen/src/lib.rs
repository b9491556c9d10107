//! Generates the headers of our C SDK for one board and configuration, from the `abi`
//! crate's tables (syscall numbers, labels, object types, errors, layouts) and
//! `microkit-layout` (libmicrokit's cap slots):
//!
//! * `kernel/gen_config.h`: `CONFIG_SEL4_ARCH` and the `CONFIG_*` values a PD may test;
//! * `sel4/sel4.h` and the headers it includes, with libsel4's names: types,
//!   `seL4_MessageInfo_t` helpers, each arch's syscalls as inline assembly, IPC buffer access,
//!   an invocation stub per method of [`methods`], constants, errors, boot info and faults;
//! * `microkit.h`: libmicrokit's API (the functions our `lib/libmicrokit.a` does not define are
//!   inline here, as in Microkit).
//!
//! Nothing here is copied from seL4's or Microkit's headers: the names and numbers are facts
//! of the ABI, the code is written from them.

pub mod methods;
pub mod microkit;
mod syscalls;

use sel4_abi::label::{arch_labels, Arch, Label};
use sel4_abi::object::{self, object_types, ObjectKind};
use sel4_abi::{bootinfo, error::Error, fault, message, syscall::Syscall, vmattr};

/// Microkit's build configurations we generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    /// Kernel printing and debug syscalls on.
    Debug,
    /// No debug output.
    Release,
}

impl Config {
    /// Microkit's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Config::Debug => "debug",
            Config::Release => "release",
        }
    }
    /// The kernel options of Microkit's kernel for this configuration.
    pub fn kernel_config(self) -> sel4_abi::config::KernelConfig {
        match self {
            Config::Debug => sel4_abi::config::KernelConfig::MICROKIT_DEBUG,
            Config::Release => sel4_abi::config::KernelConfig::MICROKIT_RELEASE,
        }
    }
    /// Whether this configuration's kernel on `arch` has `CONFIG_HARDWARE_DEBUG_API` (Microkit
    /// turns it on in `debug` for aarch64 and x86_64), which numbers the labels from
    /// `TCBSetTLSBase` on four higher.
    pub fn hardware_debug_api(self, arch: Arch) -> bool {
        sel4_abi::label::has_hardware_debug_labels(arch, &self.kernel_config())
    }
    /// From Microkit's name.
    pub fn from_name(s: &str) -> Option<Config> {
        match s {
            "debug" => Some(Config::Debug),
            "release" => Some(Config::Release),
            _ => None,
        }
    }
}

/// Microkit's board name for `arch`.
pub fn board_name(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "qemu_virt_aarch64",
        Arch::Riscv64 => "qemu_virt_riscv64",
        Arch::X86_64 => "x86_64_generic",
    }
}

/// The arch of a Microkit board name.
pub fn board_arch(board: &str) -> Option<Arch> {
    [Arch::Aarch64, Arch::Riscv64, Arch::X86_64].into_iter().find(|a| board_name(*a) == board)
}

/// `CONFIG_SEL4_ARCH`'s value.
pub fn sel4_arch(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "aarch64",
        Arch::Riscv64 => "riscv64",
        Arch::X86_64 => "x86_64",
    }
}

/// The inclusive top of user virtual memory (`seL4_UserVSpaceTop`).
pub fn user_vspace_top(arch: Arch) -> u64 {
    object::user_top(arch) - 1
}

/// Where a Microkit 2.3 PD finds its IPC buffer: the top user page of the seL4 build
/// Microkit ships for the board (`seL4_UserVSpaceTop & ~0xfff` there). Microkit's
/// `qemu_virt_aarch64` kernel runs in hypervisor mode with a 40-bit user space, so the page is
/// 0xfffffff000 (measured, `microkit.md`); our EL1 kernel's user space is larger and contains
/// it. riscv64 and x86_64: our own top page. The `microkit` tool maps the buffer there
/// (`microkit_tool::program::top_user_page`).
pub fn ipc_buffer_vaddr(arch: Arch) -> u64 {
    match arch {
        Arch::Aarch64 => 0xff_ffff_f000,
        _ => user_vspace_top(arch) & !0xfff,
    }
}

/// The `CONFIG_*` macros of `kernel/gen_config.h`, as (name, value); an empty value is a
/// plain `#define NAME`.
pub fn config_values(arch: Arch, config: Config) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = Vec::new();
    match arch {
        Arch::Aarch64 => {
            v.push(("CONFIG_ARCH_ARM", "1".into()));
            v.push(("CONFIG_ARCH_AARCH64", "1".into()));
            v.push(("CONFIG_ARM_PLAT", "qemu-arm-virt".into()));
            v.push(("CONFIG_PLAT_QEMU_ARM_VIRT", "1".into()));
            v.push(("CONFIG_ARM_CORTEX_A53", "1".into()));
            v.push(("CONFIG_ALLOW_SMC_CALLS", "1".into()));
            v.push(("CONFIG_ARCH", "arm".into()));
        }
        Arch::Riscv64 => {
            v.push(("CONFIG_ARCH_RISCV", "1".into()));
            v.push(("CONFIG_ARCH_RISCV64", "1".into()));
            v.push(("CONFIG_RISCV_PLAT", "qemu-riscv-virt".into()));
            v.push(("CONFIG_PLAT_QEMU_RISCV_VIRT", "1".into()));
            v.push(("CONFIG_PT_LEVELS", "3".into()));
            v.push(("CONFIG_ARCH", "riscv".into()));
        }
        Arch::X86_64 => {
            v.push(("CONFIG_ARCH_X86", "1".into()));
            v.push(("CONFIG_ARCH_X86_64", "1".into()));
            v.push(("CONFIG_PLAT_PC99", "1".into()));
            v.push(("CONFIG_IOMMU", "1".into()));
            v.push(("CONFIG_HUGE_PAGE", "1".into()));
            v.push(("CONFIG_SYSCALL", "1".into()));
            v.push(("CONFIG_ARCH", "x86".into()));
        }
    }
    v.push(("CONFIG_SEL4_ARCH", sel4_arch(arch).into()));
    v.push(("CONFIG_WORD_SIZE", "64".into()));
    v.push(("CONFIG_KERNEL_MCS", "1".into()));
    v.push(("CONFIG_MAX_NUM_NODES", "1".into()));
    v.push(("CONFIG_NUM_PRIORITIES", sel4_abi::NUM_PRIORITIES.to_string()));
    v.push(("CONFIG_NUM_DOMAINS", sel4_abi::NUM_DOMAINS.to_string()));
    v.push(("CONFIG_NUM_DOMAIN_SCHEDULES", sel4_abi::NUM_DOMAIN_SCHEDULES.to_string()));
    v.push(("CONFIG_ROOT_CNODE_SIZE_BITS", sel4_abi::ROOT_CNODE_SIZE_BITS.to_string()));
    v.push(("CONFIG_RETYPE_FAN_OUT_LIMIT", sel4_abi::RETYPE_FAN_OUT_LIMIT.to_string()));
    v.push(("CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS", bootinfo::MAX_BOOTINFO_UNTYPED_CAPS.to_string()));
    v.push(("CONFIG_BOOT_THREAD_TIME_SLICE", (sel4_abi::BOOT_THREAD_TIME_SLICE_US / 1000).to_string()));
    v.push(("CONFIG_HAVE_FPU", "1".into()));
    if config == Config::Debug {
        v.push(("CONFIG_DEBUG_BUILD", "1".into()));
        v.push(("CONFIG_PRINTING", "1".into()));
    }
    if config.hardware_debug_api(arch) {
        v.push(("CONFIG_HARDWARE_DEBUG_API", "1".into()));
    }
    v
}

fn header(what: &str) -> String {
    format!(
        "/* Generated by microkit-cgen from this project's ABI tables (seL4 16.0.0 MCS ABI): {what}.\n * Do not edit. */\n#pragma once\n\n"
    )
}

fn gen_config(arch: Arch, config: Config) -> String {
    let mut s = header(&format!("kernel configuration for {} ({})", board_name(arch), config.name()));
    for (k, v) in config_values(arch, config) {
        // Two spaces between name and value, as Microkit's example Makefiles read it
        // (`grep 'CONFIG_SEL4_ARCH  ' | cut -d' ' -f4`).
        s += &format!("#define {k}  {v}\n");
    }
    s
}

fn simple_types() -> String {
    let mut s = header("fixed-size types");
    s += "typedef signed char seL4_Int8;\ntypedef short seL4_Int16;\ntypedef int seL4_Int32;\ntypedef long long seL4_Int64;\n";
    s += "typedef unsigned char seL4_Uint8;\ntypedef unsigned short seL4_Uint16;\ntypedef unsigned int seL4_Uint32;\ntypedef unsigned long long seL4_Uint64;\n\n";
    s += "typedef seL4_Int8 seL4_Bool;\n#define seL4_True 1\n#define seL4_False 0\n#define seL4_Null ((void *)0)\n\n";
    s += "typedef seL4_Uint64 seL4_Word;\ntypedef seL4_Word seL4_CPtr;\ntypedef seL4_Uint64 seL4_Time;\ntypedef seL4_Word seL4_NodeId;\ntypedef seL4_Word seL4_PAddr;\ntypedef seL4_Word seL4_Domain;\n\n";
    s += "#define LIBSEL4_INLINE static inline\n#define LIBSEL4_INLINE_FUNC static inline\n#define SEL4_PACKED __attribute__((packed))\n#define SEL4_FORCE_LONG_ENUM(type) _enum_pad_##type = (1ULL << 63) - 1\n";
    s += "#define seL4_Assert(expr) ((void)0)\n#define seL4_Fail(msg) ((void)0)\n";
    s
}

fn constants(arch: Arch) -> String {
    use object::*;
    let mut s = header("constants");
    let c = |name: &str, v: String| format!("#define {name} {v}\n");
    s += &c("seL4_WordBits", sel4_abi::WORD_BITS.to_string());
    s += &c("seL4_WordSizeBits", "3".into());
    s += &c("seL4_BadgeBits", sel4_abi::BADGE_BITS.to_string());
    s += &c("seL4_GuardBits", sel4_abi::GUARD_BITS.to_string());
    s += &c("seL4_GuardSizeBits", sel4_abi::GUARD_SIZE_BITS.to_string());
    s += &c("seL4_NumPriorities", sel4_abi::NUM_PRIORITIES.to_string());
    s += &c("seL4_MinPrio", "0".into());
    s += &c("seL4_MaxPrio", sel4_abi::MAX_PRIO.to_string());
    s += &c("seL4_MsgLengthBits", message::MSG_LENGTH_BITS.to_string());
    s += &c("seL4_MsgExtraCapBits", message::MSG_EXTRA_CAP_BITS.to_string());
    s += &c("seL4_MsgMaxLength", message::MSG_MAX_LENGTH.to_string());
    s += &c("seL4_MsgMaxExtraCaps", message::MSG_MAX_EXTRA_CAPS.to_string());
    s += &c("seL4_FastMessageRegisters", message::FAST_MESSAGE_REGISTERS.to_string());
    s += &c("seL4_IPCBufferSizeBits", IPC_BUFFER_SIZE_BITS.to_string());
    s += &c("seL4_SlotBits", SLOT_BITS.to_string());
    s += &c("seL4_TCBBits", TCB_BITS.to_string());
    s += &c("seL4_EndpointBits", ENDPOINT_BITS.to_string());
    s += &c("seL4_NotificationBits", NOTIFICATION_BITS.to_string());
    s += &c("seL4_ReplyBits", REPLY_BITS.to_string());
    s += &c("seL4_MinSchedContextBits", MIN_SCHED_CONTEXT_BITS.to_string());
    s += &c("seL4_CoreSchedContextBytes", SCHED_CONTEXT_CORE_BYTES.to_string());
    s += &c("seL4_RefillSizeBytes", REFILL_BYTES.to_string());
    s += &c("seL4_PageBits", PAGE_BITS.to_string());
    s += &c("seL4_LargePageBits", LARGE_PAGE_BITS.to_string());
    s += &c("seL4_HugePageBits", HUGE_PAGE_BITS.to_string());
    s += &c("seL4_PageTableBits", PAGE_TABLE_BITS.to_string());
    s += &c("seL4_PageTableIndexBits", PAGE_TABLE_INDEX_BITS.to_string());
    s += &c("seL4_PageTableEntryBits", (PAGE_TABLE_BITS - PAGE_TABLE_INDEX_BITS).to_string());
    s += &c("seL4_VSpaceBits", VSPACE_BITS.to_string());
    s += &c("seL4_ASIDPoolBits", ASID_POOL_BITS.to_string());
    s += &c("seL4_ASIDPoolIndexBits", ASID_POOL_INDEX_BITS.to_string());
    s += &c("seL4_NumASIDPoolsBits", num_asid_pools_bits(arch).to_string());
    s += &c("seL4_MinUntypedBits", MIN_UNTYPED_BITS.to_string());
    s += &c("seL4_MaxUntypedBits", max_untyped_bits(arch).to_string());
    if arch == Arch::X86_64 {
        s += &c("seL4_IOPageTableBits", IO_PAGE_TABLE_BITS.to_string());
        s += &c("seL4_PDPTBits", PAGE_TABLE_BITS.to_string());
        s += &c("seL4_PageDirBits", PAGE_TABLE_BITS.to_string());
        s += &c("seL4_PML4Bits", PAGE_TABLE_BITS.to_string());
    }
    // seL4_UserTop: inclusive on aarch64, exclusive on riscv64 and x86_64 (sel4-abi.md §4).
    let top = user_top(arch);
    let user_top_c = if arch == Arch::Aarch64 { top - 1 } else { top };
    s += &c("seL4_UserTop", format!("0x{user_top_c:x}ull"));
    s += &c("seL4_UserVSpaceTop", format!("0x{:x}ull", user_vspace_top(arch)));
    s += &c("seL4_RootCNodeSizeBits", sel4_abi::ROOT_CNODE_SIZE_BITS.to_string());
    s += &c("seL4_MaxNumBootinfoUntypedCaps", bootinfo::MAX_BOOTINFO_UNTYPED_CAPS.to_string());
    s += "\n/* Initial capability slots of the root task. */\nenum seL4_RootCNodeCapSlots {\n";
    use bootinfo::slots::*;
    for (n, v) in [
        ("seL4_CapNull", NULL),
        ("seL4_CapInitThreadTCB", INIT_THREAD_TCB),
        ("seL4_CapInitThreadCNode", INIT_THREAD_CNODE),
        ("seL4_CapInitThreadVSpace", INIT_THREAD_VSPACE),
        ("seL4_CapIRQControl", IRQ_CONTROL),
        ("seL4_CapASIDControl", ASID_CONTROL),
        ("seL4_CapInitThreadASIDPool", INIT_THREAD_ASID_POOL),
        ("seL4_CapIOPortControl", IO_PORT_CONTROL),
        ("seL4_CapIOSpace", IO_SPACE),
        ("seL4_CapBootInfoFrame", BOOT_INFO_FRAME),
        ("seL4_CapInitThreadIPCBuffer", INIT_THREAD_IPC_BUFFER),
        ("seL4_CapDomain", DOMAIN),
        ("seL4_CapSMMUSIDControl", SMMU_SID_CONTROL),
        ("seL4_CapSMMUCBControl", SMMU_CB_CONTROL),
        ("seL4_CapInitThreadSC", INIT_THREAD_SC),
        ("seL4_CapSMC", SMC),
        ("seL4_NumInitialCaps", NUM_INITIAL_CAPS),
    ] {
        s += &format!("    {n} = {v},\n");
    }
    s += "};\n";
    s
}

fn errors() -> String {
    let mut s = header("errors");
    s += "typedef enum {\n    seL4_NoError = 0,\n";
    for n in 1..sel4_abi::error::NUM_ERRORS {
        let e = Error::from_u64(n).expect("error numbers are dense");
        s += &format!("    seL4_{e:?} = {n},\n");
    }
    s += &format!("    seL4_NumErrors = {},\n    SEL4_FORCE_LONG_ENUM(seL4_Error),\n}} seL4_Error;\n\n", sel4_abi::error::NUM_ERRORS);
    use sel4_abi::error::LookupFailureType as L;
    s += "typedef enum {\n";
    for l in [L::NoFailure, L::InvalidRoot, L::MissingCapability, L::DepthMismatch, L::GuardMismatch] {
        s += &format!("    seL4_{l:?} = {},\n", l as u64);
    }
    s += "    SEL4_FORCE_LONG_ENUM(seL4_LookupFailureType),\n} seL4_LookupFailureType;\n";
    s
}

fn syscall_ids() -> String {
    let mut s = header("system call numbers");
    s += "#include <sel4/config.h>\n\ntypedef enum {\n";
    for sc in Syscall::ALL {
        s += &format!("    seL4_Sys{} = {},\n", sc.name(), sc.number());
    }
    s += "    SEL4_FORCE_LONG_ENUM(seL4_Syscall_ID),\n} seL4_Syscall_ID;\n";
    s
}

/// seL4's names of the four TCB methods `CONFIG_HARDWARE_DEBUG_API` adds, in label order.
pub const HARDWARE_DEBUG_METHODS: [&str; 4] =
    ["TCBSetBreakpoint", "TCBGetBreakpoint", "TCBUnsetBreakpoint", "TCBConfigureSingleStepping"];

/// `sel4/invocation.h`: the label numbers of `config`'s kernel on `arch` (with the hardware
/// debug API, its four TCB labels are listed, as in seL4's header, and every later label
/// moves up by four; no stubs are generated for them, since our kernel does not implement
/// them).
fn invocation_labels(arch: Arch, config: Config) -> String {
    use sel4_abi::label::{wire_label, FIRST_HARDWARE_DEBUG_LABEL};
    let kc = config.kernel_config();
    let wire = |n: u64| wire_label(arch, &kc, n);
    let mut s = header("invocation labels");
    s += "enum invocation_label {\n";
    for l in Label::ALL {
        if l as u64 == FIRST_HARDWARE_DEBUG_LABEL && config.hardware_debug_api(arch) {
            for (i, name) in HARDWARE_DEBUG_METHODS.iter().enumerate() {
                s += &format!("    {name} = {},\n", FIRST_HARDWARE_DEBUG_LABEL + i as u64);
            }
        }
        s += &format!("    {} = {},\n", l.name(), wire(l as u64));
    }
    s += &format!("    nInvocationLabels = {}\n}};\n\n", wire(sel4_abi::label::FIRST_ARCH_LABEL));
    s += "enum arch_invocation_label {\n";
    let labels = arch_labels(arch);
    for (i, (_, name)) in labels.iter().enumerate() {
        s += &format!("    {name} = {},\n", wire(sel4_abi::label::FIRST_ARCH_LABEL + i as u64));
    }
    s += &format!(
        "    nArchInvocationLabels = {}\n}};\n",
        wire(sel4_abi::label::FIRST_ARCH_LABEL + labels.len() as u64)
    );
    s
}

/// libsel4's C name of object type `k` on `arch`.
pub fn object_type_name(arch: Arch, k: ObjectKind) -> &'static str {
    use ObjectKind::*;
    match (arch, k) {
        (_, Untyped) => "seL4_UntypedObject",
        (_, Tcb) => "seL4_TCBObject",
        (_, Endpoint) => "seL4_EndpointObject",
        (_, Notification) => "seL4_NotificationObject",
        (_, CNode) => "seL4_CapTableObject",
        (_, SchedContext) => "seL4_SchedContextObject",
        (_, Reply) => "seL4_ReplyObject",
        (Arch::Aarch64, Frame { size_bits: 30 }) => "seL4_ARM_HugePageObject",
        (Arch::Aarch64, Frame { size_bits: 21 }) => "seL4_ARM_LargePageObject",
        (Arch::Aarch64, Frame { .. }) => "seL4_ARM_SmallPageObject",
        (Arch::Aarch64, VSpace) => "seL4_ARM_VSpaceObject",
        (Arch::Aarch64, PageTable) => "seL4_ARM_PageTableObject",
        (Arch::Riscv64, Frame { size_bits: 30 }) => "seL4_RISCV_Giga_Page",
        (Arch::Riscv64, Frame { size_bits: 21 }) => "seL4_RISCV_Mega_Page",
        (Arch::Riscv64, Frame { .. }) => "seL4_RISCV_4K_Page",
        (Arch::Riscv64, PageTable) => "seL4_RISCV_PageTableObject",
        (Arch::X86_64, Frame { size_bits: 30 }) => "seL4_X64_HugePageObject",
        (Arch::X86_64, Frame { size_bits: 21 }) => "seL4_X86_LargePageObject",
        (Arch::X86_64, Frame { .. }) => "seL4_X86_4K",
        (Arch::X86_64, VSpace) => "seL4_X64_PML4Object",
        (Arch::X86_64, PageTable) => "seL4_X86_PageTableObject",
        (Arch::X86_64, X86Pdpt) => "seL4_X86_PDPTObject",
        (Arch::X86_64, X86PageDirectory) => "seL4_X86_PageDirectoryObject",
        (Arch::X86_64, IoPageTable) => "seL4_X86_IOPageTableObject",
        _ => "seL4_InvalidObjectType",
    }
}

fn object_type(arch: Arch) -> String {
    let mut s = header("object types");
    s += "typedef enum {\n";
    let types = object_types(arch);
    for (i, k) in types.iter().enumerate() {
        s += &format!("    {} = {i},\n", object_type_name(arch, *k));
    }
    s += &format!("    seL4_ObjectTypeCount = {},\n    SEL4_FORCE_LONG_ENUM(seL4_ObjectType),\n}} seL4_ObjectType;\n", types.len());
    s += "typedef seL4_Word api_object_t;\n";
    // Arch-neutral aliases libsel4 offers.
    let alias = |a: &str, k: ObjectKind| format!("#define {a} {}\n", object_type_name(arch, k));
    s += &alias("seL4_PageTableObject", ObjectKind::PageTable);
    if arch == Arch::Riscv64 {
        s += &alias("seL4_VSpaceObject", ObjectKind::PageTable);
    } else {
        s += &alias("seL4_VSpaceObject", ObjectKind::VSpace);
    }
    s += &alias("seL4_PageObject", ObjectKind::Frame { size_bits: 12 });
    s += &alias("seL4_LargePageObject", ObjectKind::Frame { size_bits: 21 });
    s += &alias("seL4_HugePageObject", ObjectKind::Frame { size_bits: 30 });
    s
}

fn shared_types() -> String {
    use message::*;
    let mut s = header("message info, cap rights and CNode cap data");
    let len_bits = MSG_LENGTH_BITS;
    let caps_bits = MSG_EXTRA_CAP_BITS;
    let unwrapped_shift = len_bits + caps_bits;
    let label_shift = unwrapped_shift + 3;
    // Check the layout against abi's own encoder.
    let probe = MessageInfo::new(0x1234, 5, 2, 0x55).to_word();
    assert_eq!(probe, (0x1234 << label_shift) | (5 << unwrapped_shift) | (2 << len_bits) | 0x55);
    s += "typedef struct seL4_MessageInfo {\n    seL4_Uint64 words[1];\n} seL4_MessageInfo_t;\n\n";
    s += &format!(
        "LIBSEL4_INLINE seL4_MessageInfo_t seL4_MessageInfo_new(seL4_Uint64 label, seL4_Uint64 capsUnwrapped, seL4_Uint64 extraCaps, seL4_Uint64 length)\n{{\n    seL4_MessageInfo_t m;\n    m.words[0] = ((label & 0x{lm:x}ull) << {label_shift}) | ((capsUnwrapped & 0x7ull) << {unwrapped_shift}) | ((extraCaps & 0x{cm:x}ull) << {len_bits}) | (length & 0x{llm:x}ull);\n    return m;\n}}\n\n",
        lm = (1u64 << (64 - label_shift)) - 1,
        cm = (1u64 << caps_bits) - 1,
        llm = (1u64 << len_bits) - 1,
    );
    for (field, shift, mask) in [
        ("label", label_shift, (1u64 << (64 - label_shift)) - 1),
        ("capsUnwrapped", unwrapped_shift, 7),
        ("extraCaps", len_bits, (1u64 << caps_bits) - 1),
        ("length", 0, (1u64 << len_bits) - 1),
    ] {
        s += &format!("LIBSEL4_INLINE seL4_Uint64 seL4_MessageInfo_get_{field}(seL4_MessageInfo_t m)\n{{\n    return (m.words[0] >> {shift}) & 0x{mask:x}ull;\n}}\n\n");
        s += &format!("LIBSEL4_INLINE seL4_MessageInfo_t seL4_MessageInfo_set_{field}(seL4_MessageInfo_t m, seL4_Uint64 v)\n{{\n    m.words[0] = (m.words[0] & ~(0x{mask:x}ull << {shift})) | ((v & 0x{mask:x}ull) << {shift});\n    return m;\n}}\n\n");
    }
    // Cap rights: bit0 Write, bit1 Read, bit2 Grant, bit3 GrantReply.
    let r = |gr: bool, g: bool, rd: bool, w: bool| CapRights::new(gr, g, rd, w).to_word();
    assert_eq!(r(false, false, false, true), 1 << 0);
    assert_eq!(r(false, false, true, false), 1 << 1);
    assert_eq!(r(false, true, false, false), 1 << 2);
    assert_eq!(r(true, false, false, false), 1 << 3);
    s += "typedef struct seL4_CapRights {\n    seL4_Uint64 words[1];\n} seL4_CapRights_t;\n\n";
    s += "LIBSEL4_INLINE seL4_CapRights_t seL4_CapRights_new(seL4_Uint64 capAllowGrantReply, seL4_Uint64 capAllowGrant, seL4_Uint64 capAllowRead, seL4_Uint64 capAllowWrite)\n{\n    seL4_CapRights_t r;\n    r.words[0] = ((capAllowGrantReply & 1ull) << 3) | ((capAllowGrant & 1ull) << 2) | ((capAllowRead & 1ull) << 1) | (capAllowWrite & 1ull);\n    return r;\n}\n\n";
    for (field, bit) in [("capAllowWrite", 0), ("capAllowRead", 1), ("capAllowGrant", 2), ("capAllowGrantReply", 3)] {
        s += &format!("LIBSEL4_INLINE seL4_Uint64 seL4_CapRights_get_{field}(seL4_CapRights_t r)\n{{\n    return (r.words[0] >> {bit}) & 1ull;\n}}\n\n");
    }
    s += "#define seL4_CanWrite seL4_CapRights_new(0, 0, 0, 1)\n#define seL4_CanRead seL4_CapRights_new(0, 0, 1, 0)\n#define seL4_CanGrant seL4_CapRights_new(0, 1, 0, 0)\n#define seL4_CanGrantReply seL4_CapRights_new(1, 0, 0, 0)\n#define seL4_AllRights seL4_CapRights_new(1, 1, 1, 1)\n#define seL4_ReadWrite seL4_CapRights_new(0, 0, 1, 1)\n#define seL4_NoWrite seL4_CapRights_new(1, 1, 1, 0)\n#define seL4_NoRead seL4_CapRights_new(1, 1, 0, 1)\n#define seL4_NoRights seL4_CapRights_new(0, 0, 0, 0)\n\n";
    let cd = CNodeCapData { guard: 0x2a, guard_size: 3 }.to_word();
    assert_eq!(cd, (0x2a << GUARD_SIZE_FIELD) | 3);
    s += "typedef struct seL4_CNode_CapData {\n    seL4_Uint64 words[1];\n} seL4_CNode_CapData_t;\n\n";
    s += &format!("LIBSEL4_INLINE seL4_CNode_CapData_t seL4_CNode_CapData_new(seL4_Uint64 guard, seL4_Uint64 guardSize)\n{{\n    seL4_CNode_CapData_t d;\n    d.words[0] = ((guard & 0x{:x}ull) << {GUARD_SIZE_FIELD}) | (guardSize & 0x{:x}ull);\n    return d;\n}}\n",
        (1u64 << sel4_abi::GUARD_BITS) - 1, (1u64 << sel4_abi::GUARD_SIZE_BITS) - 1);
    s
}

/// Bit position of the guard in CNode cap data (after the guard-size field).
const GUARD_SIZE_FIELD: u32 = sel4_abi::GUARD_SIZE_BITS;

/// libsel4's names of the `seL4_UserContext` words on `arch`, in order.
pub fn user_context_fields(arch: Arch) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    let range = |p: &'static str, a: u32, b: u32| (a..=b).map(move |i| format!("{p}{i}"));
    match arch {
        Arch::Aarch64 => {
            v.extend(["pc", "sp", "spsr"].map(String::from));
            v.extend(range("x", 0, 8));
            v.extend(["x16", "x17", "x18", "x29", "x30"].map(String::from));
            v.extend(range("x", 9, 15));
            v.extend(range("x", 19, 28));
            v.extend(["tpidr_el0", "tpidrro_el0"].map(String::from));
        }
        Arch::Riscv64 => {
            v.extend(["pc", "ra", "sp", "gp"].map(String::from));
            v.extend(range("s", 0, 11));
            v.extend(range("a", 0, 7));
            v.extend(range("t", 0, 6));
            v.push("tp".into());
        }
        Arch::X86_64 => {
            v.extend(["rip", "rsp", "rflags", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp"].map(String::from));
            v.extend(range("r", 8, 15));
            v.extend(["fs_base", "gs_base"].map(String::from));
        }
    }
    assert_eq!(v.len(), fault::user_context_words(arch));
    v
}

fn types(arch: Arch) -> String {
    use message::ipc_buffer as ib;
    let mut s = header("object, IPC buffer, user context and boot info types");
    s += "#include <sel4/simple_types.h>\n#include <sel4/constants.h>\n#include <sel4/shared_types.h>\n\n";
    for t in [
        "seL4_CNode", "seL4_IRQHandler", "seL4_IRQControl", "seL4_TCB", "seL4_Untyped", "seL4_DomainSet",
        "seL4_SchedContext", "seL4_SchedControl",
    ] {
        s += &format!("typedef seL4_CPtr {t};\n");
    }
    let arch_types: &[&str] = match arch {
        Arch::Aarch64 => &[
            "seL4_ARM_VSpace", "seL4_ARM_Page", "seL4_ARM_PageTable", "seL4_ARM_ASIDControl", "seL4_ARM_ASIDPool",
            "seL4_ARM_SMC", "seL4_ARM_VCPU", "seL4_ARM_IOSpace", "seL4_ARM_IOPageTable",
        ],
        Arch::Riscv64 => &["seL4_RISCV_Page", "seL4_RISCV_PageTable", "seL4_RISCV_ASIDControl", "seL4_RISCV_ASIDPool"],
        Arch::X86_64 => &[
            "seL4_X86_ASIDControl", "seL4_X86_ASIDPool", "seL4_X86_IOSpace", "seL4_X86_IOPort", "seL4_X86_IOPortControl",
            "seL4_X86_Page", "seL4_X86_PageDirectory", "seL4_X86_PageTable", "seL4_X86_IOPageTable", "seL4_X86_PDPT",
            "seL4_X64_PML4",
        ],
    };
    for t in arch_types {
        s += &format!("typedef seL4_CPtr {t};\n");
    }
    let (enum_name, _) = match arch {
        Arch::Aarch64 => ("seL4_ARM_VMAttributes", ()),
        Arch::Riscv64 => ("seL4_RISCV_VMAttributes", ()),
        Arch::X86_64 => ("seL4_X86_VMAttributes", ()),
    };
    s += "\ntypedef enum {\n";
    for (n, v) in vmattr::vm_attributes(arch) {
        s += &format!("    {n} = {v},\n");
    }
    s += &format!("    SEL4_FORCE_LONG_ENUM({enum_name}),\n}} {enum_name};\n\n");

    // IPC buffer, laid out as abi::message::ipc_buffer says (checked by static asserts).
    let msg_words = (ib::USER_DATA - ib::MSG) / 8;
    let caps = (ib::RECEIVE_CNODE - ib::CAPS_OR_BADGES) / 8;
    s += &format!(
        "typedef struct seL4_IPCBuffer_ {{\n    seL4_MessageInfo_t tag;\n    seL4_Word msg[{msg_words}];\n    seL4_Word userData;\n    seL4_Word caps_or_badges[{caps}];\n    seL4_CPtr receiveCNode;\n    seL4_CPtr receiveIndex;\n    seL4_Word receiveDepth;\n}} seL4_IPCBuffer __attribute__((__aligned__(sizeof(struct seL4_IPCBuffer_))));\n\n"
    );
    s += &format!("_Static_assert(sizeof(seL4_IPCBuffer) == {}, \"IPC buffer size\");\n", ib::SIZE);
    s += &format!("_Static_assert(__builtin_offsetof(seL4_IPCBuffer, userData) == {}, \"IPC buffer userData\");\n", ib::USER_DATA);
    s += &format!("_Static_assert(__builtin_offsetof(seL4_IPCBuffer, receiveDepth) == {}, \"IPC buffer receiveDepth\");\n\n", ib::RECEIVE_DEPTH);

    s += "typedef struct seL4_UserContext_ {\n";
    for f in user_context_fields(arch) {
        s += &format!("    seL4_Word {f};\n");
    }
    s += "} seL4_UserContext;\n\n";
    if arch == Arch::Aarch64 {
        s += "typedef struct seL4_ARM_SMCContext_ {\n";
        for i in 0..8 {
            s += &format!("    seL4_Word x{i};\n");
        }
        s += "} seL4_ARM_SMCContext;\n\n";
    }

    // Boot info (MCS layout).
    s += "typedef struct seL4_SlotRegion {\n    seL4_Word start;\n    seL4_Word end;\n} seL4_SlotRegion;\n\n";
    s += "typedef struct seL4_UntypedDesc {\n    seL4_Word paddr;\n    seL4_Uint8 sizeBits;\n    seL4_Uint8 isDevice;\n    seL4_Uint8 padding[6];\n} seL4_UntypedDesc;\n\n";
    s += "typedef struct seL4_BootInfo {\n    seL4_Word extraLen;\n    seL4_NodeId nodeID;\n    seL4_Word numNodes;\n    seL4_Word numIOPTLevels;\n    seL4_IPCBuffer *ipcBuffer;\n    seL4_SlotRegion empty;\n    seL4_SlotRegion sharedFrames;\n    seL4_SlotRegion userImageFrames;\n    seL4_SlotRegion userImagePaging;\n    seL4_SlotRegion ioSpaceCaps;\n    seL4_SlotRegion extraBIPages;\n    seL4_Word initThreadCNodeSizeBits;\n    seL4_Domain initThreadDomain;\n    seL4_SlotRegion schedcontrol;\n    seL4_SlotRegion untyped;\n";
    s += &format!("    seL4_UntypedDesc untypedList[{}];\n}} seL4_BootInfo;\n\n", bootinfo::MAX_BOOTINFO_UNTYPED_CAPS);
    use bootinfo::offsets as o;
    for (f, off) in [
        ("ipcBuffer", o::IPC_BUFFER), ("empty", o::EMPTY), ("extraBIPages", o::EXTRA_BI_PAGES),
        ("initThreadCNodeSizeBits", o::INIT_THREAD_CNODE_SIZE_BITS), ("schedcontrol", o::SCHEDCONTROL),
        ("untyped", o::UNTYPED), ("untypedList", o::UNTYPED_LIST),
    ] {
        s += &format!("_Static_assert(__builtin_offsetof(seL4_BootInfo, {f}) == {off}, \"boot info {f}\");\n");
    }
    s += &format!("_Static_assert(sizeof(seL4_BootInfo) == {}, \"boot info size\");\n\n", bootinfo::BootInfo::SIZE);
    s += "typedef struct seL4_BootInfoHeader {\n    seL4_Word id;\n    seL4_Word len;\n} seL4_BootInfoHeader;\n\n";
    use bootinfo::extra_id as x;
    s += "typedef enum {\n";
    for (n, v) in [
        ("SEL4_BOOTINFO_HEADER_PADDING", x::PADDING), ("SEL4_BOOTINFO_HEADER_X86_VBE", x::X86_VBE),
        ("SEL4_BOOTINFO_HEADER_X86_MBMMAP", x::X86_MBMMAP), ("SEL4_BOOTINFO_HEADER_X86_ACPI_RSDP", x::X86_ACPI_RSDP),
        ("SEL4_BOOTINFO_HEADER_X86_FRAMEBUFFER", x::X86_FRAMEBUFFER), ("SEL4_BOOTINFO_HEADER_X86_TSC_FREQ", x::X86_TSC_FREQ),
        ("SEL4_BOOTINFO_HEADER_FDT", x::FDT),
    ] {
        s += &format!("    {n} = {v},\n");
    }
    s += "    SEL4_FORCE_LONG_ENUM(seL4_BootInfoID),\n} seL4_BootInfoID;\n";
    s
}

fn faults(arch: Arch) -> String {
    use fault::*;
    let mut s = header("fault types and fault message layouts");
    s += "typedef enum {\n";
    for f in [FaultType::NullFault, FaultType::CapFault, FaultType::UnknownSyscall, FaultType::UserException, FaultType::Timeout, FaultType::VmFault] {
        let name = match f {
            FaultType::VmFault => "VMFault".to_string(),
            other => format!("{other:?}"),
        };
        s += &format!("    seL4_Fault_{name} = {},\n", f as u64);
    }
    s += "    SEL4_FORCE_LONG_ENUM(seL4_FaultType),\n} seL4_FaultType;\n\n";
    let e = |prefix: &str, items: &[(&str, usize)], len: usize| {
        let mut t = "enum {\n".to_string();
        for (n, v) in items {
            t += &format!("    seL4_{prefix}_{n} = {v},\n");
        }
        t += &format!("    seL4_{prefix}_Length = {len},\n}};\n\n");
        t
    };
    s += &e("CapFault", &[
        ("IP", cap_fault::IP), ("Addr", cap_fault::ADDR), ("InRecvPhase", cap_fault::IN_RECV_PHASE),
        ("LookupFailureType", cap_fault::LOOKUP_FAILURE_TYPE), ("BitsLeft", cap_fault::BITS_LEFT),
        ("DepthMismatch_BitsFound", cap_fault::DEPTH_MISMATCH_BITS_FOUND),
        ("GuardMismatch_GuardFound", cap_fault::GUARD_MISMATCH_GUARD_FOUND),
        ("GuardMismatch_BitsFound", cap_fault::GUARD_MISMATCH_BITS_FOUND),
    ], cap_fault::LENGTH);
    s += &e("VMFault", &[("IP", vm_fault::IP), ("Addr", vm_fault::ADDR), ("PrefetchFault", vm_fault::PREFETCH_FAULT), ("FSR", vm_fault::FSR)], vm_fault::LENGTH);
    s += &e("Timeout", &[("Data", timeout::DATA), ("Consumed", timeout::CONSUMED)], timeout::LENGTH);
    let mut ue = vec![("FaultIP", user_exception::FAULT_IP), ("SP", user_exception::SP)];
    if arch != Arch::Riscv64 {
        ue.push(("FLAGS", 2));
    }
    ue.push(("Number", user_exception::number_index(arch)));
    ue.push(("Code", user_exception::code_index(arch)));
    s += &e("UserException", &ue, user_exception_length(arch));
    let us: Vec<(&str, usize)> = vec![
        ("FaultIP", unknown_syscall_fault_ip_index(arch)),
        ("SP", unknown_syscall_sp_index(arch)),
        ("Syscall", unknown_syscall_syscall_index(arch)),
    ];
    s += &e("UnknownSyscall", &us, unknown_syscall_length(arch));
    s += &format!("#define seL4_TimeoutReply_Length {}\n", timeout_reply_length(arch));
    s
}

fn functions() -> String {
    let mut s = header("IPC buffer access");
    s += "#include <sel4/types.h>\n\n";
    s += "/* The calling thread's IPC buffer (libmicrokit sets it to the page the tool maps). */\nextern seL4_IPCBuffer *__sel4_ipc_buffer;\n\n";
    s += "LIBSEL4_INLINE void seL4_SetIPCBuffer(seL4_IPCBuffer *ipc_buffer)\n{\n    __sel4_ipc_buffer = ipc_buffer;\n}\n\n";
    s += "LIBSEL4_INLINE seL4_IPCBuffer *seL4_GetIPCBuffer(void)\n{\n    return __sel4_ipc_buffer;\n}\n\n";
    s += "LIBSEL4_INLINE seL4_Word seL4_GetMR(int i)\n{\n    return seL4_GetIPCBuffer()->msg[i];\n}\n\n";
    s += "LIBSEL4_INLINE void seL4_SetMR(int i, seL4_Word mr)\n{\n    seL4_GetIPCBuffer()->msg[i] = mr;\n}\n\n";
    s += "LIBSEL4_INLINE seL4_Word seL4_GetUserData(void)\n{\n    return seL4_GetIPCBuffer()->userData;\n}\n\n";
    s += "LIBSEL4_INLINE void seL4_SetUserData(seL4_Word data)\n{\n    seL4_GetIPCBuffer()->userData = data;\n}\n\n";
    s += "LIBSEL4_INLINE seL4_Word seL4_GetBadge(int i)\n{\n    return seL4_GetIPCBuffer()->caps_or_badges[i];\n}\n\n";
    s += "LIBSEL4_INLINE seL4_CPtr seL4_GetCap(int i)\n{\n    return (seL4_CPtr)seL4_GetIPCBuffer()->caps_or_badges[i];\n}\n\n";
    s += "LIBSEL4_INLINE void seL4_SetCap(int i, seL4_CPtr cptr)\n{\n    seL4_GetIPCBuffer()->caps_or_badges[i] = (seL4_Word)cptr;\n}\n\n";
    s += "LIBSEL4_INLINE void seL4_GetCapReceivePath(seL4_CPtr *receiveCNode, seL4_CPtr *receiveIndex, seL4_Word *receiveDepth)\n{\n    seL4_IPCBuffer *b = seL4_GetIPCBuffer();\n    if (receiveCNode) {\n        *receiveCNode = b->receiveCNode;\n    }\n    if (receiveIndex) {\n        *receiveIndex = b->receiveIndex;\n    }\n    if (receiveDepth) {\n        *receiveDepth = b->receiveDepth;\n    }\n}\n\n";
    s += "LIBSEL4_INLINE void seL4_SetCapReceivePath(seL4_CPtr receiveCNode, seL4_CPtr receiveIndex, seL4_Word receiveDepth)\n{\n    seL4_IPCBuffer *b = seL4_GetIPCBuffer();\n    b->receiveCNode = receiveCNode;\n    b->receiveIndex = receiveIndex;\n    b->receiveDepth = receiveDepth;\n}\n";
    s
}

fn client(arch: Arch) -> String {
    let mut s = header("object invocation stubs");
    s += "#include <sel4/types.h>\n#include <sel4/functions.h>\n#include <sel4/syscalls.h>\n#include <sel4/invocation.h>\n#include <sel4/errors.h>\n\n";
    let words = fault::user_context_words(arch);
    for (m, _) in methods::methods(arch) {
        s += &methods::stub(&m, words);
    }
    s
}

fn sel4_h() -> String {
    let mut s = header("the libsel4-compatible API");
    for h in [
        "sel4/config.h", "sel4/simple_types.h", "sel4/macros.h", "sel4/constants.h", "sel4/errors.h", "sel4/syscall.h",
        "sel4/invocation.h", "sel4/objecttype.h", "sel4/shared_types.h", "sel4/types.h", "sel4/bootinfo_types.h",
        "sel4/faults.h", "sel4/functions.h", "sel4/syscalls.h", "sel4/client.h",
    ] {
        s += &format!("#include <{h}>\n");
    }
    s
}

/// Every header for `arch`/`config`, as (path under `include/`, contents).
pub fn headers(arch: Arch, config: Config) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![
        ("kernel/gen_config.h".into(), gen_config(arch, config)),
        ("sel4/config.h".into(), header("configuration") + "#include <kernel/gen_config.h>\n"),
        ("sel4/gen_config.h".into(), header("configuration (libsel4 name)") + "#include <kernel/gen_config.h>\n"),
        ("sel4/simple_types.h".into(), simple_types()),
        ("sel4/macros.h".into(), header("macros") + "#include <sel4/simple_types.h>\n"),
        ("sel4/constants.h".into(), constants(arch)),
        ("sel4/errors.h".into(), header("errors (include)") + "#include <sel4/simple_types.h>\n#include <sel4/error_codes.h>\n"),
        ("sel4/error_codes.h".into(), errors()),
        ("sel4/syscall.h".into(), syscall_ids()),
        ("sel4/invocation.h".into(), invocation_labels(arch, config)),
        ("sel4/objecttype.h".into(), object_type(arch)),
        ("sel4/shared_types.h".into(), header("shared types (include)") + "#include <sel4/simple_types.h>\n#include <sel4/shared_types_gen.h>\n"),
        ("sel4/shared_types_gen.h".into(), shared_types()),
        ("sel4/types.h".into(), types(arch)),
        ("sel4/bootinfo_types.h".into(), header("boot info (include)") + "#include <sel4/types.h>\n"),
        ("sel4/faults.h".into(), faults(arch)),
        ("sel4/functions.h".into(), functions()),
        ("sel4/syscalls.h".into(), syscalls::syscalls(arch)),
        ("sel4/client.h".into(), client(arch)),
        ("sel4/sel4.h".into(), sel4_h()),
        ("microkit.h".into(), microkit::microkit_h(arch, ipc_buffer_vaddr(arch))),
    ];
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The method layout lines of every generated plain method on `arch` (see
/// [`methods::layout_line`]).
pub fn layout_lines(arch: Arch) -> Vec<String> {
    methods::methods(arch).iter().filter_map(|(m, _)| methods::layout_line(m)).collect()
}
