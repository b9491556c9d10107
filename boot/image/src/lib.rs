//! Boot-image formats shared by the kernels (target side) and the image tool (host side).
//!
//! * [`elf`]: a checked ELF64 little-endian reader (segments, symbols).
//! * [`fdt`]: a checked device-tree reader (RAM range, `compatible` lookup, timebase,
//!   RISC-V ISA extensions).
//! * [`frames`]: loading an ELF's segments into frames for the kernel core's boot, shared
//!   by the arch layers.
//! * [`payload`]: the payload table the image tool appends after the kernel and the kernel
//!   finds through the [`payload::DESCRIPTOR_SYMBOL`] symbol.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod elf;
pub mod fdt;
pub mod frames;
pub mod payload;
