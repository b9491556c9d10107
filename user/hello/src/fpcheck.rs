//! `fpcheck`: a root task that checks that the kernel preserves each thread's FP/SIMD
//! registers (V0–V31) across `seL4_Yield` and the thread switches it causes, with the FPU
//! switched lazily between threads that do and do not use it. It starts three threads (own
//! VSpace and ASID each, same priority) through seL4 invocations: `fpclobber` overwrites
//! every FP/SIMD register in a loop without syscalls until the timer preempts it; `intspin`
//! never uses FP/SIMD and only yields; `fpcheck_b` does what the root task does with its own
//! pattern (load, yield, compare). Last, a fourth thread with `seL4_TCBFlag_fpuDisabled`
//! executes one FP instruction: the root task, its fault handler, must receive a
//! `seL4_Fault_UserException` whose number is the ESR of an FP/SIMD access trap (EC 0x07).
#![no_std]
#![no_main]

mod sel4;

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sel4_abi::ObjectKind;

use user_rt::uprintln;

/// Set by `fpclobber` once its line is printed (shared memory: its VSpace maps this
/// image's frames), so the two threads' output never interleaves.
static CLOBBER_PRINTED: AtomicBool = AtomicBool::new(false);

/// Rounds `fpcheck_b` completed, and rounds in which its registers had changed.
static B_ROUNDS: AtomicU64 = AtomicU64::new(0);
static B_CHANGED: AtomicU64 = AtomicU64::new(0);
/// Times `intspin` ran.
static INT_RUNS: AtomicU64 = AtomicU64::new(0);

/// `seL4_Fault_UserException`, the label of its fault message.
const FAULT_USER_EXCEPTION: u64 = 3;
/// ESR_EL1 exception class of a trapped FP/SIMD access.
const EC_FP_ACCESS: u64 = 0x07;

/// A thread that never touches FP/SIMD: count and yield forever.
extern "C" fn intspin(_arg: u64) -> ! {
    loop {
        INT_RUNS.fetch_add(1, Ordering::Relaxed);
        user_rt::sys::yield_now();
    }
}

/// A second FP user: its own pattern across yields, forever; counts rounds and changes.
extern "C" fn fpcheck_b(_arg: u64) -> ! {
    let pattern = pattern(0x5555_0000_AAAA_FFFF_1234_8765_0F0F_F0F0);
    loop {
        let mut after = [0u128; 32];
        yield_with_pattern(&pattern, &mut after);
        if after != pattern {
            B_CHANGED.fetch_add(1, Ordering::Relaxed);
        }
        B_ROUNDS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A thread with `seL4_TCBFlag_fpuDisabled`: its first FP instruction must fault.
extern "C" fn fpdisabled(_arg: u64) -> ! {
    // SAFETY: writes one vector register (declared clobbered).
    unsafe { core::arch::asm!("fmov d0, xzr", out("v0") _, options(nomem, nostack)) };
    loop {
        user_rt::sys::yield_now();
    }
}

/// 32 distinct 128-bit values derived from `seed`.
fn pattern(seed: u128) -> [u128; 32] {
    let mut p = [0u128; 32];
    for (i, v) in p.iter_mut().enumerate() {
        *v = seed.rotate_left(4 * i as u32) ^ i as u128;
    }
    p
}

/// The second thread: overwrite V0–V31 forever, never trapping.
extern "C" fn fpclobber(_arg: u64) -> ! {
    uprintln!("fpclobber: overwriting V0-V31 forever");
    CLOBBER_PRINTED.store(true, Ordering::Release);
    // SAFETY: only writes vector registers, in a loop that never returns.
    unsafe {
        core::arch::asm!(
            "2:",
            "movi v0.16b, #0xaa",
            "movi v1.16b, #0xaa",
            "movi v2.16b, #0xaa",
            "movi v3.16b, #0xaa",
            "movi v4.16b, #0xaa",
            "movi v5.16b, #0xaa",
            "movi v6.16b, #0xaa",
            "movi v7.16b, #0xaa",
            "movi v8.16b, #0xaa",
            "movi v9.16b, #0xaa",
            "movi v10.16b, #0xaa",
            "movi v11.16b, #0xaa",
            "movi v12.16b, #0xaa",
            "movi v13.16b, #0xaa",
            "movi v14.16b, #0xaa",
            "movi v15.16b, #0xaa",
            "movi v16.16b, #0xaa",
            "movi v17.16b, #0xaa",
            "movi v18.16b, #0xaa",
            "movi v19.16b, #0xaa",
            "movi v20.16b, #0xaa",
            "movi v21.16b, #0xaa",
            "movi v22.16b, #0xaa",
            "movi v23.16b, #0xaa",
            "movi v24.16b, #0xaa",
            "movi v25.16b, #0xaa",
            "movi v26.16b, #0xaa",
            "movi v27.16b, #0xaa",
            "movi v28.16b, #0xaa",
            "movi v29.16b, #0xaa",
            "movi v30.16b, #0xaa",
            "movi v31.16b, #0xaa",
            "b 2b",
            options(noreturn, nostack)
        )
    }
}

/// Rounds of (load pattern, yield, store) to run.
const ROUNDS: u64 = 5;

/// Load V0–V31 from `src`, yield (number in x7), store V0–V31 to `dst`; all in one asm
/// block so the compiler cannot touch the vector registers in between.
fn yield_with_pattern(src: &[u128; 32], dst: &mut [u128; 32]) {
    // SAFETY: reads 512 bytes from `src` and writes 512 bytes to `dst` (both valid arrays);
    // every register the block changes is declared clobbered.
    unsafe {
        core::arch::asm!(
            "ld1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x9], #64",
            "ld1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x9], #64",
            "ld1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x9], #64",
            "ld1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x9], #64",
            "ld1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x9], #64",
            "ld1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x9], #64",
            "ld1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x9], #64",
            "ld1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x9], #64",
            "svc #0",
            "st1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x10], #64",
            "st1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x10], #64",
            "st1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x10], #64",
            "st1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x10], #64",
            "st1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x10], #64",
            "st1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x10], #64",
            "st1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x10], #64",
            "st1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x10], #64",
            inout("x9") src.as_ptr() => _,
            inout("x10") dst.as_mut_ptr() => _,
            in("x7") user_rt::sys::SYS_YIELD,
            lateout("x0") _, lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _, out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _, out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack)
        )
    };
}

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(bootinfo: u64) -> ! {
    let Some(mut root) = sel4::Root::new(bootinfo) else {
        uprintln!("fpcheck: ERROR: no RAM untyped of 1 MiB or more");
        stop()
    };
    for (f, name) in [
        (fpclobber as extern "C" fn(u64) -> !, "fpclobber"),
        (intspin, "intspin"),
        (fpcheck_b, "fpcheck_b"),
    ] {
        if let Err(sel4::Failed(what, e)) = root.spawn(f, 0) {
            uprintln!("fpcheck: ERROR: spawning {}: {} failed with error {}", name, what, e);
            stop()
        }
    }
    let mut waits = 0;
    while !CLOBBER_PRINTED.load(Ordering::Acquire) && waits < 1000 {
        user_rt::sys::yield_now();
        waits += 1;
    }
    if !CLOBBER_PRINTED.load(Ordering::Acquire) {
        uprintln!("fpcheck: ERROR: fpclobber never ran");
    }
    let pattern = pattern(0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210);
    for round in 0..ROUNDS {
        let mut after = [0u128; 32];
        yield_with_pattern(&pattern, &mut after);
        if let Some(i) = (0..32).find(|&i| after[i] != pattern[i]) {
            uprintln!(
                "fpcheck: ERROR: v{} changed across yield in round {}: {:#x}",
                i,
                round,
                after[i]
            );
            stop()
        }
    }
    uprintln!("fpcheck: V0-V31 intact across {} yields", ROUNDS);

    // The other FP user and the integer-only thread ran in between.
    let mut waits = 0;
    while B_ROUNDS.load(Ordering::Relaxed) < ROUNDS && waits < 1000 {
        user_rt::sys::yield_now();
        waits += 1;
    }
    let (b_rounds, b_changed) = (B_ROUNDS.load(Ordering::Relaxed), B_CHANGED.load(Ordering::Relaxed));
    let int_runs = INT_RUNS.load(Ordering::Relaxed);
    if b_rounds < ROUNDS || b_changed != 0 || int_runs == 0 {
        uprintln!(
            "fpcheck: ERROR: second FP thread: {} rounds, {} with changed registers; integer-only thread ran {} times",
            b_rounds,
            b_changed,
            int_runs
        );
        stop()
    }
    uprintln!(
        "fpcheck: second FP thread intact across {} yields, integer-only thread ran {} times",
        b_rounds,
        int_runs
    );

    // A thread with the FPU disabled: its FP instruction is a user exception to its handler.
    let fault = root
        .retype(ObjectKind::Endpoint, 0)
        .and_then(|ep| Ok((ep, root.retype(ObjectKind::Reply, 0)?)))
        .and_then(|(ep, reply)| {
            root.spawn_with(fpdisabled, 0, ep, sel4::Fpu::Disabled)?;
            Ok(sel4::recv(ep, reply))
        });
    match fault {
        Ok(m) if m.label == FAULT_USER_EXCEPTION && m.mr[3] >> 26 == EC_FP_ACCESS => uprintln!(
            "fpcheck: fpuDisabled thread's FP instruction raised a UserException (ESR {:#x} at {:#x})",
            m.mr[3],
            m.mr[0]
        ),
        Ok(m) => uprintln!(
            "fpcheck: ERROR: fpuDisabled thread: message label {} MRs {:#x?}, want a UserException with EC {:#x}",
            m.label,
            m.mr,
            EC_FP_ACCESS
        ),
        Err(sel4::Failed(what, e)) => uprintln!("fpcheck: ERROR: fpuDisabled thread: {} failed with error {}", what, e),
    }
    stop()
}

/// Yield forever (the test ends when its lines are seen).
fn stop() -> ! {
    loop {
        user_rt::sys::yield_now();
    }
}
