//! Benchmark server PD: answers a PPC with MR0 + 1 and answers a notification with one back
//! on the same channel.
#![no_std]
#![no_main]

use sel4_microkit::{get_mr, protection_domain, set_mr, Channel, Handler, MessageInfo};

struct Server;

impl Handler for Server {
    fn protected(&mut self, _channel: Channel, _msg: MessageInfo) -> MessageInfo {
        set_mr(0, get_mr(0).wrapping_add(1));
        MessageInfo::new(0, 1)
    }

    fn notified(&mut self, channel: Channel) {
        channel.notify();
    }
}

fn init() -> Server {
    Server
}

protection_domain!(init);
