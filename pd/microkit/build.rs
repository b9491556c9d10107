//! Puts `microkit.ld` (the PD linker script) on the link search path of every crate that
//! depends on this one; a PD binary selects it with `-Tmicrokit.ld` in its own build script.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("microkit.ld"), include_str!("microkit.ld")).expect("write microkit.ld");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rerun-if-changed=microkit.ld");
}
