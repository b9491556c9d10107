//! Tells the programs that depend on sel4-root where its linker script is
//! (`DEP_SEL4_ROOT_LINKER_SCRIPT` in their build scripts; see `program-build.rs`).
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:linker-script={dir}/root.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
