//! Spinner: a PD that never blocks. It shares a "board" page with the other spinners and
//! writes its id there; whenever it finds another id on the board, another PD ran since it
//! last looked, so it prints the number of the slot it is now in and the other PD's count.
//!
//! In the domain boot test (`tests/microkit/domains`) `pa` (priority 200, domain A) and `pb`
//! (priority 100, domain B) spin; `pb` can only run at all if the kernel switches domains,
//! and the slots must alternate. `pc` (priority 150, domain A) must never run: in A the
//! higher `pa` always wins, and in B it is not in the current domain although its priority
//! beats `pb`'s; if it runs it prints a line the test treats as a failure.
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, pd_name, protection_domain, setvar, Channel, Handler};

/// How many slots each spinner reports.
const REPORTED_SLOTS: u64 = 6;

struct Spinner;

impl Handler for Spinner {
    fn notified(&mut self, channel: Channel) {
        debug_println!("{}: unexpected notification on channel {}", pd_name(), channel.index());
    }
}

fn init() -> Spinner {
    let board = setvar!(board: *mut u64);
    let name = pd_name();
    let me: u64 = match name {
        "pa" => 1,
        "pb" => 2,
        _ => 3,
    };
    if me == 3 {
        debug_println!("{name}: ran outside its domain's turn (domain violation)");
    }
    if board.is_null() {
        debug_println!("{name}: no board mapped (unexpected)");
        return Spinner;
    }
    // Word 0: id of the last PD that looked; words 1..=3: slots seen per PD.
    let mut slots = 0u64;
    loop {
        // SAFETY: the SDF maps the board page read-write at `board` in every spinner.
        let last = unsafe { board.read_volatile() };
        if last != me {
            slots += 1;
            // SAFETY: as above; words 1..=3 lie inside the 4 KiB page.
            let other = unsafe {
                board.write_volatile(me);
                board.add(me as usize).write_volatile(slots);
                board.add(if me == 1 { 2 } else { 1 }).read_volatile()
            };
            if slots <= REPORTED_SLOTS {
                debug_println!("{name}: slot {slots} (other side had {other})");
            }
        }
        core::hint::spin_loop();
    }
}

protection_domain!(init);
