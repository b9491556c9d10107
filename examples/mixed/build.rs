//! Links every PD binary with the Microkit PD linker script (provided by `sel4-microkit`).

fn main() {
    println!("cargo:rustc-link-arg-bins=-Tmicrokit.ld");
    println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
    if std::env::var("TARGET").is_ok_and(|t| t.starts_with("x86_64")) {
        // x86_64-unknown-none links static-PIE by default; PDs are loaded at their link address.
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
}
