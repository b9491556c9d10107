//! `fpcheck-riscv64`: checks that the kernel preserves a thread's floating-point state
//! (f0–f31 and `fcsr`) across `seL4_Yield` and the thread switches it causes (the riscv64
//! counterpart of aarch64's `fpcheck`). It first starts `fpclobber` as a second thread (own
//! VSpace and ASID, same priority, `hello_riscv64::spawn`), which overwrites every FP register
//! and `fcsr` in a loop without syscalls until the timer preempts it. A third thread,
//! `intonly`, never touches the FPU and spins alongside, so FP and non-FP threads interleave
//! (the kernel switches the FPU lazily). Finally a fourth thread with
//! `seL4_TCBFlag_fpuDisabled` executes an FP instruction, and the root, its fault handler,
//! must receive a UserException (number 2, illegal instruction).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hello_riscv64::ipc::Ipc;
use hello_riscv64::spawn::{slots_used, spawn_in_own_vspace, spawn_with, Failed, Options};
use hello_riscv64::syscalls::{recv, yield_now, SYS_YIELD};
use hello_riscv64::{entry, println};

use sel4_abi::bootinfo::{slots, BootInfo};
use sel4_abi::fault::user_exception;
use sel4_abi::{object_type_number, Arch, FaultType, Label, MessageInfo, ObjectKind};

entry!(main);

/// Set by `fpclobber` once its line is printed (shared memory: its VSpace maps this image's
/// frames), so the two threads' output never interleaves.
static CLOBBER_PRINTED: AtomicBool = AtomicBool::new(false);
/// Rounds of (load pattern, yield, store) to run.
const ROUNDS: u64 = 5;
/// The `fcsr` value the root sets before each yield: rounding mode RDN (2), flags NV and OF.
const FCSR_PATTERN: u64 = (2 << 5) | 0x14;

/// Counted up by `intonly` while it spins.
static INT_BEATS: AtomicU64 = AtomicU64::new(0);
/// Rounds the root gives up after if `intonly` never runs in between.
const MAX_ROUNDS: u64 = 1000;
/// `seL4_TCBFlag_fpuDisabled`.
const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// `scause` of an illegal instruction (what an FP instruction is with `sstatus.FS` Off).
const CAUSE_ILLEGAL_INSTRUCTION: u64 = 2;

/// The third thread: integer work only, forever (preempted by the timer).
extern "C" fn intonly(_arg: u64) -> ! {
    loop {
        INT_BEATS.fetch_add(1, Ordering::AcqRel);
    }
}

/// The fourth thread (`seL4_TCBFlag_fpuDisabled`): one FP instruction, which must fault.
extern "C" fn fpdenied(_arg: u64) -> ! {
    #[cfg(target_arch = "riscv64")]
    // SAFETY: only writes f0 (if it runs at all: it should fault to the root instead).
    unsafe {
        core::arch::asm!("fmv.d.x f0, zero", out("f0") _, options(nomem, nostack))
    };
    println!("fpdenied: ERROR: an FP instruction ran with seL4_TCBFlag_fpuDisabled");
    stop();
}

/// The second thread: overwrite f0–f31 and `fcsr` forever, never trapping.
extern "C" fn fpclobber(_arg: u64) -> ! {
    println!("fpclobber: overwriting f0-f31 and fcsr forever");
    CLOBBER_PRINTED.store(true, Ordering::Release);
    #[cfg(target_arch = "riscv64")]
    // SAFETY: only writes FP registers, fcsr and t0, in a loop that never returns.
    unsafe {
        core::arch::asm!(
            "li t0, -0x5555555555555556",
            "2:",
            "fmv.d.x f0, t0",
            "fmv.d.x f1, t0",
            "fmv.d.x f2, t0",
            "fmv.d.x f3, t0",
            "fmv.d.x f4, t0",
            "fmv.d.x f5, t0",
            "fmv.d.x f6, t0",
            "fmv.d.x f7, t0",
            "fmv.d.x f8, t0",
            "fmv.d.x f9, t0",
            "fmv.d.x f10, t0",
            "fmv.d.x f11, t0",
            "fmv.d.x f12, t0",
            "fmv.d.x f13, t0",
            "fmv.d.x f14, t0",
            "fmv.d.x f15, t0",
            "fmv.d.x f16, t0",
            "fmv.d.x f17, t0",
            "fmv.d.x f18, t0",
            "fmv.d.x f19, t0",
            "fmv.d.x f20, t0",
            "fmv.d.x f21, t0",
            "fmv.d.x f22, t0",
            "fmv.d.x f23, t0",
            "fmv.d.x f24, t0",
            "fmv.d.x f25, t0",
            "fmv.d.x f26, t0",
            "fmv.d.x f27, t0",
            "fmv.d.x f28, t0",
            "fmv.d.x f29, t0",
            "fmv.d.x f30, t0",
            "fmv.d.x f31, t0",
            "csrw fcsr, t0",
            "j 2b",
            options(noreturn, nostack)
        )
    }
    #[cfg(not(target_arch = "riscv64"))]
    loop {}
}

/// Load f0–f31 from `src` and `fcsr` from `fcsr_in`, yield, store f0–f31 to `dst` and return
/// `fcsr`; all in one asm block so the compiler cannot touch the FP registers in between.
fn yield_with_pattern(src: &[u64; 32], dst: &mut [u64; 32], fcsr_in: u64) -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let fcsr_out: u64;
        // SAFETY: reads 256 bytes from `src` and writes 256 bytes to `dst` (both valid
        // arrays); every register the block changes is declared clobbered; Yield preserves
        // all registers.
        unsafe {
            core::arch::asm!(
                "fld f0, 0(t1)", "fld f1, 8(t1)", "fld f2, 16(t1)", "fld f3, 24(t1)",
                "fld f4, 32(t1)", "fld f5, 40(t1)", "fld f6, 48(t1)", "fld f7, 56(t1)",
                "fld f8, 64(t1)", "fld f9, 72(t1)", "fld f10, 80(t1)", "fld f11, 88(t1)",
                "fld f12, 96(t1)", "fld f13, 104(t1)", "fld f14, 112(t1)", "fld f15, 120(t1)",
                "fld f16, 128(t1)", "fld f17, 136(t1)", "fld f18, 144(t1)", "fld f19, 152(t1)",
                "fld f20, 160(t1)", "fld f21, 168(t1)", "fld f22, 176(t1)", "fld f23, 184(t1)",
                "fld f24, 192(t1)", "fld f25, 200(t1)", "fld f26, 208(t1)", "fld f27, 216(t1)",
                "fld f28, 224(t1)", "fld f29, 232(t1)", "fld f30, 240(t1)", "fld f31, 248(t1)",
                "csrw fcsr, t0",
                "ecall",
                "csrr t0, fcsr",
                "fsd f0, 0(t2)", "fsd f1, 8(t2)", "fsd f2, 16(t2)", "fsd f3, 24(t2)",
                "fsd f4, 32(t2)", "fsd f5, 40(t2)", "fsd f6, 48(t2)", "fsd f7, 56(t2)",
                "fsd f8, 64(t2)", "fsd f9, 72(t2)", "fsd f10, 80(t2)", "fsd f11, 88(t2)",
                "fsd f12, 96(t2)", "fsd f13, 104(t2)", "fsd f14, 112(t2)", "fsd f15, 120(t2)",
                "fsd f16, 128(t2)", "fsd f17, 136(t2)", "fsd f18, 144(t2)", "fsd f19, 152(t2)",
                "fsd f20, 160(t2)", "fsd f21, 168(t2)", "fsd f22, 176(t2)", "fsd f23, 184(t2)",
                "fsd f24, 192(t2)", "fsd f25, 200(t2)", "fsd f26, 208(t2)", "fsd f27, 216(t2)",
                "fsd f28, 224(t2)", "fsd f29, 232(t2)", "fsd f30, 240(t2)", "fsd f31, 248(t2)",
                in("t1") src.as_ptr(),
                in("t2") dst.as_mut_ptr(),
                inlateout("t0") fcsr_in => fcsr_out,
                in("a7") SYS_YIELD,
                out("f0") _, out("f1") _, out("f2") _, out("f3") _, out("f4") _, out("f5") _,
                out("f6") _, out("f7") _, out("f8") _, out("f9") _, out("f10") _, out("f11") _,
                out("f12") _, out("f13") _, out("f14") _, out("f15") _, out("f16") _,
                out("f17") _, out("f18") _, out("f19") _, out("f20") _, out("f21") _,
                out("f22") _, out("f23") _, out("f24") _, out("f25") _, out("f26") _,
                out("f27") _, out("f28") _, out("f29") _, out("f30") _, out("f31") _,
                options(nostack)
            );
        }
        fcsr_out
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        dst.copy_from_slice(src);
        fcsr_in
    }
}

fn stop() -> ! {
    loop {
        yield_now();
    }
}

/// Start `fpdenied` (slots from `first`) with the root as its fault handler and check its
/// FP instruction arrives as a UserException for an illegal instruction.
fn fpu_disabled_faults(bi: &BootInfo, first: u64) {
    let ipc = Ipc(bi.ipc_buffer);
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let Some(ut) = bi.untyped_list[..n.min(bi.untyped_list.len())]
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 17)
        .map(|i| bi.untyped.start + i as u64)
    else {
        println!("fpcheck: ERROR: no RAM untyped for the endpoint");
        stop();
    };
    let (ep, reply) = (first, first + 1);
    for (kind, slot, what) in [
        (ObjectKind::Endpoint, ep, "endpoint"),
        (ObjectKind::Reply, reply, "reply"),
    ] {
        let ty = object_type_number(Arch::Riscv64, kind).unwrap_or(u64::MAX);
        let (err, _) = ipc.invoke(
            ut,
            Label::UntypedRetype as u64,
            &[ty, 0, 0, 0, slot, 1],
            &[slots::INIT_THREAD_CNODE],
        );
        if err != 0 {
            println!("fpcheck: ERROR: Untyped_Retype ({}) failed with error {}", what, err);
            stop();
        }
    }
    let opts = Options {
        first_slot: first + 2,
        fault_ep: ep,
        flags: TCB_FLAG_FPU_DISABLED,
    };
    if let Err(Failed(what, err)) = spawn_with(bi, fpdenied, 0, opts, |_| {}) {
        println!("fpcheck: ERROR: {} (fpdenied) failed with error {}", what, err);
        stop();
    }
    let (info, _badge, mr) = recv(ep, reply);
    let label = MessageInfo::from_word(info).label;
    let number = mr[user_exception::number_index(Arch::Riscv64)];
    if label == FaultType::UserException as u64 && number == CAUSE_ILLEGAL_INSTRUCTION {
        println!(
            "fpcheck: fpuDisabled thread's FP instruction faulted to its handler: user exception {}",
            number
        );
    } else {
        println!(
            "fpcheck: ERROR: fault handler got label {} number {} (want UserException {})",
            label, number, CAUSE_ILLEGAL_INSTRUCTION
        );
    }
}

fn main(bootinfo: usize) -> ! {
    // SAFETY: the kernel maps the bootinfo page at a0 and never changes it afterwards.
    let bi: &BootInfo = unsafe { &*(bootinfo as *const BootInfo) };
    let frames = match spawn_in_own_vspace(bi, fpclobber, 0, |_| {}) {
        Ok(f) => f,
        Err(Failed(what, err)) => {
            println!("fpcheck: ERROR: {} failed with error {}", what, err);
            stop();
        }
    };
    let next = bi.empty.start + slots_used(frames);
    let opts = Options {
        first_slot: next,
        ..Options::first(bi)
    };
    let next = match spawn_with(bi, intonly, 0, opts, |_| {}) {
        Ok(f) => next + slots_used(f),
        Err(Failed(what, err)) => {
            println!("fpcheck: ERROR: {} (intonly) failed with error {}", what, err);
            stop();
        }
    };
    let mut waits = 0;
    while !CLOBBER_PRINTED.load(Ordering::Acquire) && waits < 1000 {
        yield_now();
        waits += 1;
    }
    if !CLOBBER_PRINTED.load(Ordering::Acquire) {
        println!("fpcheck: ERROR: fpclobber never ran");
        stop();
    }
    let mut pattern = [0u64; 32];
    for (i, p) in pattern.iter_mut().enumerate() {
        *p = 0x0123_4567_89AB_CDEFu64.rotate_left(4 * i as u32) ^ i as u64;
    }
    let mut with_int_only = 0;
    let mut round = 0;
    while round < ROUNDS || with_int_only < ROUNDS {
        if round == MAX_ROUNDS {
            println!("fpcheck: ERROR: intonly ran in only {} rounds", with_int_only);
            stop();
        }
        let mut after = [0u64; 32];
        let int_before = INT_BEATS.load(Ordering::Acquire);
        let fcsr = yield_with_pattern(&pattern, &mut after, FCSR_PATTERN);
        if INT_BEATS.load(Ordering::Acquire) != int_before {
            with_int_only += 1;
        }
        if let Some(i) = (0..32).find(|&i| after[i] != pattern[i]) {
            println!(
                "fpcheck: ERROR: f{} changed across yield in round {}: {:#x}",
                i, round, after[i]
            );
            stop();
        }
        if fcsr != FCSR_PATTERN {
            println!(
                "fpcheck: ERROR: fcsr changed across yield in round {}: {:#x}",
                round, fcsr
            );
            stop();
        }
        round += 1;
        if round == ROUNDS {
            println!("fpcheck: f0-f31 and fcsr intact across {} yields", ROUNDS);
        }
    }
    println!(
        "fpcheck: and intact across {} yields that ran the integer-only thread",
        with_int_only
    );
    fpu_disabled_faults(bi, next);
    stop();
}
