//! Worker: counts the boss's notifications in the shared page `counter`; on the third and the
//! fourth it signals the boss through the cap the boss left in slot 3, then slot 4, of the
//! shared CNode `mailbox` (its own `<cspace>` slot 1).
#![no_std]
#![no_main]

use sel4_microkit::cspace::UserCap;
use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

/// Channel to the boss.
const BOSS: Channel = Channel::new(0);
/// The shared CNode `mailbox`, a directory of caps the boss places.
const MAILBOX: UserCap = UserCap::new(1);

struct Worker {
    counter: *mut u64,
}

impl Handler for Worker {
    fn notified(&mut self, channel: Channel) {
        if channel != BOSS || self.counter.is_null() {
            debug_println!("worker: unexpected notification on channel {}", channel.index());
            return;
        }
        // SAFETY: the SDF maps the `counter` page read-write at `counter_vaddr`; only this PD
        // writes it.
        let n = unsafe { self.counter.read_volatile() } + 1;
        // SAFETY: as above.
        unsafe { self.counter.write_volatile(n) };
        debug_println!("worker: notified (count {})", n);
        if n == 3 || n == 4 {
            debug_println!("worker: signalling the boss through mailbox slot {}", n);
            sel4_microkit::sel4_sys::syscall::signal(MAILBOX.index(n));
        }
    }
}

fn init() -> Worker {
    debug_println!("worker: init");
    Worker {
        counter: setvar!(counter_vaddr: *mut u64),
    }
}

protection_domain!(init);
