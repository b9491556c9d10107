//! Fixed x86_64 kernel layout: virtual bases, segment selectors, interrupt vectors.

/// Virtual base of the kernel image mapping: physical 0..1 GiB appears here (the image is
/// linked at `KERNEL_VBASE + 1 MiB`, as `-mcmodel=kernel` expects).
pub const KERNEL_VBASE: u64 = 0xffff_ffff_8000_0000;
/// Virtual base of the kernel window: physical address `p` of RAM is at `PPTR_BASE + p`.
pub const PPTR_BASE: u64 = 0xffff_8000_0000_0000;
/// Largest physical address (exclusive) the kernel window can cover (one PML4 slot).
pub const WINDOW_LIMIT: u64 = 1 << 39;

/// Kernel code segment selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data/stack segment selector.
pub const KERNEL_SS: u16 = 0x10;
/// User data/stack segment selector (RPL 3); `sysret` derives it from STAR as base + 8.
pub const USER_SS: u16 = 0x18 | 3;
/// User 64-bit code segment selector (RPL 3); `sysret` derives it from STAR as base + 16.
pub const USER_CS: u16 = 0x20 | 3;
/// Task state segment selector (a 16-byte system descriptor).
pub const TSS_SEL: u16 = 0x28;

/// First vector the remapped legacy PIC delivers (IRQ 0 = vector 32).
pub const IRQ_BASE: u8 = 32;
/// Number of legacy PIC interrupt lines.
pub const NUM_IRQS: u8 = 16;
/// Pseudo-vector the syscall entry stores in the trap frame.
pub const SYSCALL_VECTOR: u64 = 0x100;
/// Length of the `syscall` instruction (FaultIP = NextIP - 2 after a syscall).
pub const SYSCALL_INSN_LEN: u64 = 2;

/// `isa-debug-exit` I/O port (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;
/// Value written for a clean shutdown: QEMU exits with status `(0x10 << 1) | 1 = 33`.
pub const DEBUG_EXIT_SUCCESS: u8 = 0x10;
/// Value written after a kernel panic: QEMU exits with status `(0x11 << 1) | 1 = 35`.
pub const DEBUG_EXIT_FAILURE: u8 = 0x11;
/// QEMU exit status after a clean shutdown.
pub const QEMU_STATUS_SUCCESS: i32 = 33;
/// QEMU exit status after a kernel panic.
pub const QEMU_STATUS_FAILURE: i32 = 35;

/// Whether `v` is a canonical 48-bit virtual address.
pub const fn is_canonical(v: u64) -> bool {
    let top = v >> 47;
    top == 0 || top == 0x1_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical() {
        assert!(is_canonical(0));
        assert!(is_canonical(0x7fff_ffff_ffff));
        assert!(!is_canonical(0x8000_0000_0000));
        assert!(is_canonical(PPTR_BASE));
        assert!(is_canonical(KERNEL_VBASE));
    }

    #[test]
    fn sysret_selectors_follow_star_rules() {
        // STAR[63:48] = USER_SS - 8 - 3: SS = base + 8, CS = base + 16.
        let base = (USER_SS & !3) - 8;
        assert_eq!(base + 8, USER_SS & !3);
        assert_eq!(base + 16, USER_CS & !3);
    }
}
