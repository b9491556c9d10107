//! Bring-up x86_64 initial task that stops the machine with seL4_DebugHalt (exit-status test).
#![no_std]
#![no_main]

use hello_x86_64::{debug_halt, print};

/// Entry from `_start`.
#[no_mangle]
extern "C" fn user_main(_bootinfo: u64) -> ! {
    print("halt task: calling seL4_DebugHalt\n");
    debug_halt();
    print("halt task: ERROR: seL4_DebugHalt returned\n");
    loop {
        core::hint::spin_loop();
    }
}
