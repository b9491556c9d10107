//! Trap, interrupt and `syscall` entry and the return path to user mode (`iretq`/`sysretq`).
//!
//! A user thread's registers are saved into and restored from its context inside its TCB,
//! in place: [`X86Context`] begins with the words of [`TrapFrame`] in push order. While a
//! thread runs, TSS.RSP0 and `x86_64_user_frame_top` point just past that frame, so an
//! interrupt or exception from ring 3 makes the CPU push its frame there, the `syscall`
//! entry switches RSP there by hand and pushes the same layout (vector
//! [`SYSCALL_VECTOR`]), and the general registers are pushed below it; only then does the
//! entry move to the kernel stack. Entries from ring 0 (the idle loop, which runs with RSP
//! at the kernel stack top, or a kernel bug) build the frame on the kernel stack.
//! The kernel binary defines the two Rust entry points the assembly calls: `x86_64_syscall`
//! (from `x86_64_syscall_entry`) as [`syscall`] and `x86_64_trap` (every other entry, from
//! `x86_64_trap_common`) as [`dispatch`], each with its entry handler, followed by
//! [`leave`] (so that the handler, the decoding and the return path are compiled as one
//! function, without an indirect call). Neither returns: [`leave`] jumps to the assembly
//! that loads the frame of the thread the handler picked (or an idle-loop frame) and leaves
//! with `iretq`, or `sysretq` when that yields the very same register state (RCX = RIP,
//! R11 = RFLAGS, as right after a syscall). Unlike seL4, RSP is restored after a syscall too
//! (libsel4's rbx save stays harmless). The x87/SSE registers are switched lazily
//! ([`switch_fpu`], CR0.TS).

use crate::context::{resume_flags, sanitise, slot, word, X86Context, RFLAGS_FIXED, SLOT};
use crate::cpu;
use crate::layout::{
    is_canonical, KERNEL_CS, KERNEL_SS, SYSCALL_INSN_LEN, SYSCALL_VECTOR, USER_CS, USER_SS,
};
use core::cell::UnsafeCell;
use core::ptr::NonNull;

core::arch::global_asm!(include_str!(concat!(env!("OUT_DIR"), "/vectors.s")));

/// seL4's `seL4_BenchmarkNullSyscall` (number -25 in RDX), in benchmark kernels only:
/// `sysretq` straight from the `syscall` entry (RCX and R11 still hold the user RIP and
/// RFLAGS), touching no memory. This is the floor of a kernel entry and exit that
/// `make bench` reports.
#[cfg(feature = "benchmark")]
macro_rules! bench_null_syscall {
    () => {
        "
    cmp rdx, -25
    jne 3f
    sysretq
3:
"
    };
}
#[cfg(not(feature = "benchmark"))]
macro_rules! bench_null_syscall {
    () => {
        ""
    };
}

core::arch::global_asm!(concat!(
    r#"
    .section .text.trap, "ax"
    .code64
    .global x86_64_trap_common
x86_64_trap_common:
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    cld
    mov rdi, rsp
    /* From user mode the frame is the thread's context in its TCB: run on the kernel stack
       (below the space kept for the idle frame). From kernel mode (idle loop, kernel bug)
       the frame is already on the kernel stack. */
    test byte ptr [rsp + 18 * 8], 3
    jz 1f
    lea rsp, [rip + x86_64_kstack_frame]
1:
    /* Never returns: leaves through `leave` (x86_64_sysret_frame or x86_64_enter_frame). */
    call x86_64_trap
    ud2

    .global x86_64_trap_return
x86_64_trap_return:
    pop rax
    pop rbx
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    add rsp, 16
    iretq

    .global x86_64_syscall_entry
x86_64_syscall_entry:
"#,
    bench_null_syscall!(),
    r#"
    /* Push the same frame an interrupt would, straight into the current thread's TCB, and
       run x86_64_syscall on the kernel stack. No `cld`: IA32_FMASK clears DF. */
    mov [rip + x86_64_syscall_user_rsp], rsp
    mov rsp, [rip + x86_64_user_frame_top]
    push 0x1b
    push qword ptr [rip + x86_64_syscall_user_rsp]
    push r11
    push 0x23
    push rcx
    push 0
    push 0x100
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    mov rdi, rsp
    lea rsp, [rip + x86_64_kstack_frame]
    call x86_64_syscall
    ud2

    .global x86_64_idle
x86_64_idle:
    lea rsp, [rip + x86_64_kstack_top]
2:
    sti
    hlt
    cli
    jmp 2b

    /* Leave by `iretq` through the frame at RDI (a user context or the idle frame). */
    .global x86_64_enter_frame
x86_64_enter_frame:
    mov rsp, rdi
    jmp x86_64_trap_return

    .section .bss.kstack, "aw", @nobits
    .balign 4096
    .global x86_64_kstack_bottom
x86_64_kstack_bottom:
    .skip 32768 - 176
    .global x86_64_kstack_frame
x86_64_kstack_frame:
    .skip 176
    .global x86_64_kstack_top
x86_64_kstack_top:
    .global x86_64_ist_stack_bottom
x86_64_ist_stack_bottom:
    .skip 16384
    .global x86_64_ist_stack_top
x86_64_ist_stack_top:
x86_64_syscall_user_rsp:
    .quad 0
    .global x86_64_user_frame_top
x86_64_user_frame_top:
    .quad 0
"#
));

// Leave by `sysretq` through the user frame at RDI, whose RCX and R11 slots equal its RIP and
// RFLAGS ([`resume`] checks): every register is loaded from the frame, RCX and R11 from the
// RIP and RFLAGS slots, RSP (the thread's own) last but RDI.
core::arch::global_asm!(
    r#"
    .section .text.trap, "ax"
    .global x86_64_sysret_frame
x86_64_sysret_frame:
    mov rax, [rdi + {rax}]
    mov rbx, [rdi + {rbx}]
    mov rcx, [rdi + {rip}]
    mov rdx, [rdi + {rdx}]
    mov rsi, [rdi + {rsi}]
    mov rbp, [rdi + {rbp}]
    mov r8, [rdi + {r8}]
    mov r9, [rdi + {r9}]
    mov r10, [rdi + {r10}]
    mov r11, [rdi + {rflags}]
    mov r12, [rdi + {r12}]
    mov r13, [rdi + {r13}]
    mov r14, [rdi + {r14}]
    mov r15, [rdi + {r15}]
    mov rsp, [rdi + {rsp}]
    mov rdi, [rdi + {rdi}]
    sysretq
"#,
    rax = const SLOT[word::RAX] * 8,
    rbx = const SLOT[word::RBX] * 8,
    rdx = const SLOT[word::RDX] * 8,
    rsi = const SLOT[word::RSI] * 8,
    rdi = const SLOT[word::RDI] * 8,
    rbp = const SLOT[word::RBP] * 8,
    r8 = const SLOT[word::R8] * 8,
    r9 = const SLOT[word::R9] * 8,
    r10 = const SLOT[word::R10] * 8,
    r12 = const SLOT[word::R12] * 8,
    r13 = const SLOT[word::R13] * 8,
    r14 = const SLOT[word::R14] * 8,
    r15 = const SLOT[word::R15] * 8,
    rip = const slot::RIP * 8,
    rflags = const slot::RFLAGS * 8,
    rsp = const slot::RSP * 8,
);

extern "C" {
    static x86_64_kstack_top: u8;
    static x86_64_kstack_frame: u8;
    static mut x86_64_user_frame_top: u64;
    static x86_64_ist_stack_top: u8;
    static x86_64_vector_table: [u64; 256];
    fn x86_64_syscall_entry();
    fn x86_64_idle();
}

/// The register frame every kernel entry builds (lowest address first).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TrapFrame {
    /// General-purpose registers as pushed by `x86_64_trap_common`.
    pub rax: u64,
    /// RBX.
    pub rbx: u64,
    /// RCX (user RIP after `syscall`).
    pub rcx: u64,
    /// RDX.
    pub rdx: u64,
    /// RSI.
    pub rsi: u64,
    /// RDI.
    pub rdi: u64,
    /// RBP.
    pub rbp: u64,
    /// R8.
    pub r8: u64,
    /// R9.
    pub r9: u64,
    /// R10.
    pub r10: u64,
    /// R11 (user RFLAGS after `syscall`).
    pub r11: u64,
    /// R12.
    pub r12: u64,
    /// R13.
    pub r13: u64,
    /// R14.
    pub r14: u64,
    /// R15.
    pub r15: u64,
    /// Vector number, or [`SYSCALL_VECTOR`].
    pub vector: u64,
    /// CPU error code (0 if the exception has none).
    pub error: u64,
    /// Interrupted RIP.
    pub rip: u64,
    /// Interrupted CS.
    pub cs: u64,
    /// Interrupted RFLAGS.
    pub rflags: u64,
    /// Interrupted RSP.
    pub rsp: u64,
    /// Interrupted SS.
    pub ss: u64,
}

// The asm pushes 15 registers, vector and error code below the CPU's 5-word frame, and the
// sysret path reads RIP/RFLAGS/RSP at fixed offsets from the vector slot. A user thread's
// frame is the start of its `X86Context` (the same words in the same order), and its end
// (TSS.RSP0, `x86_64_user_frame_top`) must be 16-byte aligned: the CPU aligns RSP0 down.
const _: () = assert!(core::mem::size_of::<TrapFrame>() == 22 * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, rip) == 17 * 8);
const _: () = assert!(core::mem::size_of::<TrapFrame>() == slot::FRAME_WORDS * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, rip) == slot::RIP * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, cs) == slot::CS * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, rflags) == slot::RFLAGS * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, rsp) == slot::RSP * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, ss) == slot::SS * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, vector) == slot::VECTOR * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, error) == slot::ERROR * 8);
const _: () = assert!(core::mem::offset_of!(X86Context, regs) == 0);
const _: () = assert!((slot::FRAME_WORDS * 8) % 16 == 0);

/// Why the kernel was entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A `syscall` instruction from user mode.
    Syscall,
    /// A CPU exception from user mode (`cr2` is meaningful for vector 14).
    Exception {
        /// Vector 0..31.
        vector: u8,
        /// CPU error code, 0 if none.
        error: u64,
        /// CR2 at entry.
        cr2: u64,
    },
    /// Legacy PIC interrupt line `irq` (0 = PIT timer); already acknowledged at the PIC
    /// for the timer, masked-and-acknowledged for every other line.
    Irq(u8),
    /// The one-shot deadline timer (local APIC) fired.
    Deadline,
}

/// Whether a thread may use x87/SSE when it next runs in user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpuAccess {
    /// The thread owns the FPU: CR0.TS clear.
    Enabled,
    /// CR0.TS set: the first x87/SSE instruction raises #NM (vector 7).
    Disabled,
}

/// What to run after the hook returns.
#[derive(Clone, Copy, Debug)]
pub enum Next {
    /// Resume this user thread (its context, 16-byte aligned, in its TCB) with this FPU
    /// access.
    User(NonNull<X86Context>, FpuAccess),
    /// Wait for the next interrupt.
    Idle,
}

/// The kernel's handler for every entry, as [`dispatch`] calls it: `current` is the
/// interrupted user thread's context, where the entry saved its registers (`None` when the
/// kernel was idle).
///
/// Contract: a context returned in [`Next::User`] stays valid until the next kernel entry,
/// which saves the thread's registers into it, and no Rust reference covers it meanwhile;
/// `FpuAccess::Enabled` only for the thread whose x87/SSE registers are live in the CPU.
pub trait Hook: FnOnce(Event, Option<NonNull<X86Context>>) -> Next {}
impl<F: FnOnce(Event, Option<NonNull<X86Context>>) -> Next> Hook for F {}

/// A kernel global: single core, interrupts off in the kernel, so no concurrent access.
pub struct KCell<T>(UnsafeCell<T>);

// SAFETY: the kernel runs on one core with interrupts disabled; accesses never overlap.
unsafe impl<T> Sync for KCell<T> {}

impl<T> KCell<T> {
    /// A cell holding `v`.
    pub const fn new(v: T) -> Self {
        Self(UnsafeCell::new(v))
    }
    /// Raw pointer to the value.
    pub fn get(&self) -> *mut T {
        self.0.get()
    }
}

/// What the CPU was last set up with for user mode, so that exits that change nothing write
/// no MSR, control register or TSS field.
struct UserSetup {
    /// The context whose frame end TSS.RSP0 and `x86_64_user_frame_top` point to (0 = none).
    frame: u64,
    /// FS and GS base slots of that context when they were last written to the MSRs (the
    /// MSRs hold them sanitised).
    fs_base: u64,
    gs_base: u64,
    /// CR0.TS as last written.
    ts: bool,
}

/// A non-canonical address: no FS/GS base slot holds one ([`sanitise`]), so the first exit
/// to user mode writes both MSRs, whatever boot left in them.
const BASE_NEVER_WRITTEN: u64 = 1 << 63;

static SETUP: KCell<UserSetup> = KCell::new(UserSetup {
    frame: 0,
    fs_base: BASE_NEVER_WRITTEN,
    gs_base: BASE_NEVER_WRITTEN,
    ts: false,
});

/// Address of the top of the kernel (trap) stack.
pub fn kstack_top() -> u64 {
    core::ptr::addr_of!(x86_64_kstack_top) as u64
}

/// Address of the top of the double-fault (IST1) stack.
pub fn ist_stack_top() -> u64 {
    core::ptr::addr_of!(x86_64_ist_stack_top) as u64
}

/// Entry address of interrupt vector `v`.
pub fn vector_entry(v: usize) -> u64 {
    // SAFETY: the table is 256 read-only entries emitted by build.rs; `v & 255` is in range.
    unsafe { (*core::ptr::addr_of!(x86_64_vector_table))[v & 255] }
}

/// Address of the `syscall` entry (for IA32_LSTAR).
pub fn syscall_entry() -> u64 {
    x86_64_syscall_entry as *const () as u64
}

/// Hand the FPU to `new`: clear CR0.TS, save the live x87/SSE registers into `old` (the
/// previous owner, if any) and load `new`'s.
///
/// # Safety
/// `old` and `new` must point to valid contexts (in TCBs) that no Rust reference covers for
/// the duration of the call; `old`, if given, must be the context whose registers are live
/// in the FPU.
pub unsafe fn switch_fpu(old: Option<*mut X86Context>, new: *const X86Context) {
    cpu::clear_ts();
    // SAFETY: single core, interrupts off.
    unsafe { (*SETUP.get()).ts = false };
    if let Some(old) = old {
        // SAFETY: the caller guarantees `old` is valid and unreferenced; TS is clear.
        unsafe { cpu::fxsave(core::ptr::addr_of_mut!((*old).fpu)) };
    }
    // SAFETY: as above for `new`.
    unsafe { cpu::fxrstor(core::ptr::addr_of!((*new).fpu)) };
}

/// Build the frame that `iretq`s into the idle loop at the top of the kernel stack and
/// return its address.
fn idle_frame() -> u64 {
    let frame = core::ptr::addr_of!(x86_64_kstack_frame) as *mut TrapFrame;
    let f = TrapFrame {
        rip: x86_64_idle as *const () as u64,
        cs: KERNEL_CS as u64,
        rflags: RFLAGS_FIXED,
        rsp: kstack_top(),
        ss: KERNEL_SS as u64,
        ..TrapFrame::default()
    };
    // SAFETY: the 176 bytes below the stack top are kept for this frame; the kernel's own
    // stack starts below them (`x86_64_trap_common`).
    unsafe { frame.write(f) };
    frame as u64
}

/// Human-readable name of exception vector `v`.
pub fn exception_name(v: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "#DE divide error",
        "#DB debug",
        "NMI",
        "#BP breakpoint",
        "#OF overflow",
        "#BR bound range",
        "#UD invalid opcode",
        "#NM device not available",
        "#DF double fault",
        "coprocessor overrun",
        "#TS invalid TSS",
        "#NP segment not present",
        "#SS stack fault",
        "#GP general protection",
        "#PF page fault",
        "reserved",
        "#MF x87 error",
        "#AC alignment check",
        "#MC machine check",
        "#XM SIMD error",
        "#VE virtualisation",
        "#CP control protection",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "#HV hypervisor injection",
        "#VC VMM communication",
        "#SX security",
        "reserved",
    ];
    NAMES.get(v as usize).copied().unwrap_or("interrupt")
}

/// Print a kernel panic for an exception taken in kernel mode and stop QEMU.
fn kernel_exception(frame: &TrapFrame) -> ! {
    let cr2 = cpu::cr2();
    crate::kprintln!(
        "KERNEL PANIC: exception {} (vector {}) in kernel mode, error code {:#x}, cr2 {:#x}, rip {:#x}",
        exception_name(frame.vector),
        frame.vector,
        frame.error,
        cr2,
        frame.rip
    );
    dump(frame);
    crate::exit::halt(1)
}

/// Print all registers of `frame`.
pub fn dump(f: &TrapFrame) {
    crate::kprintln!(
        "  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}",
        f.rax,
        f.rbx,
        f.rcx,
        f.rdx
    );
    crate::kprintln!(
        "  rsi {:#018x} rdi {:#018x} rbp {:#018x} rsp {:#018x}",
        f.rsi,
        f.rdi,
        f.rbp,
        f.rsp
    );
    crate::kprintln!(
        "  r8  {:#018x} r9  {:#018x} r10 {:#018x} r11 {:#018x}",
        f.r8,
        f.r9,
        f.r10,
        f.r11
    );
    crate::kprintln!(
        "  r12 {:#018x} r13 {:#018x} r14 {:#018x} r15 {:#018x}",
        f.r12,
        f.r13,
        f.r14,
        f.r15
    );
    crate::kprintln!(
        "  rip {:#018x} cs {:#x} rflags {:#x} ss {:#x} cr3 {:#x}",
        f.rip,
        f.cs,
        f.rflags,
        f.ss,
        cpu::cr3()
    );
}

/// How to leave the kernel: the frame to resume and the instruction to resume it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `sysretq` from this user frame: its RCX equals its RIP and its R11 its RFLAGS, so
    /// `sysretq` gives exactly the state `iretq` would.
    Sysret(u64),
    /// `iretq` through this frame (a user context with the user CS and SS, the idle frame or
    /// an interrupted kernel frame).
    Iret(u64),
}

/// Rust side of every kernel entry but `syscall`: the kernel binary defines
/// `extern "C" fn x86_64_trap(frame: *mut TrapFrame) -> !`, which `x86_64_trap_common`
/// calls, as `leave(dispatch(frame, its_handler))`. Decodes the entry, calls `hook` (see
/// [`Hook`]) and returns how to leave.
///
/// # Safety
/// Only for `x86_64_trap`, with the `frame` the entry assembly passed it: the frame it just
/// pushed, in the current thread's TCB for an entry from user mode (the [`Hook`] contract
/// keeps it valid and unreferenced), on the kernel stack otherwise.
#[inline(always)]
pub unsafe fn dispatch(frame: *mut TrapFrame, hook: impl Hook) -> Exit {
    // SAFETY: see the function's contract. This reference ends before the hook runs.
    let f = unsafe { &mut *frame };
    let from_user = f.cs & 3 == 3;
    let event = match f.vector {
        SYSCALL_VECTOR => Event::Syscall,
        v @ 0..=31 => {
            if !from_user {
                kernel_exception(f);
            }
            Event::Exception {
                vector: v as u8,
                error: f.error,
                cr2: cpu::cr2(),
            }
        }
        v if (32..48).contains(&v) => match crate::irq::acknowledge((v - 32) as u8) {
            Some(irq) => Event::Irq(irq),
            None => return Exit::Iret(frame as u64), // spurious: resume what was interrupted
        },
        v if crate::ioapic::pin_of_vector(v).is_some() => {
            // As seL4: mask the pin until IRQHandler_Ack (a level-triggered input stays
            // asserted until the device is served), then end the interrupt at the local APIC.
            let pin = crate::ioapic::pin_of_vector(v).unwrap_or(0);
            crate::ioapic::mask(pin);
            crate::lapic::eoi();
            Event::Irq(pin as u8)
        }
        v if v == crate::lapic::DEADLINE_VECTOR as u64 => {
            crate::lapic::eoi();
            Event::Deadline
        }
        _ => return Exit::Iret(frame as u64), // unexpected vector (spurious APIC): ignore
    };
    let current = if from_user {
        let ctx = frame.cast::<X86Context>();
        let fault_ip = if f.vector == SYSCALL_VECTOR {
            f.rip.wrapping_sub(SYSCALL_INSN_LEN)
        } else {
            f.rip
        };
        // SAFETY: a user frame is the start of the thread's context (layout asserted above).
        unsafe { core::ptr::addr_of_mut!((*ctx).fault_ip).write(fault_ip) };
        NonNull::new(ctx)
    } else {
        None
    };
    resume(hook(event, current))
}

/// Rust side of the `syscall` entry: the kernel binary defines
/// `extern "C" fn x86_64_syscall(frame: *mut TrapFrame) -> !`, which
/// `x86_64_syscall_entry` calls, as `leave(syscall(frame, its_handler))`: [`dispatch`] for
/// an entry known to be a system call from user mode, so nothing is decoded.
///
/// # Safety
/// Only for `x86_64_syscall`, with the `frame` the entry assembly passed it: the frame it
/// just pushed into the current thread's context (the [`Hook`] contract keeps it valid and
/// unreferenced).
#[inline(always)]
pub unsafe fn syscall(frame: *mut TrapFrame, hook: impl Hook) -> Exit {
    let ctx = frame.cast::<X86Context>();
    // SAFETY: the frame is the start of the thread's context (layout asserted above), which
    // no reference covers; FaultIP is the `syscall` instruction's address.
    unsafe {
        let rip = core::ptr::addr_of!((*frame).rip).read();
        core::ptr::addr_of_mut!((*ctx).fault_ip).write(rip.wrapping_sub(SYSCALL_INSN_LEN));
    }
    // SAFETY: the entry passes its stack pointer, which is never null.
    let current = unsafe { NonNull::new_unchecked(ctx) };
    resume(hook(Event::Syscall, Some(current)))
}

/// Set the CPU up to run `next` and say how to leave for it.
#[inline(always)]
fn resume(next: Next) -> Exit {
    let Next::User(p, fpu) = next else {
        return Exit::Iret(idle_frame());
    };
    let ctx = p.as_ptr();
    // SAFETY: per the `Hook` contract `ctx` is a valid context no reference covers; the
    // kernel runs on one core with interrupts off, so SETUP is not accessed concurrently.
    unsafe {
        let r = &mut (*ctx).regs;
        // Every register write made RIP canonical (`X86Context`'s invariant), so `iretq` and
        // `sysretq` cannot fault in kernel mode on it; re-applying the rule here costs one
        // comparison and keeps that true whatever wrote the frame.
        r[slot::RIP] = sanitise(word::RIP, r[slot::RIP]);
        r[slot::RFLAGS] = resume_flags(r[slot::RFLAGS]);
        let setup = &mut *SETUP.get();
        debug_assert_eq!(ctx as u64 % 16, 0, "the frame end must be 16-byte aligned");
        // The bases are written when the slot changed (sanitised again, as the RIP above,
        // so that `wrmsr` cannot fault) and on a switch of thread, because the thread that
        // ran last may have loaded FS or GS, which sets the base to its descriptor's: 0
        // (every descriptor user code can load has base 0; a null selector leaves the base
        // or clears it; CR4.FSGSBASE is clear, so no `wrfsbase`). The MSR therefore holds
        // the value last written or 0, and a switch to a thread whose base is 0 when 0
        // was the value last written needs no write: the common case, and a `wrmsr` each.
        let switched = ctx as u64 != setup.frame;
        let fs = r[slot::FS_BASE];
        if fs != setup.fs_base || (switched && fs != 0) {
            cpu::wrmsr(cpu::MSR_FS_BASE, sanitise(word::FS_BASE, fs));
            setup.fs_base = fs;
        }
        let gs = r[slot::GS_BASE];
        if gs != setup.gs_base || (switched && gs != 0) {
            cpu::wrmsr(cpu::MSR_GS_BASE, sanitise(word::GS_BASE, gs));
            setup.gs_base = gs;
        }
        let ts = fpu == FpuAccess::Disabled;
        if ts != setup.ts {
            if ts {
                cpu::set_ts();
            } else {
                cpu::clear_ts();
            }
            setup.ts = ts;
        }
        if switched {
            let top = ctx as u64 + (slot::FRAME_WORDS * 8) as u64;
            crate::tables::set_rsp0(top);
            *core::ptr::addr_of_mut!(x86_64_user_frame_top) = top;
            setup.frame = ctx as u64;
        }
        // `sysretq` only when it gives the state `iretq` would (RIP is canonical, see above:
        // Intel CPUs raise #GP in kernel mode for a non-canonical RCX). A non-canonical RSP
        // leaves by `iretq` too: the `sysretq` path would hold it as the kernel's stack
        // pointer for a few instructions. Either way the thread's first stack access then
        // faults in user mode (#SS, or #GP under QEMU) and its fault handler is told.
        // `sysretq` takes CS and SS from IA32_STAR; `iretq` from the frame, which therefore
        // gets the user selectors here (whatever wrote the frame).
        if r[SLOT[word::RCX]] == r[slot::RIP]
            && r[SLOT[word::R11]] == r[slot::RFLAGS]
            && is_canonical(r[slot::RSP])
        {
            Exit::Sysret(ctx as u64)
        } else {
            r[slot::CS] = USER_CS as u64;
            r[slot::SS] = USER_SS as u64;
            Exit::Iret(ctx as u64)
        }
    }
}

/// Leave the kernel as [`dispatch`], [`syscall`] or [`resume`] said: load the frame's
/// registers and return to it. The kernel stack is abandoned (every entry starts afresh).
///
/// # Safety
/// `exit` must come from [`dispatch`] or [`syscall`] (or [`start`]) of this entry: a
/// complete frame that no reference covers (the [`Hook`] contract).
#[inline(always)]
pub unsafe fn leave(exit: Exit) -> ! {
    match exit {
        // SAFETY: the frame checks `sysretq` needs were made in `resume`; the assembly
        // only reads the frame.
        Exit::Sysret(frame) => unsafe {
            core::arch::asm!("jmp x86_64_sysret_frame", in("rdi") frame, options(noreturn))
        },
        // SAFETY: a complete `iretq` frame (user CS/SS set by `resume`, or the CPU's own).
        Exit::Iret(frame) => unsafe {
            core::arch::asm!("jmp x86_64_enter_frame", in("rdi") frame, options(noreturn))
        },
    }
}

/// Leave boot code for good and run `next` (a user thread or the idle loop).
///
/// # Safety
/// Must be called once, on the init stack (not the kernel trap stack), after
/// [`crate::tables::init`]; a user context must satisfy the [`Hook`] contract, and the
/// kernel binary's `x86_64_trap` and `x86_64_syscall` must be ready for entries (see
/// [`dispatch`], [`syscall`]).
pub unsafe fn start(next: Next) -> ! {
    // SAFETY: `resume` made a complete frame (a user context or the idle frame).
    unsafe { leave(resume(next)) }
}
