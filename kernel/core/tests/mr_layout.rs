//! Cross-checks the decoders' message layouts against seL4's generated method layout tables
//! (`method_mr_layout_<arch>.txt` in the reference data): for each implemented method, a
//! valid message of the reference length is not truncated, one word less (or one extra cap
//! less) gives TruncatedMessage. Skips visibly when the reference data is absent.

mod common;
use common::*;
use sel4_abi::ArchLabel;
use std::path::PathBuf;

fn reference_dir() -> Option<PathBuf> {
    let mut c = Vec::new();
    if let Ok(d) = std::env::var("SEL4_REFERENCE_DIR") {
        c.push(PathBuf::from(d));
    }
    let m = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = m.parent().and_then(|p| p.parent()) {
        c.push(root.join("../shared/reference/sel4-data"));
    }
    c.push(PathBuf::from("/work/shared/reference/sel4-data"));
    c.into_iter().find(|p| p.join("generated").is_dir())
}

/// (label name) -> (len, caps) from the reference file, MCS variants only.
fn layout(dir: &std::path::Path, arch: &str) -> std::collections::HashMap<String, (usize, usize)> {
    let text = std::fs::read_to_string(dir.join(format!("generated/method_mr_layout_{arch}.txt")))
        .expect("layout");
    let mut out = std::collections::HashMap::new();
    for line in text.lines() {
        let (Some(a), Some(b)) = (line.find('['), line.find(']')) else {
            continue;
        };
        let name = line[a + 1..b].to_string();
        if line.contains("!defined(CONFIG_KERNEL_MCS)") {
            continue;
        }
        let len: usize = line
            .split("len=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let caps_part = line
            .split("caps: ")
            .nth(1)
            .unwrap_or("-")
            .split(" |")
            .next()
            .unwrap_or("-");
        let caps = if caps_part.trim() == "-" {
            0
        } else {
            caps_part.split(',').count()
        };
        out.insert(name, (len, caps));
    }
    out
}

struct Case {
    name: &'static str,
    cap: u64,
    label: u64,
    mrs: Vec<u64>,
    caps: Vec<u64>,
}

fn check(k: &mut K, refl: &std::collections::HashMap<String, (usize, usize)>, c: &Case) {
    let (len, ncaps) = *refl
        .get(c.name)
        .unwrap_or_else(|| panic!("{} not in reference", c.name));
    assert_eq!(
        (c.mrs.len(), c.caps.len()),
        (len, ncaps),
        "{}: layout differs from reference",
        c.name
    );
    if len > 0 {
        let r = call(k, c.cap, c.label, &c.mrs[..len - 1], &c.caps);
        assert_eq!(
            r.label,
            Error::TruncatedMessage as u64,
            "{}: one word short: {r:?}",
            c.name
        );
    }
    if ncaps > 0 {
        let r = call(k, c.cap, c.label, &c.mrs, &c.caps[..ncaps - 1]);
        assert_eq!(
            r.label,
            Error::TruncatedMessage as u64,
            "{}: one cap short: {r:?}",
            c.name
        );
    }
    let r = call(k, c.cap, c.label, &c.mrs, &c.caps);
    assert_ne!(
        r.label,
        Error::TruncatedMessage as u64,
        "{}: full message truncated",
        c.name
    );
}

#[test]
fn aarch64_layouts_match_reference() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    let refl = layout(&dir, "aarch64");
    let mut k = boot();
    let e = empty(&k);
    let ut = untyped(&k, 16);
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 100, 1));
    ok(&copy(&mut k, e + 101, slots::BOOT_INFO_FRAME, 0xf));
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e + 102, 1));
    ok(&call(
        &mut k,
        slots::IRQ_CONTROL,
        Label::IRQIssueIRQHandler as u64,
        &[3, e + 103, 64],
        &[ROOT],
    ));
    ok(&retype(&mut k, ut, ObjectKind::Notification, 0, e + 104, 1));
    let a = |l| sel4_abi::arch_label_number(Arch::Aarch64, l).unwrap();
    let ep = ty(&k, ObjectKind::Endpoint);
    let cases = vec![
        Case {
            name: "UntypedRetype",
            cap: ut,
            label: Label::UntypedRetype as u64,
            mrs: vec![ep, 0, 0, 0, e, 1],
            caps: vec![ROOT],
        },
        Case {
            name: "CNodeRevoke",
            cap: ROOT,
            label: Label::CNodeRevoke as u64,
            mrs: vec![e, 64],
            caps: vec![],
        },
        Case {
            name: "CNodeDelete",
            cap: ROOT,
            label: Label::CNodeDelete as u64,
            mrs: vec![e + 50, 64],
            caps: vec![],
        },
        Case {
            name: "CNodeCancelBadgedSends",
            cap: ROOT,
            label: Label::CNodeCancelBadgedSends as u64,
            mrs: vec![e, 64],
            caps: vec![],
        },
        Case {
            name: "CNodeCopy",
            cap: ROOT,
            label: Label::CNodeCopy as u64,
            mrs: vec![e + 10, 64, 1, 64, 0xf],
            caps: vec![ROOT],
        },
        Case {
            name: "CNodeMint",
            cap: ROOT,
            label: Label::CNodeMint as u64,
            mrs: vec![e + 11, 64, 1, 64, 0xf, 0],
            caps: vec![ROOT],
        },
        Case {
            name: "CNodeMove",
            cap: ROOT,
            label: Label::CNodeMove as u64,
            mrs: vec![e + 12, 64, e + 10, 64],
            caps: vec![ROOT],
        },
        Case {
            name: "CNodeMutate",
            cap: ROOT,
            label: Label::CNodeMutate as u64,
            mrs: vec![e + 13, 64, e + 12, 64, 0],
            caps: vec![ROOT],
        },
        Case {
            name: "CNodeRotate",
            cap: ROOT,
            label: Label::CNodeRotate as u64,
            mrs: vec![e + 14, 64, 0, e + 11, 64, 0, e + 13, 64],
            caps: vec![ROOT, ROOT],
        },
        Case {
            name: "IRQIssueIRQHandler",
            cap: slots::IRQ_CONTROL,
            label: Label::IRQIssueIRQHandler as u64,
            mrs: vec![4, e + 20, 64],
            caps: vec![ROOT],
        },
        Case {
            name: "IRQSetIRQHandler",
            cap: e + 103,
            label: Label::IRQSetIRQHandler as u64,
            mrs: vec![],
            caps: vec![e + 104],
        },
        Case {
            name: "DomainSetSet",
            cap: slots::DOMAIN,
            label: Label::DomainSetSet as u64,
            mrs: vec![0],
            caps: vec![slots::INIT_THREAD_TCB],
        },
        Case {
            name: "ARMPageTableMap",
            cap: e + 100,
            label: a(ArchLabel::PageTableMap),
            mrs: vec![0x1000_0000, 3],
            caps: vec![slots::INIT_THREAD_VSPACE],
        },
        Case {
            name: "ARMPageMap",
            cap: e + 101,
            label: a(ArchLabel::PageMap),
            mrs: vec![0x1000_0000, 3, 3],
            caps: vec![slots::INIT_THREAD_VSPACE],
        },
        Case {
            name: "ARMPageClean_Data",
            cap: slots::BOOT_INFO_FRAME,
            label: a(ArchLabel::PageCleanData),
            mrs: vec![0, 64],
            caps: vec![],
        },
        Case {
            name: "ARMVSpaceClean_Data",
            cap: slots::INIT_THREAD_VSPACE,
            label: a(ArchLabel::VSpaceCleanData),
            mrs: vec![0x40_0000, 0x40_0040],
            caps: vec![],
        },
        Case {
            name: "ARMASIDControlMakePool",
            cap: slots::ASID_CONTROL,
            label: a(ArchLabel::AsidControlMakePool),
            mrs: vec![e + 30, 64],
            caps: vec![e + 102, ROOT],
        },
        Case {
            name: "ARMIRQIssueIRQHandlerTrigger",
            cap: slots::IRQ_CONTROL,
            label: a(ArchLabel::IrqIssueIrqHandlerTrigger),
            mrs: vec![5, 0, e + 31, 64],
            caps: vec![ROOT],
        },
    ];
    for c in &cases {
        check(&mut k, &refl, c);
    }
}

#[test]
fn x86_layouts_match_reference() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    let refl = layout(&dir, "x86_64");
    let mut k = boot_sim(Arch::X86_64);
    let e = empty(&k);
    let a = |l| sel4_abi::arch_label_number(Arch::X86_64, l).unwrap();
    ok(&call(
        &mut k,
        slots::IO_PORT_CONTROL,
        a(ArchLabel::IoPortControlIssue),
        &[0x60, 0x6f, e + 100, 64],
        &[ROOT],
    ));
    let cases = vec![
        Case {
            name: "X86IOPortControlIssue",
            cap: slots::IO_PORT_CONTROL,
            label: a(ArchLabel::IoPortControlIssue),
            mrs: vec![0x70, 0x71, e, 64],
            caps: vec![ROOT],
        },
        Case {
            name: "X86IOPortIn8",
            cap: e + 100,
            label: a(ArchLabel::IoPortIn8),
            mrs: vec![0x60],
            caps: vec![],
        },
        Case {
            name: "X86IOPortIn32",
            cap: e + 100,
            label: a(ArchLabel::IoPortIn32),
            mrs: vec![0x60],
            caps: vec![],
        },
        Case {
            name: "X86IOPortOut16",
            cap: e + 100,
            label: a(ArchLabel::IoPortOut16),
            mrs: vec![0x60, 7],
            caps: vec![],
        },
    ];
    for c in &cases {
        check(&mut k, &refl, c);
    }
}
