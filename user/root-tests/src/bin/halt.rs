//! `halt`: stops the machine with `seL4_DebugHalt` (on x86_64 the kernel then exits QEMU
//! through the isa-debug-exit device).
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_root::println;
use sel4_sys::syscall::debug_halt;

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(_bootinfo: u64) -> ! {
    println!("halt: calling seL4_DebugHalt");
    debug_halt();
    println!("halt: ERROR: seL4_DebugHalt returned");
    stop()
}
