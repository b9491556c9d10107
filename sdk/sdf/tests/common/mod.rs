//! Helpers shared by the SDF integration tests: fixture loading and a fake prefill sizer.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sdf::{Arch, TargetConfig};

/// Directory holding the fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Target config for an arch name used in fixture headers.
pub fn config(arch: &str) -> TargetConfig {
    // Fixtures are checked against a hypervisor-enabled kernel unless the arch name says
    // `-nohyp`, so virtual machine elements can be tested.
    if let Some(plain) = arch.strip_suffix("-nohyp") {
        return TargetConfig {
            hypervisor: false,
            ..config(plain)
        };
    }
    // `-noiommu`: a kernel configuration without IOMMU support.
    if let Some(plain) = arch.strip_suffix("-noiommu") {
        return TargetConfig {
            iommu: false,
            ..config(plain)
        };
    }
    match arch {
        "aarch64" => TargetConfig {
            hypervisor: true,
            ..TargetConfig::for_arch(Arch::Aarch64)
        },
        "riscv64" => TargetConfig::for_arch(Arch::Riscv64),
        "x86_64" => TargetConfig::for_arch(Arch::X86_64),
        other => panic!("unknown arch {other} in fixture header"),
    }
}

/// Fake prefill sizes: `missing*` is absent, `empty.bin` is empty, `size_N.bin` has N bytes,
/// anything else 4096 bytes.
pub fn prefill(path: &str) -> Result<u64, String> {
    if path.starts_with("missing") {
        return Err("not found".into());
    }
    if path == "empty.bin" {
        return Ok(0);
    }
    if let Some(n) = path
        .strip_prefix("size_")
        .and_then(|r| r.strip_suffix(".bin"))
    {
        return n.parse().map_err(|_| "bad test name".to_string());
    }
    Ok(4096)
}

/// Sorted list of `*.system` files in `dir`.
pub fn system_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "system"))
        .collect();
    v.sort();
    v
}

/// Parses a fixture file for `arch`, with the fake prefill sizer.
pub fn parse_file(path: &Path, arch: &str) -> Result<sdf::SystemDescription, sdf::SdfError> {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .to_string();
    sdf::parse_with_prefill(&name, &text, &config(arch), &prefill)
}
