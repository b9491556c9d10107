//! Links the initialiser binary (bare-metal targets only) with its own linker script.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.contains("-none") {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir");
        println!("cargo:rustc-link-arg-bins=-T{dir}/initialiser.ld");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        if target.starts_with("x86_64") {
            // The kernel maps the root task at its link addresses; no self-relocation.
            println!("cargo:rustc-link-arg-bins=--no-pie");
        }
    }
    println!("cargo:rerun-if-changed=initialiser.ld");
}
