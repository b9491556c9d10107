//! Benchmark client PD: in `init`, measures `N` PPCs into the active server (channel 0) and
//! the passive one (channel 1) against an empty loop; then `N` notify round trips with the
//! active server, driven from `notified`. Prints `microkit-bench: result <name> <instructions>`
//! lines and `microkit-bench: done`, then stops QEMU (`seL4_DebugHalt`). Counter and method:
//! sel4-bench's `counter` module (run under `-icount shift=0`).
#![no_std]
#![no_main]

use sel4_bench::{counter, measure, per_op};
use sel4_microkit::sel4_sys::syscall;
use sel4_microkit::{debug_println, get_mr, protection_domain, set_mr, Channel, Handler, MessageInfo};

/// Channel to the server with its own scheduling context.
const SERVER: Channel = Channel::new(0);
/// Channel to the passive server.
const PSERVER: Channel = Channel::new(1);
/// Operations per measurement.
const N: u64 = 2000;
/// Warm-up operations before each measurement.
const WARMUP: u64 = 20;
/// Measurements per PPC benchmark; the smallest is reported.
const ROUNDS: usize = 3;

fn halt() -> ! {
    syscall::debug_halt();
    loop {
        syscall::yield_now();
    }
}

fn fail(what: &str, got: u64, want: u64) -> ! {
    debug_println!("microkit-bench: FAILED {}: got {:#x}, want {:#x}", what, got, want);
    halt()
}

struct Client {
    freq: Option<u64>,
    /// Notifications received from the server so far.
    count: u64,
    /// Counter at the start of the measured notify round trips.
    t0: u64,
}

impl Handler for Client {
    fn notified(&mut self, channel: Channel) {
        if channel != SERVER {
            fail("notification channel", channel.index(), SERVER.index());
        }
        self.count += 1;
        if self.count == WARMUP {
            self.t0 = counter::read();
        }
        if self.count < WARMUP + N {
            SERVER.notify();
            return;
        }
        let t1 = counter::read();
        let r = per_op(t1.wrapping_sub(self.t0), 0, N, self.freq);
        if r.0 == 0 {
            fail("notify round trip cost", 0, 1);
        }
        debug_println!("microkit-bench: result microkit-notify-roundtrip {}", r);
        debug_println!("microkit-bench: done");
        halt()
    }
}

/// PPC into `ch` with MR0 = `i`; fails unless the answer is `i + 1`.
fn ppc(ch: Channel, i: u64) {
    set_mr(0, i);
    let reply = ch.pp_call(MessageInfo::new(0, 1));
    let got = get_mr(0);
    if reply.count() != 1 || got != i.wrapping_add(1) {
        fail("ppc answer", got, i.wrapping_add(1));
    }
}

fn init() -> Client {
    let freq = counter::frequency();
    debug_println!(
        "microkit-bench: start: {} iterations, best of {}, counter {}",
        N,
        ROUNDS,
        counter::NAME
    );
    let empty = measure(N, WARMUP, ROUNDS, |_| {});
    let t = measure(N, WARMUP, ROUNDS, |i| ppc(SERVER, i));
    debug_println!("microkit-bench: result microkit-ppc-active {}", per_op(t, empty, N, freq));
    let t = measure(N, WARMUP, ROUNDS, |i| ppc(PSERVER, i));
    debug_println!("microkit-bench: result microkit-ppc-passive {}", per_op(t, empty, N, freq));
    SERVER.notify();
    Client { freq, count: 0, t0: 0 }
}

protection_domain!(init);
