//! Microkit 2.3's multicore configurations (`smp-debug`, `smp-release`, `smp-benchmark`):
//! the tool accepts them, `cpu` attributes are checked against the configuration's cores (1
//! without `smp-`, the board's `smp_cores` with it) with a located error, and a multicore
//! configuration refuses the domain scheduler, as Microkit's tool does.

mod common;

use std::path::{Path, PathBuf};

use common::{run_tool, stderr, tmpdir};

/// A system with one PD on each of cores 0, 1 and `last`.
fn system(dir: &Path, last: u64) -> PathBuf {
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<system>
    <protection_domain name="a" priority="100">
        <program_image path="producer.elf" />
    </protection_domain>
    <protection_domain name="b" priority="100" cpu="1">
        <program_image path="consumer.elf" />
    </protection_domain>
    <protection_domain name="c" priority="100" cpu="{last}">
        <program_image path="logger.elf" />
    </protection_domain>
</system>
"#
    );
    let p = dir.join("cores.system");
    std::fs::write(&p, text).expect("write system");
    p
}

#[test]
fn smp_configs_accept_pds_on_every_core_of_the_board() {
    for (board, machine, cores, config) in [
        ("qemu_virt_aarch64", common::EM_AARCH64, 4, "smp-debug"),
        ("qemu_virt_riscv64", common::EM_RISCV, 4, "smp-release"),
        ("x86_64_generic", common::EM_X86_64, 16, "smp-benchmark"),
    ] {
        let dir = tmpdir("smp-ok");
        common::populate(&dir, machine);
        let sys = system(&dir, cores - 1);
        let o = run_tool(&sys, board, &dir, &["--config", config]);
        assert!(o.status.success(), "{board} {config}: {}", stderr(&o));
        let text = std::fs::read_to_string(dir.join("report.txt")).expect("report");
        assert!(text.contains(&format!("config: {config}")), "{text}");
        assert!(
            text.contains(&format!(
                "multicore kernel: {cores} cores (CONFIG_MAX_NUM_NODES)"
            )),
            "{text}"
        );
        assert!(text.contains(&format!("cpu {}, fpu", cores - 1)), "{text}");
    }
}

#[test]
fn a_cpu_beyond_the_configurations_cores_is_a_located_error() {
    let dir = tmpdir("smp-range");
    common::populate(&dir, common::EM_AARCH64);
    // Uniprocessor configuration: only core 0 exists.
    let sys = system(&dir, 0);
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--config", "debug"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("cores.system:6:"), "{e}");
    assert!(
        e.contains("cpu 1 does not exist: the board has 1 CPU(s)"),
        "{e}"
    );
    // Multicore: cores 0..3 on qemu_virt_aarch64.
    let sys = system(&dir, 4);
    let o = run_tool(
        &sys,
        "qemu_virt_aarch64",
        &dir,
        &["--config", "smp-release"],
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("cores.system:9:"), "{e}");
    assert!(
        e.contains("cpu 4 does not exist: the board has 4 CPU(s)"),
        "{e}"
    );
}

#[test]
fn smp_configs_refuse_the_domain_scheduler() {
    let dir = tmpdir("smp-domains");
    common::populate(&dir, common::EM_AARCH64);
    for p in ["c.elf", "g.elf", "p.elf", "r.elf"] {
        std::fs::write(dir.join(p), common::pd_elf(common::EM_AARCH64)).expect("write pd");
    }
    let sys = common::fixture("ok/domains.system");
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--config", "debug"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--config", "smp-debug"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("the domain scheduler is not supported on a multicore kernel (4 CPUs)"),
        "{e}"
    );
    assert!(e.contains("domains.system:"), "{e}");
}

#[test]
fn unknown_configs_are_refused() {
    let dir = tmpdir("smp-unknown");
    common::populate(&dir, common::EM_AARCH64);
    let sys = system(&dir, 0);
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &["--config", "smp-fast"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("smp-debug"), "{}", stderr(&o));
}
