//! Client: calls the server (PPC), notifies it, and writes into shared memory for the reader.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, get_mr, protection_domain, set_mr, setvar, Channel, Handler, MessageInfo};

/// Channel to the server (PPC + notify).
const SERVER: Channel = Channel::new(0);
/// Channel to the reader (notify).
const READER: Channel = Channel::new(1);

struct Client;

impl Handler for Client {
    fn notified(&mut self, channel: Channel) {
        debug_println!("client: notified on channel {}", channel.index());
    }
}

fn init() -> Client {
    debug_println!("client: init");
    // The server answers with the product; the client never computes it itself, so the
    // answer line proves the PPC reached the server and its reply came back.
    let (a, b) = (6, 7);
    set_mr(0, a);
    set_mr(1, b);
    let reply = SERVER.pp_call(MessageInfo::new(1, 2));
    debug_println!("client: ppc({}, {}) answered {} ({} MR)", a, b, get_mr(0), reply.count());
    SERVER.notify();

    // The tool patches `shared_vaddr` with the address of the `shared` region (setvar_vaddr).
    let shared = setvar!(shared_vaddr: *mut u8);
    if shared.is_null() {
        debug_println!("client: shared region not mapped");
    } else {
        for (i, b) in b"hello\0".iter().enumerate() {
            // SAFETY: the SDF maps at least one page read-write at `shared_vaddr`.
            unsafe { shared.add(i).write_volatile(*b) };
        }
        READER.notify();
    }
    Client
}

protection_domain!(init);
