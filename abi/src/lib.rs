//! Every seL4 16.0.0 (MCS) user-visible ABI number in one place, written for this project.
//!
//! The tables here follow the seL4 16.0.0 release in the MCS configuration described in
//! `sel4-abi.md` (1 core, no hypervisor, no hardware debug API, x86_64 with the IOMMU on).
//! A test (`tests/reference.rs`) cross-checks names and numbers against seL4's generated
//! label and syscall tables when the reference data folder is present.
//!
//! Modules:
//! * [`syscall`]: syscall numbers ([`Syscall`]).
//! * [`error`]: `seL4_Error` ([`Error`]) and lookup-failure types.
//! * [`label`]: invocation labels ([`Label`], [`ArchLabel`], [`Arch`]).
//! * [`object`]: object types per arch ([`ObjectKind`]) and object sizes.
//! * [`message`]: `seL4_MessageInfo`, `seL4_CapRights`, CNode cap data, IPC buffer layout.
//! * [`fault`]: fault labels and per-arch fault message layouts.
//! * [`bootinfo`]: `seL4_BootInfo`, `seL4_UntypedDesc`, initial cap slots, extra boot info chunks.
//! * [`vmattr`]: VM attribute values per arch.
#![no_std]
#![forbid(unsafe_code)]

pub mod bootinfo;
pub mod config;
pub mod error;
pub mod fault;
pub mod label;
pub mod message;
pub mod object;
pub mod syscall;
pub mod vmattr;

pub use bootinfo::{BootInfo, SlotRegion, UntypedDesc};
pub use error::{Error, LookupFailureType};
pub use fault::FaultType;
pub use label::{
    arch_label, arch_label_in, arch_label_number, arch_label_number_in, Arch, ArchLabel, Label,
};
pub use message::{CNodeCapData, CapRights, MessageInfo};
pub use object::{object_type, object_type_in, object_type_number, ObjectKind};
pub use syscall::Syscall;

/// `seL4_WordBits`.
pub const WORD_BITS: u32 = 64;
/// Bytes per machine word.
pub const WORD_BYTES: usize = 8;
/// `seL4_BadgeBits`: badges are full words.
pub const BADGE_BITS: u32 = 64;
/// `seL4_GuardBits`: width of the guard field in CNode cap data.
pub const GUARD_BITS: u32 = 58;
/// `seL4_GuardSizeBits`: width of the guard-size field in CNode cap data.
pub const GUARD_SIZE_BITS: u32 = 6;
/// Number of priorities (`seL4_NumPriorities`).
pub const NUM_PRIORITIES: usize = 256;
/// Highest priority (`seL4_MaxPrio`).
pub const MAX_PRIO: u64 = 255;
/// Maximum objects created by one `Untyped_Retype` (`CONFIG_RETYPE_FAN_OUT_LIMIT`).
pub const RETYPE_FAN_OUT_LIMIT: u64 = 256;
/// Root CNode size in bits (`CONFIG_ROOT_CNODE_SIZE_BITS`).
pub const ROOT_CNODE_SIZE_BITS: u32 = 12;
/// Root task time slice in microseconds (MCS, `CONFIG_BOOT_THREAD_TIME_SLICE` = 5 ms).
pub const BOOT_THREAD_TIME_SLICE_US: u64 = 5_000;
/// Number of domains (`CONFIG_NUM_DOMAINS`) of the Microkit SDK's kernels (Microkit's value on
/// single-core boards), which the SDF tools check against. A kernel's own value is in its
/// configuration record ([`config::KernelConfig`]): seL4's default of 1 in plain images.
pub const NUM_DOMAINS: u64 = config::KernelConfig::MICROKIT_DEBUG.num_domains;
/// Entries in the kernel's domain schedule array (`CONFIG_NUM_DOMAIN_SCHEDULES`, seL4 15+).
pub const NUM_DOMAIN_SCHEDULES: u64 = 256;
/// Largest domain schedule duration (`DSCHED_MAX_DURATION`: 56 bits; the top 8 bits of a
/// schedule word hold the domain). Durations are in timer ticks, which are µs here.
pub const DOMAIN_MAX_DURATION: u64 = u64::MAX >> 8;
