//! Raw seL4 16.0.0 (MCS) user-space interface: syscall stubs for aarch64, riscv64 and
//! x86_64, the IPC buffer, and typed invocation wrappers.
//!
//! Layers: [`invocation`] encodes each object method into label + MRs + extra caps (pure,
//! host-tested); [`syscall`] has one function per system call over the arch trap in
//! `arch`; [`ops`] combines the two into `seL4_Call`-based typed wrappers. The syscall and
//! ops layers only make sense on a bare-metal target running on an seL4-ABI kernel.
#![no_std]

pub mod abi;
/// The raw trap ([`arch::raw`]) for code that keeps its own IPC buffer pointer (several
/// threads in one address space, each with its own buffer).
pub mod arch;
pub mod invocation;
pub mod ipc_buffer;
pub mod message;
pub mod ops;
pub mod syscall;

/// The kernel configuration options under seL4's `CONFIG_*` names, and the configurations
/// our images run with: [`config::KernelConfig::SEL4_DEFAULT`] for a plain image (`mkimage`),
/// `KernelConfig::microkit(name)` for the Microkit SDK's `name` configuration
/// (`docs/config.md`).
pub mod config {
    pub use sel4_abi::config::{Benchmark, KernelConfig, RECORD_MAGIC};
}
pub use abi::{Arch, Error, ARCH};
pub use invocation::set_kernel_config;
pub use ipc_buffer::{get_mr, set_mr, IpcBuffer};
pub use message::{CapRights, MessageInfo};

/// Initial CNode slots of the root task (`sel4-abi.md` §7).
pub mod init_caps {
    /// The root task's TCB.
    pub const TCB: u64 = 1;
    /// The root CNode.
    pub const CNODE: u64 = 2;
    /// The root VSpace.
    pub const VSPACE: u64 = 3;
    /// IRQControl.
    pub const IRQ_CONTROL: u64 = 4;
    /// ASIDControl.
    pub const ASID_CONTROL: u64 = 5;
    /// The root task's ASID pool.
    pub const ASID_POOL: u64 = 6;
    /// IOPortControl (x86 only).
    pub const IO_PORT_CONTROL: u64 = 7;
    /// IOSpace (x86 IOMMU).
    pub const IO_SPACE: u64 = 8;
    /// The boot-info frame.
    pub const BOOT_INFO_FRAME: u64 = 9;
    /// The root task's IPC buffer frame.
    pub const IPC_BUFFER: u64 = 10;
    /// Domain cap.
    pub const DOMAIN: u64 = 11;
    /// The root task's scheduling context (MCS).
    pub const SCHED_CONTEXT: u64 = 14;
    /// The SMC cap (`seL4_CapSMC`, aarch64 only).
    pub const SMC: u64 = 15;
}
