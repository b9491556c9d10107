//! `fpcheck`: checks that the kernel keeps each thread's FP register file to itself (what
//! the file holds per architecture comes from `sel4_sys::arch::fp`: V0–V31 on AArch64,
//! f0–f31 and `fcsr` on RISC-V, XMM0–15, ST0–7, MXCSR and the x87 control word on x86_64),
//! with the FPU switched lazily between threads that do and do not use it.
//!
//! The root task checks it starts with the initial FP state, loads non-default values into
//! every register, then starts `fpclobber` as a second thread (own VSpace and ASID, same
//! priority, 5 ms round-robin SC), which must also start with the initial state rather than
//! the root's values. Then both run interleaved: the root loads its pattern, yields and
//! checks it after the yield; `fpclobber` loads another pattern, spins without syscalls
//! until the timer preempts it, and checks its pattern after the spin. Each side counts only
//! rounds in which the other thread demonstrably ran in between. A third thread, `intonly`,
//! never touches the FPU and spins alongside. Finally a fourth thread with
//! `seL4_TCBFlag_fpuDisabled` executes one FP instruction, and the root, its fault handler,
//! must receive the UserException for the architecture's FPU-disabled trap.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use root_tests::{stop, PrintLock};
use sel4_abi::fault::user_exception;
use sel4_abi::{FaultType, ObjectKind};
use sel4_root::println;
use sel4_root::root::{Fpu, Root, Sel4};
use sel4_sys::arch::{first_difference, fp, Variant};
use sel4_sys::syscall::{recv, yield_now};
use sel4_sys::ARCH;

/// Interleaved rounds each thread must see intact.
const ROUNDS: u64 = 5;
/// Spin iterations of one `fpclobber` round (a few ms under QEMU, so preemption lands inside).
const SPINS: u64 = 2_000_000;
/// Round limit before giving up (each side).
const MAX_TRIES: u64 = 10_000;

/// Counted up by `fpclobber` while it spins (the root sees it ran).
static BEATS: AtomicU64 = AtomicU64::new(0);
/// Counted up by the root between its rounds (`fpclobber` sees it was preempted).
static ROOT_RUNS: AtomicU64 = AtomicU64::new(0);
/// `fpclobber` printed its start line.
static CLOBBER_STARTED: AtomicBool = AtomicBool::new(false);
/// `fpclobber` printed its success line.
static CLOBBER_DONE: AtomicBool = AtomicBool::new(false);
/// Counted up by `intonly` while it spins.
static INT_BEATS: AtomicU64 = AtomicU64::new(0);

static PRINT: PrintLock = PrintLock::new();

macro_rules! say {
    ($($arg:tt)*) => {
        PRINT.with(|| println!($($arg)*))
    };
}

/// Checks this thread's FP state is the initial one; says what differs otherwise.
fn check_initial(who: &str) -> bool {
    match fp::initial_state_mismatch() {
        Some(what) => {
            say!("{}: ERROR: initial FP state wrong: {}", who, what);
            false
        }
        None => true,
    }
}

/// Reports the first register of `got` that differs from `want`.
fn report_diff(who: &str, round: u64, want: &fp::Image, got: &fp::Image) {
    if let Some(i) = first_difference(&want.0, &got.0) {
        let (name, n) = fp::register_of(i);
        say!(
            "{}: ERROR: {}{} changed in round {}: {:#x}, want {:#x}",
            who,
            name,
            n,
            round,
            got.0[i],
            want.0[i]
        );
    }
}

/// The third thread: integer work only, spinning until preempted, forever.
extern "C" fn intonly(_arg: u64) -> ! {
    loop {
        for _ in 0..SPINS {
            INT_BEATS.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The fourth thread (`seL4_TCBFlag_fpuDisabled`): one FP instruction, which must fault.
extern "C" fn fpdenied(_arg: u64) -> ! {
    fp::touch();
    say!("fpdenied: ERROR: an FP instruction ran with seL4_TCBFlag_fpuDisabled");
    stop()
}

/// The second thread: check the initial state, then spin with its own pattern loaded.
extern "C" fn fpclobber(_arg: u64) -> ! {
    let fresh = check_initial("fpclobber");
    if fresh {
        say!("fpclobber: started with the initial FP state, not the root's");
    }
    CLOBBER_STARTED.store(true, Ordering::Release);
    let pattern = fp::pattern(0xA5A5_5A5A_C3C3_3C3C, Variant::Second);
    let mut preempted = 0;
    for round in 0..MAX_TRIES {
        let mut got = fp::Image::ZERO;
        let before = ROOT_RUNS.load(Ordering::Acquire);
        fp::spin_roundtrip(&pattern, &mut got, SPINS, &BEATS);
        if got != pattern {
            report_diff("fpclobber", round, &pattern, &got);
            break;
        }
        if ROOT_RUNS.load(Ordering::Acquire) != before {
            preempted += 1;
            if preempted == ROUNDS && fresh {
                say!(
                    "fpclobber: {} intact across {} preemptions",
                    fp::REGISTERS,
                    ROUNDS
                );
                CLOBBER_DONE.store(true, Ordering::Release);
            }
        }
    }
    let mut scratch = fp::Image::ZERO;
    loop {
        // Keeps the root's rounds meaningful forever.
        fp::spin_roundtrip(&pattern, &mut scratch, SPINS, &BEATS);
    }
}

/// Starts `fpdenied` with the root as its fault handler and checks its FP instruction
/// arrives as the UserException of the FPU-disabled trap.
fn fpu_disabled_faults(root: &mut Root<Sel4>, bi: &sel4_abi::BootInfo) {
    let objects = root
        .retype(ObjectKind::Endpoint, 0, 1)
        .and_then(|ep| Ok((ep, root.retype(ObjectKind::Reply, 0, 1)?)));
    let (ep, reply) = match objects {
        Ok(o) => o,
        Err(e) => {
            say!("fpcheck: ERROR: endpoint and reply for the fault handler: {}", e);
            stop()
        }
    };
    let spec = sel4_root::root::Spawn {
        fault_ep: ep,
        fpu: Fpu::Disabled,
        ..Root::spawn_spec(fpdenied, 0)
    };
    if let Err(e) = root.spawn(bi, spec) {
        say!("fpcheck: ERROR: starting fpdenied: {}", e);
        stop()
    }
    let (info, _badge) = recv(ep, reply);
    let label = info.label();
    let number = sel4_sys::get_mr(user_exception::number_index(ARCH));
    match fp::fpu_disabled_trap(number) {
        Some(trap) if label == FaultType::UserException as u64 => say!(
            "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: {} (user exception {:#x})",
            trap,
            number
        ),
        _ => say!(
            "fpcheck: ERROR: fault handler got label {} number {:#x}, want the UserException of the FPU-disabled trap",
            label,
            number
        ),
    }
}

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo: u64) -> ! {
    if !check_initial("fpcheck") {
        stop()
    }
    let bi = sel4_root::rt::boot_info(bootinfo);
    say!("fpcheck: root task started with the initial FP state");
    let mut root = match Root::new(bi, ARCH, Sel4) {
        Ok(r) => r,
        Err(e) => {
            say!("fpcheck: ERROR: boot info: {}", e);
            stop()
        }
    };
    let pattern = fp::pattern(0x0123_4567_89AB_CDEF, Variant::First);
    // Non-default values in every register while the second thread is created and started:
    // it must not inherit them.
    fp::load(&pattern);
    for (entry, name) in [
        (fpclobber as extern "C" fn(u64) -> !, "fpclobber"),
        (intonly, "intonly"),
    ] {
        if let Err(e) = root.spawn(bi, Root::spawn_spec(entry, 0)) {
            say!("fpcheck: ERROR: starting {}: {}", name, e);
            stop()
        }
    }
    let mut waits = 0;
    while !CLOBBER_STARTED.load(Ordering::Acquire) && waits < 1000 {
        yield_now();
        waits += 1;
    }
    if !CLOBBER_STARTED.load(Ordering::Acquire) {
        say!("fpcheck: ERROR: fpclobber never ran");
        stop()
    }
    let mut interleaved = 0;
    let mut with_int_only = 0;
    for round in 0..MAX_TRIES {
        ROOT_RUNS.fetch_add(1, Ordering::AcqRel);
        let mut got = fp::Image::ZERO;
        let before = BEATS.load(Ordering::Acquire);
        let int_before = INT_BEATS.load(Ordering::Acquire);
        fp::yield_roundtrip(&pattern, &mut got);
        if got != pattern {
            report_diff("fpcheck", round, &pattern, &got);
            stop()
        }
        if BEATS.load(Ordering::Acquire) != before {
            interleaved += 1;
        }
        if INT_BEATS.load(Ordering::Acquire) != int_before {
            with_int_only += 1;
        }
        if interleaved >= ROUNDS && with_int_only >= ROUNDS && CLOBBER_DONE.load(Ordering::Acquire) {
            say!(
                "fpcheck: {} intact across {} yields to fpclobber",
                fp::REGISTERS,
                interleaved
            );
            say!(
                "fpcheck: and intact across {} yields that ran the integer-only thread",
                with_int_only
            );
            fpu_disabled_faults(&mut root, bi);
            stop()
        }
    }
    say!(
        "fpcheck: ERROR: only {} of {} rounds interleaved with fpclobber",
        interleaved,
        MAX_TRIES
    );
    stop()
}
