//! `<virtual_machine>` in the tool: allowed only when the packed kernel's configuration
//! record has hypervisor support (an AArch64 kernel built with the `hyp` feature and
//! CONFIG_ARM_HYPERVISOR_SUPPORT, `docs/hyp.md`), refused with a located error otherwise; an
//! accepted VM reaches the spec the initialiser reads (managing PD, scheduling, vCPUs,
//! guest-physical mappings).

mod common;

use std::path::{Path, PathBuf};

use common::{run_tool, stderr, tmpdir};
use microkit_tool::{args::Config, board, layout, spec, system};
use sel4_abi::config::KernelConfig;

const SYSTEM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<system>
    <memory_region name="guest_ram" size="0x200000" page_size="0x200000" />
    <memory_region name="uart" size="0x1000" phys_addr="0x9000000" />
    <protection_domain name="vmm" priority="200">
        <program_image path="producer.elf" />
        <virtual_machine name="linux" priority="100" budget="500" period="1000">
            <vcpu id="0" />
            <vcpu id="5" />
            <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
            <map mr="uart" vaddr="0x9000000" perms="rw" cached="false" />
        </virtual_machine>
    </protection_domain>
</system>
"#;

fn write_system(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("vm.system");
    std::fs::write(&p, text).expect("write system");
    p
}

/// Gives the synthetic kernel in `dir` a configuration record (`hypervisor` on or off).
fn record_kernel(dir: &Path, hypervisor: bool) {
    let mut k = std::fs::read(dir.join("kernel.elf")).expect("kernel");
    let mut c = KernelConfig::microkit("debug").expect("debug");
    c.hypervisor = hypervisor;
    k.extend_from_slice(&c.to_bytes());
    std::fs::write(dir.join("kernel.elf"), k).expect("write kernel");
}

#[test]
fn a_vm_is_refused_without_a_hypervisor_kernel_with_a_located_error() {
    for (board, machine, record) in [
        ("qemu_virt_aarch64", common::EM_AARCH64, None),
        ("qemu_virt_aarch64", common::EM_AARCH64, Some(false)),
        ("qemu_virt_riscv64", common::EM_RISCV, Some(true)),
    ] {
        let dir = tmpdir("vm-refused");
        common::populate(&dir, machine);
        if let Some(h) = record {
            record_kernel(&dir, h);
        }
        let sys = write_system(&dir, SYSTEM);
        let o = run_tool(&sys, board, &dir, &[]);
        assert!(!o.status.success(), "{board} {record:?}");
        let err = stderr(&o);
        assert!(err.contains("vm.system:7:9"), "{board} {record:?}: {err}");
        assert!(
            err.contains("needs a kernel with hypervisor support"),
            "{err}"
        );
    }
}

#[test]
fn a_hypervisor_kernel_accepts_a_vm_and_the_image_is_built() {
    let dir = tmpdir("vm-ok");
    common::populate(&dir, common::EM_AARCH64);
    record_kernel(&dir, true);
    let sys = write_system(&dir, SYSTEM);
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("loader.img").is_file());
}

/// Builds the spec of `text` for qemu_virt_aarch64 with hypervisor support.
fn built(dir: &Path, text: &str) -> Result<spec::Built, String> {
    common::populate(dir, common::EM_AARCH64);
    let sys_path = write_system(dir, text);
    let b = board::find("qemu_virt_aarch64").expect("board");
    let mut target = b.target_config_for(Config::Debug);
    let mut c = KernelConfig::microkit("debug").expect("debug");
    c.hypervisor = true;
    target.hypervisor = b.hypervisor(Some(&c));
    let dirs = system::search_dirs(&sys_path, &[dir.to_path_buf()]);
    let sys =
        system::load_target(&sys_path, target, &[dir.to_path_buf()]).map_err(|e| e.to_string())?;
    let lay = layout::compute(&sys, b, Config::Debug);
    spec::build(&sys, &lay, b, Config::Debug, &dirs).map_err(|e| e.to_string())
}

#[test]
fn the_vm_reaches_the_spec_with_its_pd_vcpus_and_mappings() {
    let dir = tmpdir("vm-spec");
    let out = built(&dir, SYSTEM).expect("builds");
    let s = &out.spec;
    assert_eq!(s.vms.len(), 1);
    let vm = &s.vms[0];
    assert_eq!(vm.name, "linux");
    assert_eq!(s.pds[vm.pd as usize].name, "vmm");
    assert_eq!((vm.priority, vm.budget, vm.period), (100, 500, 1000));
    let ids: Vec<(u64, u64)> = vm.vcpus.iter().map(|v| (v.id, v.cpu)).collect();
    assert_eq!(ids, [(0, 0), (5, 0)]);
    assert_eq!(vm.mappings.len(), 2);
    let m = vm.mappings[0];
    assert_eq!(s.objects[m.frame as usize].name, "mr_guest_ram_0");
    assert_eq!(
        (m.gpa, m.read, m.write, m.execute, m.cached),
        (0x4000_0000, true, true, true, true)
    );
    let u = vm.mappings[1];
    assert_eq!(s.objects[u.frame as usize].name, "mr_uart_0");
    assert_eq!((u.gpa, u.execute, u.cached), (0x900_0000, false, false));
    // What the initialiser decodes is exactly this.
    let blob = microkit_spec::encode(s, &out.data);
    assert_eq!(microkit_spec::decode(&blob).expect("decode").0.vms, s.vms);
}

#[test]
fn microkit_rules_for_vms_are_located_errors() {
    let cases: &[(&str, &str, &str)] = &[
        // A VM is neither a channel end nor a PPC target: only PDs are.
        (
            r#"<channel><end pd="vmm" id="1" /><end pd="linux" id="1" /></channel>"#,
            "vm.system:14:42",
            "linux",
        ),
    ];
    for (extra, loc, what) in cases {
        let text = SYSTEM.replace("</system>", &format!("    {extra}\n</system>"));
        let dir = tmpdir("vm-rule");
        let err = built(&dir, &text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {extra}"));
        assert!(err.contains(loc) && err.contains(what), "{extra}: {err}");
    }
    for (from, to, loc, what) in [
        (
            r#"<vcpu id="5" />"#,
            r#"<vcpu id="62" />"#,
            "vm.system:9:",
            "id",
        ),
        (
            r#"<vcpu id="5" />"#,
            r#"<vcpu id="0" />"#,
            "vm.system:9:13",
            "vcpu id 0 appears twice",
        ),
        (
            r#"<vcpu id="5" />"#,
            r#"<vcpu id="5" cpu="1" />"#,
            "vm.system:9:",
            "cpu",
        ),
        (
            "<vcpu id=\"0\" />\n            <vcpu id=\"5\" />",
            "",
            "vm.system:7:9",
            "has no <vcpu>",
        ),
        (
            r#"mr="uart" vaddr="0x9000000""#,
            r#"mr="uart" vaddr="0x40001000""#,
            "vm.system:",
            "overlap",
        ),
        (r#"mr="uart""#, r#"mr="nope""#, "vm.system:11:", "nope"),
        (
            r#"budget="500""#,
            r#"budget="2000""#,
            "vm.system:7:",
            "budget",
        ),
        (
            r#"priority="100""#,
            r#"priority="255""#,
            "vm.system:7:",
            "priority",
        ),
    ] {
        let text = SYSTEM.replace(from, to);
        let dir = tmpdir("vm-rule");
        let err = built(&dir, &text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {to}"));
        assert!(err.contains(loc) && err.contains(what), "{to}: {err}");
    }
}
