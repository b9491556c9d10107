//! Cross-checks the hand-written ABI tables against seL4's generated tables in the reference
//! data folder (`$SEL4_REFERENCE_DIR`, `<repo>/../shared/reference/sel4-data`, or
//! `/work/shared/reference/sel4-data`). Skips visibly when the folder is absent.

use sel4_abi::config::KernelConfig;
use sel4_abi::label::{arch_labels, arch_labels_in, FIRST_ARCH_LABEL};
use sel4_abi::{
    arch_label, arch_label_in, arch_label_number, arch_label_number_in, Arch, Label, Syscall,
};
use std::path::PathBuf;

fn reference_dir() -> Option<PathBuf> {
    let mut cands = Vec::new();
    if let Ok(d) = std::env::var("SEL4_REFERENCE_DIR") {
        cands.push(PathBuf::from(d));
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = manifest.parent() {
        cands.push(root.join("../shared/reference/sel4-data"));
    }
    cands.push(PathBuf::from("/work/shared/reference/sel4-data"));
    cands.into_iter().find(|p| p.join("generated").is_dir())
}

fn labels(dir: &std::path::Path, cfg: &str) -> Vec<(String, u64)> {
    let p = dir.join(format!("generated/invocation_labels_{cfg}.json"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid json");
    let mut out: Vec<(String, u64)> = v["labels"]
        .as_object()
        .expect("labels object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("number")))
        .collect();
    out.sort_by_key(|e| e.1);
    out
}

#[test]
fn labels_match_reference() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    for (arch, cfg) in [
        (Arch::Aarch64, "aarch64-mcs"),
        (Arch::Riscv64, "riscv64-mcs"),
        (Arch::X86_64, "x86_64-mcs-iommu"),
    ] {
        let table = labels(&dir, cfg);
        let mut generic = 0;
        let mut archn = 0;
        for (name, n) in &table {
            if *n < FIRST_ARCH_LABEL {
                let l = Label::from_u64(*n).unwrap_or_else(|| panic!("{cfg}: no label {n}"));
                assert_eq!(l.name(), name, "{cfg}: label {n}");
                assert_eq!(l as u64, *n);
                generic += 1;
            } else {
                let al = arch_label(arch, *n).unwrap_or_else(|| panic!("{cfg}: no arch label {n}"));
                let idx = (*n - FIRST_ARCH_LABEL) as usize;
                assert_eq!(arch_labels(arch)[idx].1, name, "{cfg}: arch label {n}");
                assert_eq!(arch_label_number(arch, al), Some(*n));
                archn += 1;
            }
        }
        assert_eq!(generic, Label::ALL.len() - 1, "{cfg}: generic label count");
        assert_eq!(archn, arch_labels(arch).len(), "{cfg}: arch label count");
        assert_eq!(arch_label(arch, FIRST_ARCH_LABEL + archn as u64), None);
    }
}

#[test]
fn labels_follow_the_iommu_option() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    let on = KernelConfig::SEL4_DEFAULT;
    let off = on.with_option("CONFIG_IOMMU", 0).unwrap();
    for (arch, config, cfg) in [
        (Arch::X86_64, on, "x86_64-mcs-iommu"),
        (Arch::X86_64, off, "x86_64-mcs-noiommu"),
        // The option is x86-only: the other arches' labels do not move.
        (Arch::Aarch64, off, "aarch64-mcs"),
        (Arch::Riscv64, off, "riscv64-mcs"),
    ] {
        let table: Vec<_> = labels(&dir, cfg)
            .into_iter()
            .filter(|e| e.1 >= FIRST_ARCH_LABEL)
            .collect();
        let ours: Vec<_> = arch_labels_in(arch, &config).collect();
        assert_eq!(ours.len(), table.len(), "{cfg}: arch label count");
        for (name, n) in &table {
            let al = arch_label_in(arch, &config, *n)
                .unwrap_or_else(|| panic!("{cfg}: no arch label {n}"));
            let idx = (*n - FIRST_ARCH_LABEL) as usize;
            assert_eq!(ours[idx].1, name, "{cfg}: arch label {n}");
            assert_eq!(
                arch_label_number_in(arch, &config, al),
                Some(*n),
                "{cfg}: {name}"
            );
        }
        assert_eq!(
            arch_label_in(arch, &config, FIRST_ARCH_LABEL + table.len() as u64),
            None
        );
    }
}

#[test]
fn syscalls_match_reference() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    let p = dir.join("generated/syscall_numbers_mcs_v16.txt");
    let text = std::fs::read_to_string(&p).expect("syscall table");
    let mut count = 0;
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("seL4_Sys") else {
            continue;
        };
        let Some((name, num)) = rest.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let num: i64 = num.trim().trim_end_matches(',').parse().expect("number");
        let s = Syscall::from_number(num).unwrap_or_else(|| panic!("no syscall {num}"));
        assert_eq!(s.name(), name, "syscall {num}");
        assert_eq!(s.number(), num);
        count += 1;
    }
    assert_eq!(count, Syscall::ALL.len());
    assert_eq!(Syscall::from_number(0), None);
    assert_eq!(Syscall::from_number(-34), None);
}

/// With `CONFIG_ARM_HYPERVISOR_SUPPORT` the aarch64 arch labels are seL4's hyp build's: the
/// five VCPU methods after `ARMASIDPoolAssign`, the IRQ-control ones after them.
#[test]
fn aarch64_labels_follow_the_hypervisor_option() {
    let Some(dir) = reference_dir() else {
        {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED: reference data not found");
        }
        return;
    };
    let hyp = KernelConfig::SEL4_DEFAULT
        .with_option("CONFIG_ARM_HYPERVISOR_SUPPORT", 1)
        .unwrap();
    let table = labels(&dir, "aarch64-mcs-hyp");
    let mut archn = 0;
    for (name, n) in &table {
        if *n < FIRST_ARCH_LABEL {
            assert_eq!(Label::from_u64(*n).map(|l| l.name()), Some(name.as_str()));
            continue;
        }
        let al = arch_label_in(Arch::Aarch64, &hyp, *n)
            .unwrap_or_else(|| panic!("hyp: no arch label {n} ({name})"));
        let entry = arch_labels_in(Arch::Aarch64, &hyp)
            .find(|e| e.0 == al)
            .expect("listed");
        assert_eq!(entry.1, name, "hyp: arch label {n}");
        assert_eq!(arch_label_number_in(Arch::Aarch64, &hyp, al), Some(*n));
        archn += 1;
    }
    assert_eq!(archn, arch_labels_in(Arch::Aarch64, &hyp).count());
    assert_eq!(
        arch_label_in(Arch::Aarch64, &hyp, FIRST_ARCH_LABEL + archn as u64),
        None
    );
    // The same numbers without the option are the plain table's; the other arches ignore it.
    assert_eq!(
        arch_label_in(Arch::Aarch64, &KernelConfig::SEL4_DEFAULT, 55),
        Some(sel4_abi::ArchLabel::IrqIssueIrqHandlerTrigger)
    );
    assert_eq!(
        arch_label_in(Arch::Aarch64, &hyp, 60),
        Some(sel4_abi::ArchLabel::IrqIssueIrqHandlerTrigger)
    );
    assert_eq!(
        arch_label_in(Arch::Riscv64, &hyp, 46),
        arch_label(Arch::Riscv64, 46)
    );
}
