//! Passes this kernel's linker script (and a 4 KiB max page size) to the linker. The
//! hypervisor build (`hyp` feature) links the kernel in its lower-half window
//! (`arch_aarch64::layout::KERNEL_WINDOW_BASE`): the script is copied to OUT_DIR with that base.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=link.ld");
    if std::env::var_os("CARGO_FEATURE_HYP").is_some() {
        let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
        let script = std::fs::read_to_string(format!("{dir}/link.ld")).expect("link.ld");
        let el1 = "KERNEL_WINDOW = 0xFFFF000000000000;";
        assert!(script.contains(el1), "link.ld must define KERNEL_WINDOW as {el1}");
        let hyp = script.replace(el1, "KERNEL_WINDOW = 0x0000800000000000;");
        std::fs::write(format!("{out}/link-hyp.ld"), hyp).expect("write link-hyp.ld");
        println!("cargo:rustc-link-arg-bins=-T{out}/link-hyp.ld");
    } else {
        println!("cargo:rustc-link-arg-bins=-T{dir}/link.ld");
    }
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
}
