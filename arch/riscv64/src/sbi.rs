//! The few SBI calls the kernel makes to OpenSBI (M-mode firmware).

use core::arch::asm;

/// The SBI TIME extension id ("TIME").
const EID_TIME: u64 = 0x5449_4D45;
/// The SBI base extension id.
const EID_BASE: u64 = 0x10;
/// System reset extension id ("SRST").
const EID_SRST: u64 = 0x5352_5354;
/// Hart state management extension id ("HSM").
pub const EID_HSM: u64 = 0x48_534D;

/// Make one SBI call; returns (error, value).
fn call(eid: u64, fid: u64, a0: u64, a1: u64) -> (i64, u64) {
    call3(eid, fid, a0, a1, 0)
}

/// Make one SBI call with three arguments; returns (error, value).
fn call3(eid: u64, fid: u64, a0: u64, a1: u64, a2: u64) -> (i64, u64) {
    let err: i64;
    let val: u64;
    // SAFETY: an SBI call traps to the M-mode firmware, which only touches a0/a1 (and the
    // registers it is specified to use); it never writes kernel memory we did not pass.
    unsafe {
        asm!("ecall",
            inlateout("a0") a0 => err, inlateout("a1") a1 => val,
            in("a2") a2, in("a6") fid, in("a7") eid, options(nostack));
    }
    (err, val)
}

/// SBI HSM `hart_start`: start hart `hart` in S-mode at physical address `start` with the
/// MMU off, a0 = `hart` and a1 = `opaque`. Returns the SBI error code on failure
/// (`SBI_ERR_INVALID_PARAM` -3, `SBI_ERR_ALREADY_AVAILABLE` -6, ...).
pub fn hart_start(hart: u64, start: u64, opaque: u64) -> Result<(), i64> {
    match call3(EID_HSM, 0, hart, start, opaque) {
        (0, _) => Ok(()),
        (e, _) => Err(e),
    }
}

/// Whether the firmware implements extension `eid`.
pub fn probe_extension(eid: u64) -> bool {
    matches!(call(EID_BASE, 3, eid, 0), (0, v) if v != 0)
}

/// Program the next timer interrupt at absolute time `stime_value` (timebase ticks); this
/// also clears a pending timer interrupt.
pub fn set_timer(stime_value: u64) {
    if call(EID_TIME, 0, stime_value, 0).0 != 0 {
        // Legacy extension 0 (set_timer) for firmware without TIME.
        call(0, 0, stime_value, 0);
    }
}

/// Power the machine off through SRST (QEMU exits with status 0 whatever `failure` says).
pub fn shutdown(failure: bool) {
    call(EID_SRST, 0, 0, failure as u64);
}
