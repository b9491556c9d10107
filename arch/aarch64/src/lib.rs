//! AArch64 support for the kernel: boot, MMU, exception vectors, console, interrupt controller,
//! timer, and the `kernel-hal` trait implementations.
//!
//! Pure logic (page-table entry encoding, the user register file and its seL4 word order,
//! page-table building and ELF loading over [`kernel_hal::PhysMem`]) builds on any host and is
//! unit-tested there. Everything touching the CPU (assembly, system registers, MMIO) is only
//! compiled for bare-metal AArch64 (`target_arch = "aarch64", target_os = "none"`).
#![cfg_attr(not(test), no_std)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod context;
pub mod layout;
pub mod loader;
pub mod pte;
pub mod sync;
pub mod vspace;

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod boot;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod console;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod cpu;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod fpu;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod dtb;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod gic;
pub mod ticks;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod machine;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod panic;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod payload;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod smc;
#[cfg(all(target_arch = "aarch64", target_os = "none", feature = "smp"))]
pub mod smp;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod timer;
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub mod trap;
#[cfg(all(target_arch = "aarch64", target_os = "none", feature = "hyp"))]
pub mod vcpu;

#[cfg(all(feature = "hyp", feature = "smp"))]
compile_error!("the hypervisor build (feature `hyp`) is uniprocessor for now");

pub use context::Aarch64Context;
#[cfg(not(feature = "hyp"))]
pub use pte::Aarch64PageTable;
/// The user page-table format: stage-2 tables in the hypervisor build.
#[cfg(feature = "hyp")]
pub use pte::Aarch64Stage2PageTable as Aarch64PageTable;
