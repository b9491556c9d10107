//! Board constants for QEMU q35/pc.

/// Physical memory below this address is reachable through the kernel image mapping
/// (used to read the multiboot information before the window exists).
pub const LOW_ALIAS_LIMIT: u64 = 1 << 30;
/// Pages mapped after the initial task's image: the IPC buffer, then the boot-info page
/// (seL4's root-task layout).
pub const ROOT_TASK_EXTRA_PAGES: u64 = 2;
/// Timer ticks after which the kernel reports that the timer still runs, once.
pub const TICK_REPORT_FIRST: u64 = 100;
/// Period (ticks) of later timer reports (every 10 s at 100 Hz).
pub const TICK_REPORT_PERIOD: u64 = 1000;
/// The bring-up path arms one LAPIC one-shot deadline this far after boot.
pub const DEMO_DEADLINE_US: u64 = 500_000;
