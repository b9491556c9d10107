//! Faulter: reads an unmapped address in `init` on purpose, so the monitor reports a VM fault
//! naming this PD and the address (used by the PD-fault test system, `tests/microkit/pd-fault`).
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, protection_domain, Channel, Handler};

/// An address no SDF `map` and no ELF segment covers (below the PD's image at 0x200000).
const UNMAPPED: usize = 0x10_0ad8;

struct Faulter;

impl Handler for Faulter {
    fn notified(&mut self, channel: Channel) {
        debug_println!("faulter: notified on channel {}", channel.index());
    }
}

fn init() -> Faulter {
    debug_println!("faulter: reading unmapped address {:#x}", UNMAPPED);
    // SAFETY: not sound on purpose: nothing is mapped there, the read faults and the kernel
    // sends the fault to the monitor; this thread never continues past it.
    let v = unsafe { (UNMAPPED as *const u64).read_volatile() };
    debug_println!("faulter: read {:#x} from an unmapped address (must not happen)", v);
    Faulter
}

protection_domain!(init);
