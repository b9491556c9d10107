//! The initialiser root task: builds the system described by the spec blob appended to its
//! image (contract in `microkit-spec`), starts the PDs, then serves their fault endpoint the
//! way Microkit's monitor does. On a host target this binary only prints a notice.
#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
mod apply;
#[cfg(target_os = "none")]
mod rt;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!("initialiser: bare-metal root task; build with --target <arch>-unknown-none");
}
