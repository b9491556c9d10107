//! Reader: on a notification, prints the string the client left in shared memory.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

/// Channel to the client.
const CLIENT: Channel = Channel::new(0);

struct Reader {
    shared: *const u8,
}

impl Handler for Reader {
    fn notified(&mut self, channel: Channel) {
        if channel != CLIENT || self.shared.is_null() {
            debug_println!("reader: unexpected notification on channel {}", channel.index());
            return;
        }
        let mut buf = [0u8; 32];
        let mut n = 0;
        while n < buf.len() {
            // SAFETY: the SDF maps the shared page read-only at `shared_vaddr`.
            let b = unsafe { self.shared.add(n).read_volatile() };
            if b == 0 {
                break;
            }
            buf[n] = b;
            n += 1;
        }
        debug_println!("shared memory: read '{}'", core::str::from_utf8(&buf[..n]).unwrap_or("?"));
    }
}

fn init() -> Reader {
    Reader { shared: setvar!(shared_vaddr: *const u8) }
}

protection_domain!(init);
