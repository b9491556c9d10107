//! `fault`: reads an unmapped address on purpose. The kernel must report the fault, suspend
//! this task (it has no fault handler) and keep running.
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_root::println;
use sel4_root::rt::read_word;

/// An address nothing maps in this task's address space.
const UNMAPPED: u64 = 0xdead_0000;

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(_bootinfo: u64) -> ! {
    println!("fault: reading unmapped address {:#x}", UNMAPPED);
    let v = read_word(UNMAPPED);
    println!("fault: ERROR: the read returned {:#x}", v);
    stop()
}
