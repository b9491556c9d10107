//! Puts `microkit.ld` (the PD linker script) on the link search path of every crate that
//! depends on this one; a PD binary selects it with `-Tmicrokit.ld` in its own build script.
//!
//! Also fixes the Microkit configuration the PDs are built for, as libmicrokit is built once
//! per board and configuration: `MICROKIT_CONFIG` (`debug`, the default, `release` or
//! `benchmark`; Microkit's Makefile variable) decides how invocation labels are numbered
//! (Microkit's debug kernels on aarch64 and x86_64 have `CONFIG_HARDWARE_DEBUG_API`).

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("microkit.ld"), include_str!("microkit.ld")).expect("write microkit.ld");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=microkit.ld");
    println!("cargo:rerun-if-env-changed=MICROKIT_CONFIG");
    let config = env::var("MICROKIT_CONFIG").unwrap_or_else(|_| "debug".into());
    match config.as_str() {
        "debug" | "release" | "benchmark" => {}
        other => panic!("MICROKIT_CONFIG is '{other}': sel4-microkit supports debug, release and benchmark"),
    }
    println!("cargo:rustc-env=SEL4_MICROKIT_CONFIG={config}");
}
