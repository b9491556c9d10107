//! Rust client of the mixed system, calling the C server (examples/c-hello's server.c): writes
//! "hello from Rust" into their shared region, asks for 6 * 7 by PPC, notifies the server and
//! prints the server's notification back.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, get_mr, pd_name, protection_domain, set_mr, setvar, Channel, Handler, MessageInfo};

const SERVER_PPC: Channel = Channel::new(0);
const SERVER_NOTIFY: Channel = Channel::new(1);

struct Client;

impl Handler for Client {
    fn notified(&mut self, channel: Channel) {
        debug_println!("{}: notified on channel {} by the server, done", pd_name(), channel.index());
    }
}

fn init() -> Client {
    let shared: *mut u8 = setvar!(shared_vaddr: *mut u8);
    let text = b"hello from Rust\0";
    // SAFETY: the tool mapped a 4 KiB read-write region at `shared_vaddr`; the text fits.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), shared, text.len()) };
    set_mr(0, 6);
    set_mr(1, 7);
    let reply = SERVER_PPC.pp_call(MessageInfo::new(1, 2));
    debug_println!("{}: ppc answered {} ({} MR)", pd_name(), get_mr(0), reply.count());
    SERVER_NOTIFY.notify();
    Client
}

protection_domain!(init);
