//! Links every root task with sel4-root's linker script (4 MiB base, one segment per
//! permission) as a static, non-PIE executable with 4 KiB pages.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{dir}/../sel4-root/root.ld");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
    println!("cargo:rerun-if-changed=../sel4-root/root.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
