//! Passive Rust server of the mixed system, called by the C client (examples/c-hello's
//! client.c): answers a PPC with MR0 * MR1; on a notification prints the string the C client
//! left in their shared region and notifies it back (deferred, as the C server does).
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, get_mr, pd_name, protection_domain, set_mr, setvar, Channel, Handler, MessageInfo};

/// The channel on which the client is notified back.
const CLIENT: Channel = Channel::new(1);

struct Server {
    shared: *const u8,
}

impl Handler for Server {
    fn protected(&mut self, channel: Channel, msg: MessageInfo) -> MessageInfo {
        let (a, b) = (get_mr(0), get_mr(1));
        debug_println!("{}: ppc on channel {} (label {}): {} * {} = {}", pd_name(), channel.index(), msg.label(), a, b, a * b);
        set_mr(0, a * b);
        MessageInfo::new(0, 1)
    }

    fn notified(&mut self, channel: Channel) {
        let text = read_c_string(self.shared);
        debug_println!("{}: notified on channel {}, shared memory says '{}'", pd_name(), channel.index(), text);
        CLIENT.deferred_notify();
    }
}

/// The NUL-terminated string at `p` (at most one page), as text.
fn read_c_string(p: *const u8) -> &'static str {
    // SAFETY: `p` is the start of the 4 KiB region the tool mapped at `shared_vaddr` for this
    // PD; only bytes of that page are read.
    let page = unsafe { core::slice::from_raw_parts(p, 4096) };
    let n = page.iter().position(|b| *b == 0).unwrap_or(page.len());
    core::str::from_utf8(&page[..n]).unwrap_or("<not UTF-8>")
}

fn init() -> Server {
    debug_println!("{}: init, I am '{}'", pd_name(), pd_name());
    Server { shared: setvar!(shared_vaddr: *const u8) }
}

protection_domain!(init);
