//! The kernel panic path: print the reason under a `KERNEL PANIC` line and stop QEMU with a
//! failing status (semihosting SYS_EXIT, code 1).

/// Report a Rust panic and stop. Call from the kernel binary's `#[panic_handler]`.
pub fn report(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(l) => crate::kprintln!(
            "KERNEL PANIC: {} at {}:{}",
            info.message(),
            l.file(),
            l.line()
        ),
        None => crate::kprintln!("KERNEL PANIC: {}", info.message()),
    }
    crate::cpu::semihosting_exit(1)
}
