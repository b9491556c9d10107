//! Board constants for QEMU q35/pc.

/// Physical memory below this address is reachable through the kernel image mapping
/// (used to read the multiboot information before the window exists).
pub const LOW_ALIAS_LIMIT: u64 = 1 << 30;
/// Timer ticks after which the kernel reports that the timer still runs, once.
pub const TICK_REPORT_FIRST: u64 = 100;
/// Period (ticks) of later timer reports (every 10 s at 100 Hz).
pub const TICK_REPORT_PERIOD: u64 = 1000;
