//! RISC-V 64 arch layer: S-mode under OpenSBI, Sv39 paging, traps, timer, PLIC, UART.
//!
//! Pure parts (register file, page-table encoding, trap decoding, layout) build and are
//! tested on the host; everything touching CSRs or assembly is behind
//! `cfg(target_arch = "riscv64")`.
#![cfg_attr(not(test), no_std)]

pub mod context;
pub mod layout;
pub mod loader;
pub mod sv39;
pub mod ticks;
pub mod trapcause;

#[cfg(target_arch = "riscv64")]
pub mod boot;
#[cfg(target_arch = "riscv64")]
pub mod console;
#[cfg(target_arch = "riscv64")]
pub mod csr;
#[cfg(target_arch = "riscv64")]
pub mod machine;
#[cfg(target_arch = "riscv64")]
pub mod mmu;
#[cfg(target_arch = "riscv64")]
pub mod plic;
#[cfg(target_arch = "riscv64")]
pub mod sbi;
#[cfg(all(target_arch = "riscv64", feature = "smp"))]
pub mod smp;
#[cfg(target_arch = "riscv64")]
pub mod trap;

pub use context::Riscv64Context;
pub use sv39::Sv39;
