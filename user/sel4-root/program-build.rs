//! The build script of every root-task program on sel4-root (its Cargo.toml names this file
//! as `build`): on bare-metal targets, links the program's binaries with sel4-root's linker
//! script (4 MiB base, one segment per permission) as static, non-PIE executables with 4 KiB
//! pages.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        let ld = std::env::var("DEP_SEL4_ROOT_LINKER_SCRIPT")
            .expect("the program depends on sel4-root, which names its linker script");
        println!("cargo:rustc-link-arg-bins=-T{ld}");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        println!("cargo:rustc-link-arg-bins=--no-pie");
        println!("cargo:rerun-if-changed={ld}");
    }
    println!("cargo:rerun-if-env-changed=DEP_SEL4_ROOT_LINKER_SCRIPT");
}
