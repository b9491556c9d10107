//! The x86_64 architecture layer of the kernel (multiboot 1, long mode, 4-level paging).
//!
//! Pure parts (register file layout, page-table entry encoding, multiboot and ELF parsing)
//! build everywhere and are unit-tested on the host. Everything that touches the CPU
//! (boot stub, descriptor tables, trap and syscall entry, port I/O, paging setup) is only
//! compiled for the bare-metal target (`target_arch = "x86_64"`, `target_os = "none"`).
#![no_std]

pub mod clock;
pub mod context;
pub mod extra_bootinfo;
pub mod firmware;
pub mod layout;
pub mod multiboot;
pub mod paging;

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod boot;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod cpu;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod exit;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod ioapic;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod irq;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod lapic;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod machine;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod mm;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod serial;
#[cfg(all(target_arch = "x86_64", target_os = "none", feature = "smp"))]
pub mod smp;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod tables;
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub mod trap;

pub use context::X86Context;
pub use paging::X86PageTable;
