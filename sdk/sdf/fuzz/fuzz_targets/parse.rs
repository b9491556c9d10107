//! libFuzzer target: any bytes, parsed for every architecture, must give a system or a
//! located error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for arch in [sdf::Arch::Aarch64, sdf::Arch::Riscv64, sdf::Arch::X86_64] {
        let cfg = sdf::TargetConfig::for_arch(arch);
        if let Err(e) = sdf::parse_with_prefill("fuzz.system", &text, &cfg, &|_| Ok(4096)) {
            assert!(e.loc.line >= 1 && e.loc.col >= 1);
        }
    }
});
