//! The trap instruction per architecture: one general entry, [`raw`], that loads every
//! syscall input register and returns every output register. Unused inputs are ignored
//! by the kernel.

/// Register image of a syscall: inputs before the trap, outputs after it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Regs {
    /// Cap register in (cptr / char / TCB), badge out.
    pub cap: u64,
    /// MessageInfo register.
    pub info: u64,
    /// MR0–MR3 registers.
    pub mr: [u64; 4],
    /// Reply-object register (MCS).
    pub reply: u64,
    /// NBSendRecv destination register (MCS).
    pub dest: u64,
}

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::raw;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv64::raw;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::raw;
