//! The system an initialiser must build, as data: objects, caps in CNode slots, mappings,
//! frame fills, IRQs and PD threads, plus a versioned binary encoding.
//!
//! Shared by the `microkit` tool (which builds a [`Spec`] from an SDF and PD ELFs and
//! encodes it) and the initialiser root task (which decodes and applies it).
//!
//! # Image contract (tool → initialiser)
//!
//! 1. The tool encodes the system with [`encode`]`(&spec, &data)`: the result holds the spec
//!    and then, page-aligned inside the blob, the `data` bytes (PD ELF segment contents) that
//!    [`Fill`] entries refer to by offset.
//! 2. It appends the blob to the initialiser ELF as one extra read-only `PT_LOAD` segment at a
//!    page-aligned vaddr after the initialiser's last segment. The kernel maps the whole image,
//!    this segment included, and places the IPC buffer and boot info after the image end.
//! 3. It patches the initialiser's `#[no_mangle] static MICROKIT_SYSTEM: [u64; 2]`
//!    (symbol [`layout::symbols::SYSTEM`]) with `(vaddr, length)` of the blob.
//! 4. At boot the initialiser reads the symbol; `(0, 0)` means "no system" (it then only
//!    reports boot info and stops). It calls [`decode`], which validates everything (bounds,
//!    object kinds, slot ranges, fills) before any object is created.
//!
//! # Conventions the initialiser implements
//! * Page tables are implicit: for every [`Mapping`] the initialiser creates and maps the
//!   intermediate paging structures the arch needs (aarch64/riscv page tables, x86 PDPT/PD/PT).
//! * [`Spec::fault_ep`], if set, is an endpoint the initialiser keeps serving after start-up as
//!   Microkit's monitor does: a message with badge *b* comes from `pds[b - 1]`. Label 0 is
//!   a passive PD's "init done" request (unbind its SC from the TCB, bind it to the PD's
//!   notification); any other label is a fault, reported as `MON|ERROR: …`.
//! * PDs start in [`Spec::start_order`] order.
#![no_std]

extern crate alloc;

pub use microkit_layout as layout;

pub mod capshare;
mod codec;
pub mod elf;
pub mod microkit;
mod model;

pub use codec::{decode, encode, validate, DecodeError, FORMAT_VERSION, MAGIC};
pub use model::*;
