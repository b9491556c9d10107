//! `fpcheck-x86_64`: checks that the x86_64 kernel keeps each thread's x87/SSE state (XMM0–15,
//! ST0–7, MXCSR, the x87 control word) to itself. The root task checks it starts with the
//! initial FPU state, loads non-default values, then starts `fpclobber` as a second thread
//! (same VSpace, own stack, TCB and 5 ms / 5 ms SC at the root's priority, through seL4
//! invocations), which must also start with the initial state rather than the root's values.
//! Then both threads run interleaved: the root loads its pattern, yields and checks it after
//! the yield; `fpclobber` loads another pattern, spins without syscalls until the timer
//! preempts it, and checks its pattern after the spin. Each side counts only rounds in which
//! the other thread demonstrably ran in between. A third thread, `intonly`, never touches
//! x87/SSE and spins alongside, so FP and non-FP threads interleave (the kernel switches the
//! FPU lazily: a thread that does not use it never takes it over). Finally a fourth thread
//! with `seL4_TCBFlag_fpuDisabled` executes an SSE instruction, and the root, its fault
//! handler, must receive a UserException for #NM (vector 7).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hello_x86_64::{call, println, recv, yield_now};
use sel4_abi::bootinfo::slots;
use sel4_abi::fault::user_exception;
use sel4_abi::message::ipc_buffer;
use sel4_abi::{object_type_number, Arch, BootInfo, FaultType, Label, MessageInfo, ObjectKind};

/// Interleaved rounds each thread must see intact.
const ROUNDS: u64 = 5;
/// Spin iterations of one `fpclobber` round (a few ms under QEMU, so preemption lands inside).
const SPINS: u64 = 2_000_000;
/// Round limit before giving up (each side).
const MAX_TRIES: u64 = 10_000;

/// The registers the test loads and reads back (layout used by the assembly below).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(C, align(16))]
struct FpRegs {
    /// XMM0–XMM15, two words each (offset 0).
    xmm: [u64; 32],
    /// ST0–ST7 as 64-bit integers, loaded with `fild` in this order (offset 256).
    st: [u64; 8],
    /// MXCSR (offset 320).
    mxcsr: u64,
    /// x87 control word (offset 328).
    fcw: u64,
}

impl FpRegs {
    const ZERO: FpRegs = FpRegs {
        xmm: [0; 32],
        st: [0; 8],
        mxcsr: 0,
        fcw: 0,
    };

    /// A pattern derived from `seed`, with the given MXCSR and control word.
    fn pattern(seed: u64, mxcsr: u64, fcw: u64) -> FpRegs {
        let mut r = FpRegs::ZERO;
        for (i, w) in r.xmm.iter_mut().enumerate() {
            *w = seed.rotate_left(5 * i as u32) ^ (i as u64 * 0x0101_0101);
        }
        for (i, w) in r.st.iter_mut().enumerate() {
            // Exactly representable in the x87's 64-bit significand, any sign.
            *w = (seed.rotate_left(7 * i as u32) ^ i as u64) as i64 as u64;
        }
        r.mxcsr = mxcsr;
        r.fcw = fcw;
        r
    }
}

/// An `FXSAVE64` image as user space reads it.
#[repr(C, align(16))]
struct FxArea([u8; 512]);

core::arch::global_asm!(
    r#"
    .section .text.fpcheck, "ax"

    .macro FP_LOAD base
    fninit
    fldcw [\base + 328]
    ldmxcsr [\base + 320]
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu xmm\i, [\base + 16*\i]
    .endr
    .irp i, 0,1,2,3,4,5,6,7
    fild qword ptr [\base + 256 + 8*\i]
    .endr
    .endm

    .macro FP_STORE base
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu [\base + 16*\i], xmm\i
    .endr
    stmxcsr [\base + 320]
    fnstcw [\base + 328]
    .irp i, 7,6,5,4,3,2,1,0
    fistp qword ptr [\base + 256 + 8*\i]
    .endr
    .endm

    // fp_load(src): load the registers from `src`.
    .global fp_load
fp_load:
    FP_LOAD rdi
    ret

    // fp_yield_roundtrip(src, dst): load from `src`, seL4_Yield, store into `dst`.
    .global fp_yield_roundtrip
fp_yield_roundtrip:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rbp, rdi
    mov r14, rsi
    FP_LOAD rbp
    mov rdx, -11
    xor edi, edi
    mov rbx, rsp
    syscall
    mov rsp, rbx
    FP_STORE r14
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

    // fp_spin_roundtrip(src, dst, spins, beats): load from `src`, count `*beats` up
    // `spins` times without any syscall, store into `dst`.
    .global fp_spin_roundtrip
fp_spin_roundtrip:
    FP_LOAD rdi
2:
    inc qword ptr [rcx]
    dec rdx
    jnz 2b
    FP_STORE rsi
    ret

    // fp_fxsave(area): FXSAVE64 into the 512-byte, 16-byte aligned `area`.
    .global fp_fxsave
fp_fxsave:
    fxsave64 [rdi]
    ret
"#
);

extern "C" {
    fn fp_load(src: *const FpRegs);
    fn fp_yield_roundtrip(src: *const FpRegs, dst: *mut FpRegs);
    fn fp_spin_roundtrip(src: *const FpRegs, dst: *mut FpRegs, spins: u64, beats: *mut u64);
    fn fp_fxsave(area: *mut FxArea);
}

/// Counted up by `fpclobber` while it spins (the root sees it ran).
static BEATS: AtomicU64 = AtomicU64::new(0);
/// Counted up by the root between its rounds (`fpclobber` sees it was preempted).
static ROOT_RUNS: AtomicU64 = AtomicU64::new(0);
/// `fpclobber` printed its start line (so the threads' output never interleaves).
static CLOBBER_STARTED: AtomicBool = AtomicBool::new(false);
/// `fpclobber` printed its success line.
static CLOBBER_DONE: AtomicBool = AtomicBool::new(false);

/// Counted up by `intonly` while it spins.
static INT_BEATS: AtomicU64 = AtomicU64::new(0);

/// A spawned thread's stack (same VSpace as the root).
#[repr(C, align(16))]
struct Stack([u8; 16384]);
static mut CLOBBER_STACK: Stack = Stack([0; 16384]);
static mut INTONLY_STACK: Stack = Stack([0; 16384]);
static mut DENIED_STACK: Stack = Stack([0; 16384]);

/// `seL4_TCBFlag_fpuDisabled`.
const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// #NM, the vector of an x87/SSE instruction while the FPU is unavailable.
const VECTOR_NM: u64 = 7;

/// The third thread: integer work only, spinning until preempted, forever.
extern "C" fn intonly(_arg: u64) -> ! {
    loop {
        for _ in 0..SPINS {
            INT_BEATS.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The fourth thread (`seL4_TCBFlag_fpuDisabled`): one SSE instruction, which must fault.
extern "C" fn fpdenied(_arg: u64) -> ! {
    // SAFETY: only clears xmm0 (if it runs at all: it should fault to the root instead).
    unsafe { core::arch::asm!("xorps xmm0, xmm0", out("xmm0") _, options(nomem, nostack)) };
    println!("fpdenied: ERROR: an SSE instruction ran with seL4_TCBFlag_fpuDisabled");
    stop();
}

/// Describe how an `FXSAVE64` image differs from the initial state (FCW 0x37F, FSW 0,
/// empty tag word, MXCSR 0x1F80, ST0–7 and XMM0–15 zero), or `None` if it does not.
fn initial_state_mismatch(a: &FxArea) -> Option<&'static str> {
    let b = &a.0;
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    if u16_at(0) != 0x037f {
        Some("x87 control word is not 0x37f")
    } else if u16_at(2) != 0 {
        Some("x87 status word is not 0")
    } else if b[4] != 0 {
        Some("x87 register stack is not empty")
    } else if u32_at(24) != 0x1f80 {
        Some("MXCSR is not 0x1f80")
    } else if b[32..160].iter().any(|&x| x != 0) {
        Some("ST0-ST7 are not zero")
    } else if b[160..416].iter().any(|&x| x != 0) {
        Some("XMM0-XMM15 are not zero")
    } else {
        None
    }
}

/// Read this thread's FPU state and check it is the initial one.
fn check_initial(who: &str) -> bool {
    let mut area = FxArea([0; 512]);
    // SAFETY: `area` is 512 writable bytes aligned to 16.
    unsafe { fp_fxsave(&mut area) };
    match initial_state_mismatch(&area) {
        Some(what) => {
            println!("{}: ERROR: initial FPU state wrong: {}", who, what);
            false
        }
        None => true,
    }
}

/// Report the first register of `got` that differs from `want`.
fn report_diff(who: &str, round: u64, want: &FpRegs, got: &FpRegs) {
    if let Some(i) = (0..32).find(|&i| want.xmm[i] != got.xmm[i]) {
        println!(
            "{}: ERROR: xmm{} changed in round {}: {:#x}",
            who,
            i / 2,
            round,
            got.xmm[i]
        );
    } else if let Some(i) = (0..8).find(|&i| want.st[i] != got.st[i]) {
        println!(
            "{}: ERROR: x87 register {} changed in round {}: {:#x}",
            who, i, round, got.st[i]
        );
    } else if want.mxcsr != got.mxcsr {
        println!(
            "{}: ERROR: MXCSR changed in round {}: {:#x}",
            who, round, got.mxcsr
        );
    } else {
        println!(
            "{}: ERROR: x87 control word changed in round {}: {:#x}",
            who, round, got.fcw
        );
    }
}

/// The second thread: check the initial state, then spin with its own pattern loaded.
extern "C" fn fpclobber(_arg: u64) -> ! {
    let fresh = check_initial("fpclobber");
    if fresh {
        println!("fpclobber: started with the initial FPU state, not the root's");
    }
    CLOBBER_STARTED.store(true, Ordering::Release);
    // Round toward -inf in both units, different data everywhere.
    let pattern = FpRegs::pattern(0xA5A5_5A5A_C3C3_3C3C, 0x3f80, 0x077f);
    let mut preempted = 0;
    for round in 0..MAX_TRIES {
        let mut got = FpRegs::ZERO;
        let before = ROOT_RUNS.load(Ordering::Acquire);
        // SAFETY: both pointers name valid `FpRegs`; BEATS is an AtomicU64 only counted up.
        unsafe { fp_spin_roundtrip(&pattern, &mut got, SPINS, BEATS.as_ptr()) };
        if got != pattern {
            report_diff("fpclobber", round, &pattern, &got);
            break;
        }
        if ROOT_RUNS.load(Ordering::Acquire) != before {
            preempted += 1;
            if preempted == ROUNDS && fresh {
                println!(
                    "fpclobber: xmm0-15, st0-7, MXCSR and FCW intact across {} preemptions",
                    ROUNDS
                );
                CLOBBER_DONE.store(true, Ordering::Release);
            }
        }
    }
    let mut scratch = FpRegs::ZERO;
    loop {
        // SAFETY: as above; keeps the other thread's rounds meaningful forever.
        unsafe { fp_spin_roundtrip(&pattern, &mut scratch, SPINS, BEATS.as_ptr()) };
    }
}

/// Invoke `cap` with `label`, message words `words` and extra caps `caps`; returns the error.
fn invoke(ipc: u64, cap: u64, label: u64, words: &[u64], caps: &[u64]) -> u64 {
    let w = |off: u64, v: u64| {
        // SAFETY: `ipc` is the IPC buffer the kernel mapped read-write for the root task;
        // offsets stay within its 1024 bytes (at most 11 words, 3 caps).
        unsafe { core::ptr::write_volatile((ipc + off) as *mut u64, v) }
    };
    for (k, &c) in caps.iter().enumerate() {
        w(ipc_buffer::CAPS_OR_BADGES + 8 * k as u64, c);
    }
    for (i, &v) in words.iter().enumerate().skip(4) {
        w(ipc_buffer::mr_offset(i), v);
    }
    let mut mr = [0; 4];
    for (m, &v) in mr.iter_mut().zip(words) {
        *m = v;
    }
    let info = MessageInfo::new(label, 0, caps.len() as u64, words.len() as u64);
    let (reply, _) = call(cap, info.to_word(), mr);
    MessageInfo::from_word(reply).label
}

/// A thread to start with [`spawn`].
struct Thread {
    /// Entry point.
    entry: extern "C" fn(u64) -> !,
    /// Top of its stack.
    stack_top: u64,
    /// First of the two empty slots (after `bi.empty.start`) for its TCB and SC.
    slot: u64,
    /// Fault endpoint cap (0: none).
    fault_ep: u64,
    /// `TCB_SetFlags` flags to set before it starts.
    flags: u64,
}

/// Start a thread in the root's VSpace and CSpace at the root's priority with a 5 ms / 5 ms
/// SC (see the module docs); `Err((step, error))` on a failed invocation.
fn spawn(bi: &BootInfo, t: Thread) -> Result<(), (&'static str, u64)> {
    let ipc = bi.ipc_buffer;
    let cnode = slots::INIT_THREAD_CNODE;
    let ty = |k| object_type_number(Arch::X86_64, k).unwrap_or(u64::MAX);
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let ut = bi.untyped_list[..n.min(bi.untyped_list.len())]
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 16)
        .map(|i| bi.untyped.start + i as u64)
        .ok_or(("finding a 64 KiB RAM untyped", 0))?;
    let (tcb, sc) = (bi.empty.start + t.slot, bi.empty.start + t.slot + 1);
    let check = |what, err| if err == 0 { Ok(()) } else { Err((what, err)) };
    let retype = Label::UntypedRetype as u64;
    check(
        "Untyped_Retype (TCB)",
        invoke(
            ipc,
            ut,
            retype,
            &[ty(ObjectKind::Tcb), 0, 0, 0, tcb, 1],
            &[cnode],
        ),
    )?;
    check(
        "Untyped_Retype (SchedContext)",
        invoke(
            ipc,
            ut,
            retype,
            &[ty(ObjectKind::SchedContext), 8, 0, 0, sc, 1],
            &[cnode],
        ),
    )?;
    check(
        "TCB_Configure",
        invoke(
            ipc,
            tcb,
            Label::TCBConfigure as u64,
            &[0, 0, 0],
            &[cnode, slots::INIT_THREAD_VSPACE, 0],
        ),
    )?;
    check(
        "SchedControl_ConfigureFlags",
        invoke(
            ipc,
            bi.schedcontrol.start,
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[sc],
        ),
    )?;
    check(
        "TCB_SetSchedParams",
        invoke(
            ipc,
            tcb,
            Label::TCBSetSchedParams as u64,
            &[255, 255],
            &[slots::INIT_THREAD_TCB, sc, t.fault_ep],
        ),
    )?;
    if t.flags != 0 {
        check(
            "TCB_SetFlags",
            invoke(ipc, tcb, Label::TCBSetFlags as u64, &[0, t.flags], &[]),
        )?;
    }
    // resume, count, then seL4_UserContext: rip, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi.
    let regs = [
        1,
        9,
        t.entry as *const () as u64,
        t.stack_top - 8, // as after a call: the entry expects rsp + 8 16-byte aligned
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    check(
        "TCB_WriteRegisters",
        invoke(ipc, tcb, Label::TCBWriteRegisters as u64, &regs, &[]),
    )
}

fn stop() -> ! {
    loop {
        yield_now();
    }
}

/// Top of one of the spawned threads' stacks.
fn stack_top(stack: *mut Stack) -> u64 {
    stack as u64 + core::mem::size_of::<Stack>() as u64
}

/// Start `fpdenied` with the root as its fault handler and check its SSE instruction arrives
/// as a UserException for #NM.
fn fpu_disabled_faults(bi: &BootInfo) {
    let ipc = bi.ipc_buffer;
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let Some(ut) = bi.untyped_list[..n.min(bi.untyped_list.len())]
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 16)
        .map(|i| bi.untyped.start + i as u64)
    else {
        println!("fpcheck: ERROR: no RAM untyped for the endpoint");
        stop();
    };
    let (ep, reply) = (bi.empty.start + 4, bi.empty.start + 7);
    for (kind, slot, what) in [
        (ObjectKind::Endpoint, ep, "endpoint"),
        (ObjectKind::Reply, reply, "reply"),
    ] {
        let ty = object_type_number(Arch::X86_64, kind).unwrap_or(u64::MAX);
        let err = invoke(
            ipc,
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
    let denied = Thread {
        entry: fpdenied,
        stack_top: stack_top(core::ptr::addr_of_mut!(DENIED_STACK)),
        slot: 5,
        fault_ep: ep,
        flags: TCB_FLAG_FPU_DISABLED,
    };
    if let Err((what, err)) = spawn(bi, denied) {
        println!("fpcheck: ERROR: {} (fpdenied) failed with error {}", what, err);
        stop();
    }
    let (info, _badge, mr) = recv(ep, reply);
    let label = MessageInfo::from_word(info).label;
    let number = mr[user_exception::number_index(Arch::X86_64)];
    if label == FaultType::UserException as u64 && number == VECTOR_NM {
        println!(
            "fpcheck: fpuDisabled thread's SSE instruction faulted to its handler: user exception {}",
            number
        );
    } else {
        println!(
            "fpcheck: ERROR: fault handler got label {} number {} (want UserException {})",
            label, number, VECTOR_NM
        );
    }
}

/// Entered from `_start` with rdi = bootinfo address.
#[no_mangle]
extern "C" fn user_main(bootinfo_addr: u64) -> ! {
    // SAFETY: the kernel maps the bootinfo page (a `seL4_BootInfo`, plain integers) at
    // this address for the root task, and nothing writes it.
    let bi: BootInfo = unsafe { core::ptr::read_volatile(bootinfo_addr as *const BootInfo) };
    if !check_initial("fpcheck") {
        stop();
    }
    println!("fpcheck: root task started with the initial FPU state");
    // Round toward zero and flush-to-zero in SSE, round toward zero in x87.
    let pattern = FpRegs::pattern(0x0123_4567_89AB_CDEF, 0xff80, 0x0f7f);
    // Non-default values in every register while the second thread is created and started:
    // it must not inherit them.
    // SAFETY: `pattern` is a valid `FpRegs`.
    unsafe { fp_load(&pattern) };
    let clobber = Thread {
        entry: fpclobber,
        stack_top: stack_top(core::ptr::addr_of_mut!(CLOBBER_STACK)),
        slot: 0,
        fault_ep: 0,
        flags: 0,
    };
    let int_only = Thread {
        entry: intonly,
        stack_top: stack_top(core::ptr::addr_of_mut!(INTONLY_STACK)),
        slot: 2,
        fault_ep: 0,
        flags: 0,
    };
    for t in [clobber, int_only] {
        if let Err((what, err)) = spawn(&bi, t) {
            println!("fpcheck: ERROR: {} failed with error {}", what, err);
            stop();
        }
    }
    let mut waits = 0;
    while !CLOBBER_STARTED.load(Ordering::Acquire) && waits < 1000 {
        yield_now();
        waits += 1;
    }
    if !CLOBBER_STARTED.load(Ordering::Acquire) {
        println!("fpcheck: ERROR: fpclobber never ran");
        stop();
    }
    let mut interleaved = 0;
    let mut with_int_only = 0;
    for round in 0..MAX_TRIES {
        ROOT_RUNS.fetch_add(1, Ordering::AcqRel);
        let mut got = FpRegs::ZERO;
        let before = BEATS.load(Ordering::Acquire);
        let int_before = INT_BEATS.load(Ordering::Acquire);
        // SAFETY: both pointers name valid `FpRegs`.
        unsafe { fp_yield_roundtrip(&pattern, &mut got) };
        if got != pattern {
            report_diff("fpcheck", round, &pattern, &got);
            stop();
        }
        if BEATS.load(Ordering::Acquire) != before {
            interleaved += 1;
        }
        if INT_BEATS.load(Ordering::Acquire) != int_before {
            with_int_only += 1;
        }
        if interleaved >= ROUNDS && with_int_only >= ROUNDS && CLOBBER_DONE.load(Ordering::Acquire)
        {
            println!(
                "fpcheck: xmm0-15, st0-7, MXCSR and FCW intact across {} yields to fpclobber",
                interleaved
            );
            println!(
                "fpcheck: and intact across {} yields that ran the integer-only thread",
                with_int_only
            );
            fpu_disabled_faults(&bi);
            stop();
        }
    }
    println!(
        "fpcheck: ERROR: only {} of {} rounds interleaved with fpclobber",
        interleaved, MAX_TRIES
    );
    stop();
}
