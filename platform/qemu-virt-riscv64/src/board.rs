//! QEMU `virt` (riscv64) board constants.

use arch_riscv64::machine::{BoardConfig, BoardFacts};

/// Start of RAM.
pub const RAM_BASE: u64 = 0x8000_0000;
/// RAM size assumed when the DTB gives none (`-m 1G`).
pub const DEFAULT_RAM_SIZE: u64 = 1 << 30;
/// ns16550 UART0.
pub const UART0: u64 = 0x1000_0000;
/// UART0's PLIC interrupt number.
pub const UART0_IRQ: u64 = 10;
/// sifive_test device (QEMU exit with status).
pub const TEST_DEVICE: u64 = 0x10_0000;
/// PLIC base.
pub const PLIC: u64 = 0x0c00_0000;
/// Size of the PLIC's MMIO region on `virt`.
pub const PLIC_SIZE: u64 = 0x0400_0000;
/// PLIC context of hart 0 in S-mode (hart `h`'s is `2h + 1`: an M-mode and an S-mode context
/// per hart).
pub const PLIC_S_CONTEXT_HART0: u64 = 1;
/// Number of PLIC sources on `virt` (IRQ 0 is reserved).
pub const PLIC_SOURCES: u32 = 96;
/// Timebase of the `time` CSR on `virt`.
pub const TIMEBASE_HZ: u64 = 10_000_000;

/// The arch layer's view of this board: RAM, timebase and Sstc from the DTB when it gives
/// them, otherwise the `virt` defaults (`RAM_BASE`, `DEFAULT_RAM_SIZE`, `TIMEBASE_HZ`, SBI timer).
/// Device interrupts go to the S-mode PLIC context of `boot_hart` (the hart OpenSBI booted
/// the kernel on, which need not be hart 0 under `-smp`).
pub fn config(facts: &BoardFacts, boot_hart: u64) -> BoardConfig {
    let (base, size) = facts.ram.unwrap_or((RAM_BASE, DEFAULT_RAM_SIZE));
    BoardConfig {
        ram: (base, base.saturating_add(size)),
        timebase_hz: facts.timebase_hz.filter(|&f| f > 0).unwrap_or(TIMEBASE_HZ),
        sstc: facts.sstc,
        uart: UART0,
        test_device: TEST_DEVICE,
        plic: PLIC,
        plic_context: PLIC_S_CONTEXT_HART0 + 2 * boot_hart,
        plic_sources: PLIC_SOURCES,
    }
}
