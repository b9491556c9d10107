//! Leaving QEMU with a status through the isa-debug-exit device.

use crate::cpu::outb;
use crate::layout::{DEBUG_EXIT_FAILURE, DEBUG_EXIT_PORT, DEBUG_EXIT_SUCCESS};

/// Stop the machine: `code` 0 exits QEMU with status 33, anything else with 35. Without
/// the isa-debug-exit device the CPU halts forever.
pub fn halt(code: u32) -> ! {
    let v = if code == 0 {
        DEBUG_EXIT_SUCCESS
    } else {
        DEBUG_EXIT_FAILURE
    };
    // SAFETY: port 0xf4 is the isa-debug-exit device (or unused); writing ends the VM.
    unsafe { outb(DEBUG_EXIT_PORT, v) };
    loop {
        // SAFETY: interrupts off and hlt: the CPU stops here for good.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) }
    }
}
