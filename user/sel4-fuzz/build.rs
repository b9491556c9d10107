//! Links the fuzzer with sel4-root's linker script (as user/sel4-bench does) and bakes the
//! campaign parameters into the image: `SEL4_FUZZ_SEED` (default 1) and `SEL4_FUZZ_CALLS`
//! (default 20000) from the build environment become `FUZZ_SEED` / `FUZZ_CALLS` for `env!`.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        println!("cargo:rustc-link-arg-bins=-T{dir}/../sel4-root/root.ld");
        println!("cargo:rustc-link-arg-bins=-zmax-page-size=4096");
        println!("cargo:rustc-link-arg-bins=--no-pie");
    }
    for (var, out, default) in [
        ("SEL4_FUZZ_SEED", "FUZZ_SEED", "1"),
        ("SEL4_FUZZ_CALLS", "FUZZ_CALLS", "20000"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        let v = std::env::var(var).unwrap_or_else(|_| default.to_string());
        let parsed = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse::<u64>(),
        };
        let n = parsed.unwrap_or_else(|_| panic!("{var}={v:?} is not a number"));
        println!("cargo:rustc-env={out}={n}");
    }
    println!("cargo:rerun-if-changed=../sel4-root/root.ld");
    println!("cargo:rerun-if-changed=build.rs");
}
