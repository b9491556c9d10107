//! `sel4-fuzz`: a root task that fuzzes the kernel (see `docs/fuzz.md`). Built for a bare-metal
//! target it is the root task in `program`; on the host it is an empty program (the pure
//! parts, in the library, are tested there).
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
mod program;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("sel4-fuzz is a root task: build it with --target for aarch64, riscv64 or x86_64");
}
