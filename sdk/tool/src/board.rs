//! The board table: what the tool knows about each supported board.

use sdf::{Arch, TargetConfig};

use crate::error::ToolError;

/// A range of physical RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RamRange {
    /// First byte.
    pub base: u64,
    /// Size in bytes.
    pub size: u64,
}

/// One supported board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    /// Microkit's name for the board.
    pub name: &'static str,
    /// Architecture.
    pub arch: Arch,
    /// Page sizes memory regions may use (Microkit: 4 KiB and 2 MiB on all three).
    pub page_sizes: &'static [u64],
    /// Exclusive top of the user virtual address space (seL4_UserTop for our configuration).
    pub user_top: u64,
    /// CPUs the kernel runs on in the uniprocessor configurations (`debug`, `release`,
    /// `benchmark`): 1.
    pub num_cpus: u64,
    /// Cores of the multicore (`smp-*`) configurations: Microkit 2.3's `smp_cores` for the
    /// board (its SDK builds those kernels with `KernelMaxNumNodes` set to it).
    pub smp_cores: u64,
    /// Physical RAM the image stage may use.
    pub ram: &'static [RamRange],
    /// Where that RAM layout comes from.
    pub ram_note: &'static str,
    /// Debug UART the kernel prints on.
    pub uart: &'static str,
}

impl Board {
    /// The parser's view of this board in configuration `config`: `cpu` attributes must be
    /// below the configuration's core count (1, or the board's `smp_cores` for `smp-*`), and
    /// multicore configurations refuse the domain scheduler, as Microkit's tool does.
    pub fn target_config_for(&self, config: crate::args::Config) -> TargetConfig {
        let mut c = self.target_config();
        c.num_cpus = self.cores(config);
        c
    }

    /// Cores of the kernel of configuration `config` on this board.
    pub fn cores(&self, config: crate::args::Config) -> u64 {
        if config.is_smp() {
            self.smp_cores
        } else {
            self.num_cpus
        }
    }

    /// Whether a system for this board may hold `<virtual_machine>`s with the kernel whose
    /// configuration is `kernel`: only an AArch64 kernel built with
    /// `CONFIG_ARM_HYPERVISOR_SUPPORT` (its record's hypervisor flag; `docs/hyp.md`) runs
    /// guests. Without a record (`None`) or with Microkit's stock values there is none.
    pub fn hypervisor(&self, kernel: Option<&sel4_abi::config::KernelConfig>) -> bool {
        self.arch == Arch::Aarch64 && kernel.is_some_and(|k| k.hypervisor)
    }

    /// The parser's view of this board in a uniprocessor configuration.
    pub fn target_config(&self) -> TargetConfig {
        let mut c = TargetConfig::for_arch(self.arch);
        c.page_sizes = self.page_sizes.to_vec();
        c.user_top = self.user_top;
        c.num_cpus = self.num_cpus;
        // Our aarch64 kernel forwards SMC calls (seL4_ARM_SMC_Call; seL4 ALLOW_SMC_CALLS).
        c.arm_smc = self.arch == Arch::Aarch64;
        c
    }
}

const PAGE_SIZES: &[u64] = &[0x1000, 0x20_0000];

/// Every supported board.
pub const BOARDS: &[Board] = &[
    Board {
        name: "qemu_virt_aarch64",
        arch: Arch::Aarch64,
        page_sizes: PAGE_SIZES,
        // seL4_UserTop on AArch64 without hypervisor support (48-bit VA).
        user_top: 0x0000_8000_0000_0000,
        num_cpus: 1,
        smp_cores: 4,
        ram: &[RamRange { base: 0x4000_0000, size: 0x8000_0000 }],
        ram_note: "QEMU virt RAM starts at 0x4000_0000; 2 GiB assumed (run with -m 2G)",
        uart: "PL011 at 0x0900_0000",
    },
    Board {
        name: "qemu_virt_riscv64",
        arch: Arch::Riscv64,
        page_sizes: PAGE_SIZES,
        // seL4_UserTop for Sv39.
        user_top: 0x0000_003f_ffff_f000,
        num_cpus: 1,
        smp_cores: 4,
        // OpenSBI occupies the first 2 MiB of RAM and enters S-mode at 0x8020_0000.
        ram: &[RamRange { base: 0x8020_0000, size: 0x7fe0_0000 }],
        ram_note: "QEMU virt RAM starts at 0x8000_0000, first 2 MiB kept for OpenSBI; 2 GiB assumed (run with -m 2G)",
        uart: "NS16550 at 0x1000_0000",
    },
    Board {
        name: "x86_64_generic",
        arch: Arch::X86_64,
        page_sizes: PAGE_SIZES,
        // seL4_UserTop on x86_64.
        user_top: 0x0000_7fff_ffff_f000,
        num_cpus: 1,
        // Microkit's DEFAULT_X86_NUM_CPUS.
        smp_cores: 16,
        ram: &[RamRange { base: 0x10_0000, size: 0x7ff0_0000 }],
        ram_note: "RAM above 1 MiB; the multiboot memory map decides at boot, 2 GiB assumed for planning",
        uart: "COM1 at I/O port 0x3f8",
    },
];

/// Looks a board up by name.
pub fn find(name: &str) -> Result<&'static Board, ToolError> {
    BOARDS
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| ToolError::UnknownBoard {
            name: name.to_string(),
            known: BOARDS.iter().map(|b| b.name).collect(),
        })
}
