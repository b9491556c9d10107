//! Passive server: answers a PPC with the product of MR0 and MR1, and reports notifications.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, get_mr, protection_domain, set_mr, Channel, Handler, MessageInfo};

/// Channel to the client (SDF `id` on the server's end).
const CLIENT: Channel = Channel::new(0);

struct Server;

impl Handler for Server {
    fn protected(&mut self, channel: Channel, msg: MessageInfo) -> MessageInfo {
        let answer = get_mr(0).wrapping_mul(get_mr(1));
        debug_println!("server: ppc on channel {} (label {}), answering {}", channel.index(), msg.label(), answer);
        set_mr(0, answer);
        MessageInfo::new(0, 1)
    }

    fn notified(&mut self, channel: Channel) {
        if channel == CLIENT {
            debug_println!("server: notified");
        } else {
            debug_println!("server: notified on unexpected channel {}", channel.index());
        }
    }
}

fn init() -> Server {
    debug_println!("server: init ({})", sel4_microkit::pd_name());
    Server
}

protection_domain!(init);
