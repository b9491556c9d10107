//! What the parser needs to know about the target: architecture, page sizes, address limits.

/// Instruction set architecture of the target board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arch {
    /// 64-bit Arm.
    Aarch64,
    /// 64-bit RISC-V (Sv39).
    Riscv64,
    /// x86_64.
    X86_64,
}

impl Arch {
    /// Human-readable name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "AArch64",
            Arch::Riscv64 => "RISC-V 64",
            Arch::X86_64 => "x86_64",
        }
    }
}

/// Target facts the system description is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// Architecture.
    pub arch: Arch,
    /// Page sizes a memory region may use, smallest first.
    pub page_sizes: Vec<u64>,
    /// First virtual address user space cannot use (exclusive top of the user address space).
    pub user_top: u64,
    /// Number of CPUs; `cpu` attributes must be below it.
    pub num_cpus: u64,
    /// Whether the kernel forwards Arm SMC calls (only meaningful on AArch64).
    pub arm_smc: bool,
    /// Whether the kernel is built with hypervisor support, which `<virtual_machine>` needs.
    pub hypervisor: bool,
    /// Whether the board's configuration has an IOMMU, which `<io_address_space>` and
    /// `<iomap>` need (x86 VT-d only, as in Microkit).
    pub iommu: bool,
}

impl TargetConfig {
    /// The defaults for `arch` in this project's kernel configuration (MCS, one core, no
    /// hypervisor, Sv39 on RISC-V).
    ///
    /// IOMMU: on for x86_64 (seL4's x86 default builds VT-d support), off elsewhere
    /// (Microkit's IO mappings exist only for x86 PCI devices).
    ///
    /// Page sizes: Microkit lets memory regions use 4 KiB and 2 MiB pages on all three
    /// architectures (`Config::page_sizes` in Microkit's `tool/microkit/src/sel4.rs`).
    /// User tops: seL4's `seL4_UserTop` for the configuration above (AArch64 without
    /// hypervisor 0x8000_0000_0000, RISC-V Sv39 0x3f_ffff_f000, x86_64 0x7fff_ffff_f000).
    pub fn for_arch(arch: Arch) -> TargetConfig {
        let user_top = match arch {
            Arch::Aarch64 => 0x0000_8000_0000_0000,
            Arch::Riscv64 => 0x0000_003f_ffff_f000,
            Arch::X86_64 => 0x0000_7fff_ffff_f000,
        };
        TargetConfig {
            arch,
            page_sizes: vec![0x1000, 0x20_0000],
            user_top,
            num_cpus: 1,
            arm_smc: false,
            hypervisor: false,
            iommu: arch == Arch::X86_64,
        }
    }

    /// The smallest page size.
    pub fn min_page_size(&self) -> u64 {
        self.page_sizes.first().copied().unwrap_or(0x1000)
    }

    /// Highest address (exclusive) a PD mapping may reach: Microkit puts each PD's stack
    /// at the very top of its address space, so mappings must end below the stack.
    pub fn pd_map_limit(&self, stack_size: u64) -> u64 {
        self.user_top.saturating_sub(stack_size)
    }
}
