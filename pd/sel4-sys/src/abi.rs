//! ABI numbers, from the project's `sel4-abi` crate (the one place every number lives), plus
//! the few user-side conveniences this crate needs on top.

pub use sel4_abi::{arch_label_number, Arch, ArchLabel, Error, FaultType, Label, ObjectKind, Syscall};

/// The architecture this crate is compiled for (x86_64 on an x86_64 host).
#[cfg(target_arch = "aarch64")]
pub const ARCH: Arch = Arch::Aarch64;
/// The architecture this crate is compiled for.
#[cfg(target_arch = "riscv64")]
pub const ARCH: Arch = Arch::Riscv64;
/// The architecture this crate is compiled for.
#[cfg(not(any(target_arch = "aarch64", target_arch = "riscv64")))]
pub const ARCH: Arch = Arch::X86_64;

/// `seL4_ObjectType` number of `kind` on `arch`. A RISC-V VSpace root is a plain page table,
/// so `VSpace` maps to `PageTable` there.
pub fn object_type(arch: Arch, kind: ObjectKind) -> Option<u64> {
    if kind == ObjectKind::ArmVcpu {
        let hyp = arch == Arch::Aarch64 && crate::invocation::kernel_has_hypervisor();
        return hyp.then_some(sel4_abi::object::ARM_VCPU_OBJECT);
    }
    let kind = match (arch, kind) {
        (Arch::Riscv64, ObjectKind::VSpace) => ObjectKind::PageTable,
        (_, k) => k,
    };
    sel4_abi::object_type_number(arch, kind)
}

/// log2 of the bytes of an object of `kind` (user size argument `user_bits`) in the kernel this
/// program talks to: as `sel4_abi::object::object_size_bits`, with the VSpace object's size
/// of a kernel with or without hypervisor support ([`crate::invocation::kernel_has_hypervisor`]).
pub fn object_size_bits(arch: Arch, kind: ObjectKind, user_bits: u64) -> Option<u32> {
    let config = sel4_abi::config::KernelConfig {
        hypervisor: crate::invocation::kernel_has_hypervisor(),
        ..sel4_abi::config::KernelConfig::SEL4_DEFAULT
    };
    sel4_abi::object::object_size_bits_in(arch, &config, kind, user_bits)
}

/// The reply label of an invocation as a result: `Ok` for 0, `Err(Some(e))` for an
/// `seL4_Error`, `Err(None)` for any other label.
pub fn error_from_label(n: u64) -> Result<(), Option<Error>> {
    if n == 0 {
        Ok(())
    } else {
        Err(Error::from_u64(n))
    }
}

/// Fault labels as plain numbers (MCS), for matching on a received label.
pub mod fault {
    use sel4_abi::FaultType;
    /// NullFault (also a plain message with label 0).
    pub const NULL: u64 = FaultType::NullFault as u64;
    /// CapFault.
    pub const CAP: u64 = FaultType::CapFault as u64;
    /// UnknownSyscall.
    pub const UNKNOWN_SYSCALL: u64 = FaultType::UnknownSyscall as u64;
    /// UserException.
    pub const USER_EXCEPTION: u64 = FaultType::UserException as u64;
    /// DebugException.
    pub const DEBUG_EXCEPTION: u64 = FaultType::DebugException as u64;
    /// Timeout (MCS).
    pub const TIMEOUT: u64 = FaultType::Timeout as u64;
    /// VMFault (MCS numbering).
    pub const VM: u64 = FaultType::VmFault as u64;
}
