//! The generated C headers compile with clang for each arch and configuration, and what C
//! sees (sizes, offsets, enum values, label numbers, constants) agrees with the `abi` and
//! `microkit-layout` crates. The invocation layouts also agree with seL4's generated method
//! layouts in the reference data folder when it is present (skipped visibly otherwise).
//!
//! Needs Debian's clang (`make setup` installs it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use microkit_cgen::{board_name, headers, layout_lines, methods, object_type_name, user_context_fields, Config};
use sel4_abi::label::{arch_labels, Arch, Label, FIRST_ARCH_LABEL};
use sel4_abi::message::ipc_buffer as ib;
use sel4_abi::object::object_types;
use sel4_abi::syscall::Syscall;
use sel4_abi::{bootinfo, error, fault};

const ARCHES: [Arch; 3] = [Arch::Aarch64, Arch::Riscv64, Arch::X86_64];

fn triple(arch: Arch) -> (&'static str, &'static [&'static str]) {
    match arch {
        Arch::Aarch64 => ("aarch64-none-elf", &["-mstrict-align"]),
        Arch::Riscv64 => ("riscv64-unknown-elf", &["-march=rv64imafdc", "-mabi=lp64d"]),
        Arch::X86_64 => ("x86_64-linux-gnu", &["-march=x86-64"]),
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn write_headers(dir: &Path, arch: Arch, config: Config) {
    for (p, text) in headers(arch, config) {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(f, text).expect("write header");
    }
}

/// Static assertions of everything C can check at compile time.
fn check_source(arch: Arch, config: Config) -> String {
    let mut s = String::from("#include <microkit.h>\n#include <stddef.h>\n#define CHECK(e) _Static_assert(e, #e)\n");
    let mut c = |e: String| writeln!(s, "CHECK({e});").expect("write");
    // IPC buffer.
    c(format!("sizeof(seL4_IPCBuffer) == {}", ib::SIZE));
    c(format!("_Alignof(seL4_IPCBuffer) == {}", ib::SIZE));
    for (f, off) in [
        ("tag", ib::TAG), ("msg", ib::MSG), ("userData", ib::USER_DATA), ("caps_or_badges", ib::CAPS_OR_BADGES),
        ("receiveCNode", ib::RECEIVE_CNODE), ("receiveIndex", ib::RECEIVE_INDEX), ("receiveDepth", ib::RECEIVE_DEPTH),
    ] {
        c(format!("offsetof(seL4_IPCBuffer, {f}) == {off}"));
    }
    c(format!("sizeof(((seL4_IPCBuffer *)0)->msg) / 8 == {}", sel4_abi::message::MSG_MAX_LENGTH));
    c(format!("seL4_MsgMaxLength == {}", sel4_abi::message::MSG_MAX_LENGTH));
    c(format!("seL4_MsgMaxExtraCaps == {}", sel4_abi::message::MSG_MAX_EXTRA_CAPS));
    c(format!("sizeof(seL4_MessageInfo_t) == 8 && sizeof(seL4_Word) == {}", sel4_abi::WORD_BYTES));
    // User context: the words in order.
    let fields = user_context_fields(arch);
    c(format!("sizeof(seL4_UserContext) == {}", 8 * fault::user_context_words(arch)));
    for (i, f) in fields.iter().enumerate() {
        c(format!("offsetof(seL4_UserContext, {f}) == {}", 8 * i));
    }
    // Boot info.
    use bootinfo::offsets as o;
    for (f, off) in [
        ("extraLen", o::EXTRA_LEN), ("nodeID", o::NODE_ID), ("numNodes", o::NUM_NODES), ("numIOPTLevels", o::NUM_IOPT_LEVELS),
        ("ipcBuffer", o::IPC_BUFFER), ("empty", o::EMPTY), ("sharedFrames", o::SHARED_FRAMES),
        ("userImageFrames", o::USER_IMAGE_FRAMES), ("userImagePaging", o::USER_IMAGE_PAGING),
        ("ioSpaceCaps", o::IO_SPACE_CAPS), ("extraBIPages", o::EXTRA_BI_PAGES),
        ("initThreadCNodeSizeBits", o::INIT_THREAD_CNODE_SIZE_BITS), ("initThreadDomain", o::INIT_THREAD_DOMAIN),
        ("schedcontrol", o::SCHEDCONTROL), ("untyped", o::UNTYPED), ("untypedList", o::UNTYPED_LIST),
    ] {
        c(format!("offsetof(seL4_BootInfo, {f}) == {off}"));
    }
    c(format!("sizeof(seL4_BootInfo) == {}", bootinfo::BootInfo::SIZE));
    c(format!("sizeof(seL4_UntypedDesc) == {}", core::mem::size_of::<bootinfo::UntypedDesc>()));
    c(format!("seL4_NumInitialCaps == {}", bootinfo::slots::NUM_INITIAL_CAPS));
    c(format!("seL4_CapInitThreadSC == {}", bootinfo::slots::INIT_THREAD_SC));
    // Labels.
    // Labels, numbered as the configuration's kernel numbers them (Microkit's debug kernels on
    // aarch64 and x86_64 have CONFIG_HARDWARE_DEBUG_API: IRQAckIRQ is 31 there, as in seL4's
    // generated header).
    let kc = config.kernel_config();
    let wire = |n: u64| sel4_abi::label::wire_label(arch, &kc, n);
    for l in Label::ALL {
        c(format!("{} == {}", l.name(), wire(l as u64)));
    }
    for (i, (_, name)) in arch_labels(arch).iter().enumerate() {
        c(format!("{name} == {}", wire(FIRST_ARCH_LABEL + i as u64)));
    }
    if config.hardware_debug_api(arch) {
        c("IRQAckIRQ == 31 && TCBSetBreakpoint == 16 && TCBConfigureSingleStepping == 19".into());
        c("CONFIG_HARDWARE_DEBUG_API == 1".into());
    } else {
        c("IRQAckIRQ == 27".into());
    }
    // Object types.
    for (i, k) in object_types(arch).iter().enumerate() {
        c(format!("{} == {i}", object_type_name(arch, *k)));
    }
    c(format!("seL4_ObjectTypeCount == {}", object_types(arch).len()));
    // Syscalls, errors, faults.
    for sc in Syscall::ALL {
        c(format!("seL4_Sys{} == {}", sc.name(), sc.number()));
    }
    for n in 1..error::NUM_ERRORS {
        c(format!("seL4_{:?} == {n}", error::Error::from_u64(n).expect("dense")));
    }
    c(format!("seL4_Fault_VMFault == {}", fault::FaultType::VmFault as u64));
    c(format!("seL4_Fault_Timeout == {}", fault::FaultType::Timeout as u64));
    c(format!("seL4_VMFault_FSR == {} && seL4_VMFault_Length == {}", fault::vm_fault::FSR, fault::vm_fault::LENGTH));
    c(format!("seL4_CapFault_LookupFailureType == {}", fault::cap_fault::LOOKUP_FAILURE_TYPE));
    c(format!("seL4_UserException_Number == {}", fault::user_exception::number_index(arch)));
    c(format!("seL4_UnknownSyscall_Syscall == {}", fault::unknown_syscall_syscall_index(arch)));
    c(format!("seL4_UserVSpaceTop == 0x{:x}ull", sel4_abi::object::user_top(arch) - 1));
    // libmicrokit's slots.
    use microkit_layout as l;
    c(format!("BASE_OUTPUT_NOTIFICATION_CAP == {}", l::BASE_OUTPUT_NOTIFICATION_CAP));
    c(format!("BASE_ENDPOINT_CAP == {}", l::BASE_ENDPOINT_CAP));
    c(format!("BASE_IRQ_CAP == {}", l::BASE_IRQ_CAP));
    c(format!("BASE_TCB_CAP == {}", l::BASE_TCB_CAP));
    c(format!("BASE_IOPORT_CAP == {}", l::BASE_IOPORT_CAP));
    c(format!("MONITOR_EP == {}", l::MONITOR_EP_CAP));
    c(format!("MICROKIT_PD_NAME_LENGTH == {}", l::PD_NAME_LENGTH));
    // Microkit 2.3's names for the root CNode of a PD with a <cspace>.
    c(format!("PD_ROOT_CAP_BITS == {} && PD_ROOT_CAP_SIZE == {}", l::PD_ROOT_CAP_BITS, 1u64 << l::PD_ROOT_CAP_BITS));
    c(format!("sizeof(microkit_name) == {}", l::PD_NAME_LENGTH));
    // Every stub and every microkit.h function exists with a usable type.
    s += "void *all_functions[] = {\n";
    for (m, _) in methods::methods(arch) {
        let _ = writeln!(s, "    (void *){}_{},", m.object, m.name);
    }
    for f in microkit_cgen::microkit::api_functions(arch) {
        let _ = writeln!(s, "    (void *){f},");
    }
    s += "};\n";
    // Code that uses the syscalls, so the inline assembly goes through the back end.
    s += "void init(void) {}\nvoid notified(microkit_channel ch) { (void)ch; }\n";
    s += "seL4_Word exercise(seL4_CPtr c, seL4_Word *badge)\n{\n    seL4_MessageInfo_t m = seL4_MessageInfo_new(1, 0, 0, 4);\n    seL4_Send(c, m);\n    seL4_NBSend(c, m);\n    m = seL4_Call(c, m);\n    m = seL4_Recv(c, badge, 4);\n    m = seL4_NBRecv(c, badge, 4);\n    m = seL4_ReplyRecv(c, m, badge, 4);\n    m = seL4_NBSendRecv(c, m, 1, badge, 4);\n    m = seL4_NBSendWait(c, m, 1, badge);\n    m = seL4_Wait(c, badge);\n    m = seL4_Poll(c, badge);\n    seL4_Signal(c);\n    seL4_Yield();\n    seL4_DebugPutChar('x');\n    seL4_DebugNameThread(c, \"name\");\n    microkit_notify(1);\n    microkit_deferred_irq_ack(2);\n    m = microkit_ppcall(3, microkit_msginfo_new(5, 1));\n    microkit_pd_restart(0, 0x200000);\n    microkit_pd_stop(0);\n    microkit_pd_resume(0);\n    c = microkit_cspace_root_slot_to_cptr(1);\n    return seL4_MessageInfo_get_label(m) + seL4_CNode_Copy(c, 1, 64, c, 2, 64, seL4_AllRights);\n}\n";
    s
}

fn clang(arch: Arch, include: &Path, src: &Path, out: &Path) -> std::process::Output {
    let (t, flags) = triple(arch);
    Command::new("clang")
        .args(["-target", t])
        .args(flags)
        .args(["-ffreestanding", "-nostdlib", "-fno-stack-protector", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function", "-std=c11"])
        .arg("-I")
        .arg(include)
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(out)
        .output()
        .expect("clang not found: run `make setup` (it installs Debian's clang and lld)")
}

#[test]
fn headers_compile_and_agree_with_the_abi_tables() {
    for arch in ARCHES {
        for config in [Config::Debug, Config::Release] {
            let dir = scratch(&format!("hdr-{}-{}", board_name(arch), config.name()));
            write_headers(&dir, arch, config);
            let mut src = check_source(arch, config);
            if config == Config::Release {
                // No debug syscalls in release: the debug-only calls must be absent.
                src = src.replace("    seL4_DebugPutChar('x');\n    seL4_DebugNameThread(c, \"name\");\n", "");
                src += "#ifdef CONFIG_PRINTING\n#error release has no printing\n#endif\n";
            }
            let c = dir.join("check.c");
            std::fs::write(&c, src).expect("write check.c");
            let o = clang(arch, &dir, &c, &dir.join("check.o"));
            assert!(
                o.status.success(),
                "{arch:?}/{}: clang failed:\n{}",
                config.name(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

#[test]
fn gen_config_is_read_the_way_microkit_makefiles_read_it() {
    for arch in ARCHES {
        let (_, text) = headers(arch, Config::Debug)
            .into_iter()
            .find(|(p, _)| p == "kernel/gen_config.h")
            .expect("gen_config.h");
        // `grep 'CONFIG_SEL4_ARCH  ' | cut -d' ' -f4`
        let line = text.lines().find(|l| l.contains("CONFIG_SEL4_ARCH  ")).expect("CONFIG_SEL4_ARCH line");
        let field4 = line.split(' ').nth(3).expect("4th field");
        assert_eq!(field4, microkit_cgen::sel4_arch(arch));
    }
}

#[test]
fn generated_stubs_use_the_arch_label_numbers() {
    // Each method's label resolves to a number on its arch and the number names that label.
    for arch in ARCHES {
        for (m, n) in methods::methods(arch) {
            let name = if n < FIRST_ARCH_LABEL {
                Label::from_u64(n).map(|l| l.name().to_string())
            } else {
                arch_labels(arch).get((n - FIRST_ARCH_LABEL) as usize).map(|e| e.1.to_string())
            };
            assert_eq!(name.as_deref(), Some(m.label), "{arch:?} {}", m.name);
        }
    }
}

#[test]
fn packing_follows_the_sub_word_rules() {
    use methods::{pack, Slot};
    let (s, len) = pack(&["seL4_Bool", "seL4_Bool", "seL4_Uint8", "seL4_Word", "seL4_Uint16", "seL4_Uint16", "seL4_Uint32"]);
    assert_eq!(len, 3);
    assert_eq!(s[0], Slot { mr: 0, lo: 0, bits: 1 });
    assert_eq!(s[1], Slot { mr: 0, lo: 1, bits: 1 });
    assert_eq!(s[2], Slot { mr: 0, lo: 8, bits: 8 });
    assert_eq!(s[3], Slot { mr: 1, lo: 0, bits: 64 });
    assert_eq!(s[4], Slot { mr: 2, lo: 0, bits: 16 });
    assert_eq!(s[5], Slot { mr: 2, lo: 16, bits: 16 });
    assert_eq!(s[6], Slot { mr: 2, lo: 32, bits: 32 });
}

fn reference_dir() -> Option<PathBuf> {
    let mut cands = Vec::new();
    if let Ok(d) = std::env::var("SEL4_REFERENCE_DIR") {
        cands.push(PathBuf::from(d));
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = manifest.parent().and_then(Path::parent) {
        cands.push(root.join("../shared/reference/sel4-data"));
    }
    cands.push(PathBuf::from("/work/shared/reference/sel4-data"));
    cands.into_iter().find(|p| p.join("generated").is_dir())
}

/// Whether a reference method's condition holds in our configuration (MCS, one core, no
/// hypervisor or debug API; x86_64 with the IOMMU).
fn condition_holds(arch: Arch, cond: &str) -> bool {
    match cond {
        "" | "defined(CONFIG_KERNEL_MCS)" | "!defined(CONFIG_ENABLE_SMP_SUPPORT)" => true,
        "defined(CONFIG_IOMMU)" => arch == Arch::X86_64,
        _ => false,
    }
}

#[test]
fn method_layouts_agree_with_sel4_reference_data() {
    let Some(dir) = reference_dir() else {
        eprintln!("SKIPPED: no seL4 reference data folder (set SEL4_REFERENCE_DIR to check method layouts)");
        return;
    };
    for arch in ARCHES {
        let name = match arch {
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
            Arch::X86_64 => "x86_64",
        };
        let text = std::fs::read_to_string(dir.join(format!("generated/method_mr_layout_{name}.txt"))).expect("layout file");
        let ours = layout_lines(arch);
        let generated: Vec<_> = methods::methods(arch).iter().map(|(m, _)| format!("{}.{}", m.object, m.name)).collect();
        let mut checked = 0;
        for line in text.lines().filter(|l| l.starts_with("seL4_")) {
            // "<obj>.<method> [<label>] {<cond>}: rest" or without the condition.
            let (head, rest) = line.split_once("]").expect("label bracket");
            let (cond, rest) = match rest.strip_prefix(" {") {
                Some(r) => {
                    let (c, r) = r.split_once('}').expect("condition end");
                    (c, r)
                }
                None => ("", rest),
            };
            if !condition_holds(arch, cond) {
                continue;
            }
            let key = head.split(' ').next().expect("method name");
            let theirs = format!("{head}]{rest}");
            // Methods of hardware we do not have (VCPU, SMMU) are out of scope.
            assert!(
                generated.iter().any(|g| g == key),
                "{arch:?}: seL4 method {key} has no stub"
            );
            if let Some(mine) = ours.iter().find(|l| l.starts_with(&format!("{key} ["))) {
                assert_eq!(mine, &theirs, "{arch:?}: layout of {key}");
                checked += 1;
            } else {
                // Special shapes (register files, SMC) are checked by the boot tests.
                assert!(
                    ["seL4_TCB.ReadRegisters", "seL4_TCB.WriteRegisters", "seL4_ARM_SMC.Call"].contains(&key),
                    "{arch:?}: no layout line for {key}"
                );
            }
        }
        assert!(checked > 30, "{arch:?}: only {checked} layouts compared");
    }
}

#[test]
fn ipc_buffer_is_where_the_tool_maps_it() {
    for arch in ARCHES {
        let b = microkit_tool::board::find(board_name(arch)).expect("board");
        assert_eq!(microkit_cgen::ipc_buffer_vaddr(arch), microkit_tool::program::top_user_page(b), "{arch:?}");
        assert!(microkit_cgen::ipc_buffer_vaddr(arch) < sel4_abi::object::user_top(arch));
    }
}
