//! Host-testable logic of the initialiser root task (boot info comes from `sel4-root`): the
//! untyped allocator, paging-structure planning, per-arch register layouts and fault reports.
//! The binary (`src/bin/initialiser.rs`) drives these with real seL4 invocations.
#![no_std]

extern crate alloc;

pub mod apply;
pub mod fault;
pub mod iommu;
pub mod paging;
pub mod untyped;

pub use microkit_spec::Arch;

/// `sel4-sys`'s arch for a spec arch.
pub fn sys_arch(a: Arch) -> sel4_sys::Arch {
    match a {
        Arch::Aarch64 => sel4_sys::Arch::Aarch64,
        Arch::Riscv64 => sel4_sys::Arch::Riscv64,
        Arch::X86_64 => sel4_sys::Arch::X86_64,
    }
}

/// The initial registers of a thread as the first words of `seL4_UserContext`
/// (`sel4-abi.md` §5: aarch64 pc, sp; riscv64 pc, ra, sp; x86_64 rip, rsp).
pub fn initial_context(a: Arch, pc: u64, sp: u64) -> ([u64; 3], usize) {
    match a {
        Arch::Aarch64 | Arch::X86_64 => ([pc, sp, 0], 2),
        Arch::Riscv64 => ([pc, 0, sp], 3),
    }
}

/// Number of words in `seL4_UserContext` and the names of the registers, in order.
pub fn user_context_names(a: Arch) -> &'static [&'static str] {
    match a {
        Arch::Aarch64 => &[
            "pc", "sp", "spsr", "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x16", "x17", "x18", "x29", "x30", "x9",
            "x10", "x11", "x12", "x13", "x14", "x15", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
            "tpidr_el0", "tpidrro_el0",
        ],
        Arch::Riscv64 => &[
            "pc", "ra", "sp", "gp", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "a0", "a1", "a2",
            "a3", "a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "tp",
        ],
        Arch::X86_64 => &[
            "rip", "rsp", "rflags", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13",
            "r14", "r15", "fs_base", "gs_base",
        ],
    }
}
