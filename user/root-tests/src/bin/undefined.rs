//! `undefined`: executes an undefined instruction. The kernel core must turn it into a
//! UserException fault; with no fault handler the task is suspended and never gets past it.
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_root::println;
use sel4_sys::arch::fault::{undefined_instruction, UNDEFINED_INSTRUCTION};

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(_bootinfo: u64) -> ! {
    println!("undefined: executing an undefined instruction ({})", UNDEFINED_INSTRUCTION);
    undefined_instruction();
    println!("undefined: ERROR: execution continued after it");
    stop()
}
