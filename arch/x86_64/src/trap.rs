//! Trap, interrupt and `syscall` entry and the return path to user mode (`iretq`/`sysretq`).
//!
//! Every entry builds one [`TrapFrame`] at the top of the kernel stack: interrupts and
//! exceptions from ring 3 land there through TSS.RSP0, the `syscall` entry switches to the
//! same place by hand and pushes the same layout (vector [`SYSCALL_VECTOR`]), and the idle
//! loop runs with RSP at the stack top so interrupts taken while idle land there too. The
//! kernel runs with interrupts off. `x86_64_trap` saves the frame and the x87/SSE registers
//! (`FXSAVE64`) into the current thread's [`X86Context`], calls the installed [`Hook`], and rewrites the frame to resume
//! the thread the hook picked, reloading its x87/SSE registers (`FXRSTOR64`), or the idle
//! loop before `iretq`, or `sysretq` when that
//! yields the very same register state (RCX = RIP, R11 = RFLAGS, as right after a syscall).
//! Unlike seL4, RSP is restored after a syscall too (libsel4's rbx save stays harmless).

use crate::context::{sanitise, word, X86Context, RFLAGS_FIXED};
use crate::cpu;
use crate::layout::{
    is_canonical, KERNEL_CS, KERNEL_SS, SYSCALL_INSN_LEN, SYSCALL_VECTOR, USER_CS, USER_SS,
};
use core::cell::UnsafeCell;
use core::ptr::NonNull;

core::arch::global_asm!(include_str!(concat!(env!("OUT_DIR"), "/vectors.s")));

core::arch::global_asm!(
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
    call x86_64_trap
    test rax, rax
    jnz x86_64_sysret_return
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

x86_64_sysret_return:
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
    mov rcx, [rsp]
    mov r11, [rsp + 16]
    mov rsp, [rsp + 24]
    sysretq

    .global x86_64_syscall_entry
x86_64_syscall_entry:
    mov [rip + x86_64_syscall_user_rsp], rsp
    lea rsp, [rip + x86_64_kstack_top]
    push 0x1b
    push qword ptr [rip + x86_64_syscall_user_rsp]
    push r11
    push 0x23
    push rcx
    push 0
    push 0x100
    jmp x86_64_trap_common

    .global x86_64_idle
x86_64_idle:
    lea rsp, [rip + x86_64_kstack_top]
2:
    sti
    hlt
    cli
    jmp 2b

    .global x86_64_enter_frame
x86_64_enter_frame:
    mov rsp, rdi
    jmp x86_64_trap_return

    .section .bss.kstack, "aw", @nobits
    .balign 4096
    .global x86_64_kstack_bottom
x86_64_kstack_bottom:
    .skip 32768
    .global x86_64_kstack_top
x86_64_kstack_top:
    .global x86_64_ist_stack_bottom
x86_64_ist_stack_bottom:
    .skip 16384
    .global x86_64_ist_stack_top
x86_64_ist_stack_top:
x86_64_syscall_user_rsp:
    .quad 0
"#
);

extern "C" {
    static x86_64_kstack_top: u8;
    static x86_64_ist_stack_top: u8;
    static x86_64_vector_table: [u64; 256];
    fn x86_64_syscall_entry();
    fn x86_64_idle();
    fn x86_64_enter_frame(frame: *const TrapFrame) -> !;
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
// sysret path reads RIP/RFLAGS/RSP at fixed offsets from the vector slot.
const _: () = assert!(core::mem::size_of::<TrapFrame>() == 22 * 8);
const _: () = assert!(core::mem::offset_of!(TrapFrame, rip) == 17 * 8);

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

/// What to run after the hook returns.
#[derive(Clone, Copy, Debug)]
pub enum Next {
    /// Resume this user thread.
    User(NonNull<X86Context>),
    /// Wait for the next interrupt.
    Idle,
}

/// The kernel's handler for every entry. `current` is the interrupted user thread's saved
/// context (`None` when the kernel was idle).
///
/// Contract: a context returned in [`Next::User`] stays valid and is not accessed
/// elsewhere until the next kernel entry.
pub type Hook = fn(Event, Option<&mut X86Context>) -> Next;

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

static HOOK: KCell<Option<Hook>> = KCell::new(None);
static CURRENT: KCell<Option<NonNull<X86Context>>> = KCell::new(None);

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

/// Install the kernel's entry hook. Called once during boot, before interrupts.
pub fn install(hook: Hook) {
    // SAFETY: boot is single-threaded with interrupts off; nothing reads HOOK concurrently.
    unsafe { *HOOK.get() = Some(hook) };
}

fn save(frame: &TrapFrame, ctx: &mut X86Context) {
    let r = &mut ctx.regs;
    r[word::RAX] = frame.rax;
    r[word::RBX] = frame.rbx;
    r[word::RCX] = frame.rcx;
    r[word::RDX] = frame.rdx;
    r[word::RSI] = frame.rsi;
    r[word::RDI] = frame.rdi;
    r[word::RBP] = frame.rbp;
    r[word::R8] = frame.r8;
    r[word::R9] = frame.r9;
    r[word::R10] = frame.r10;
    r[word::R11] = frame.r11;
    r[word::R12] = frame.r12;
    r[word::R13] = frame.r13;
    r[word::R14] = frame.r14;
    r[word::R15] = frame.r15;
    r[word::RIP] = frame.rip;
    r[word::RSP] = frame.rsp;
    r[word::RFLAGS] = sanitise(word::RFLAGS, frame.rflags);
    ctx.fault_ip = if frame.vector == SYSCALL_VECTOR {
        frame.rip.wrapping_sub(SYSCALL_INSN_LEN)
    } else {
        frame.rip
    };
    cpu::fxsave(&mut ctx.fpu);
}

fn load(ctx: &X86Context, frame: &mut TrapFrame) {
    let r = &ctx.regs;
    frame.rax = r[word::RAX];
    frame.rbx = r[word::RBX];
    frame.rcx = r[word::RCX];
    frame.rdx = r[word::RDX];
    frame.rsi = r[word::RSI];
    frame.rdi = r[word::RDI];
    frame.rbp = r[word::RBP];
    frame.r8 = r[word::R8];
    frame.r9 = r[word::R9];
    frame.r10 = r[word::R10];
    frame.r11 = r[word::R11];
    frame.r12 = r[word::R12];
    frame.r13 = r[word::R13];
    frame.r14 = r[word::R14];
    frame.r15 = r[word::R15];
    frame.rip = r[word::RIP];
    frame.rsp = r[word::RSP];
    frame.rflags = sanitise(word::RFLAGS, r[word::RFLAGS]);
    frame.cs = USER_CS as u64;
    frame.ss = USER_SS as u64;
    cpu::fxrstor(&ctx.fpu);
    // SAFETY: the bases were sanitised to canonical values; these MSRs exist on x86_64.
    unsafe {
        cpu::wrmsr(cpu::MSR_FS_BASE, sanitise(word::FS_BASE, r[word::FS_BASE]));
        cpu::wrmsr(cpu::MSR_GS_BASE, sanitise(word::GS_BASE, r[word::GS_BASE]));
    }
}

fn idle_frame(frame: &mut TrapFrame) {
    *frame = TrapFrame {
        rip: x86_64_idle as *const () as u64,
        cs: KERNEL_CS as u64,
        rflags: RFLAGS_FIXED,
        rsp: kstack_top(),
        ss: KERNEL_SS as u64,
        ..TrapFrame::default()
    };
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

/// Rust side of every kernel entry (called by `x86_64_trap_common`). Returns 1 if the
/// frame may be resumed with `sysretq` (a user frame whose RCX equals RIP and R11 equals
/// RFLAGS, so `sysretq` gives exactly the state `iretq` would), else 0 (`iretq`).
#[no_mangle]
extern "C" fn x86_64_trap(frame: &mut TrapFrame) -> u64 {
    handle_entry(frame);
    let user = frame.cs == USER_CS as u64;
    (user && frame.rcx == frame.rip && frame.r11 == frame.rflags && is_canonical(frame.rip)) as u64
}

fn handle_entry(frame: &mut TrapFrame) {
    let from_user = frame.cs & 3 == 3;
    let event = match frame.vector {
        SYSCALL_VECTOR => Event::Syscall,
        v @ 0..=31 => {
            if !from_user {
                kernel_exception(frame);
            }
            Event::Exception {
                vector: v as u8,
                error: frame.error,
                cr2: cpu::cr2(),
            }
        }
        v if (32..48).contains(&v) => match crate::irq::acknowledge((v - 32) as u8) {
            Some(irq) => Event::Irq(irq),
            None => return, // spurious: resume whatever was interrupted
        },
        v if v == crate::lapic::DEADLINE_VECTOR as u64 => {
            crate::lapic::eoi();
            Event::Deadline
        }
        _ => return, // unexpected vector (spurious APIC): ignore
    };
    // SAFETY: single core, interrupts off: nothing else touches HOOK/CURRENT now. CURRENT
    // points to a context the hook handed out under the `Hook` contract.
    let (hook, current) = unsafe { (*HOOK.get(), &mut *CURRENT.get()) };
    let mut cur: Option<&mut X86Context> = match (from_user, current) {
        // SAFETY: per the `Hook` contract the context is valid and unaliased until now.
        (true, Some(p)) => Some(unsafe { p.as_mut() }),
        _ => None,
    };
    if let Some(ctx) = cur.as_deref_mut() {
        save(frame, ctx);
    }
    let next = match hook {
        Some(h) => h(event, cur),
        None => Next::Idle,
    };
    resume(next, frame);
}

fn resume(next: Next, frame: &mut TrapFrame) {
    match next {
        Next::User(p) => {
            // SAFETY: per the `Hook` contract `p` is a valid, unaliased context.
            let ctx = unsafe { p.as_ref() };
            if !is_canonical(ctx.regs[word::RIP]) || !is_canonical(ctx.regs[word::RSP]) {
                // iretq to a non-canonical RIP/RSP would fault in kernel mode: refuse.
                crate::kprintln!("kernel: thread has non-canonical rip/rsp, not resumed");
                // SAFETY: single core, interrupts off.
                unsafe { *CURRENT.get() = None };
                idle_frame(frame);
                return;
            }
            // SAFETY: single core, interrupts off.
            unsafe { *CURRENT.get() = Some(p) };
            load(ctx, frame);
        }
        Next::Idle => {
            // SAFETY: single core, interrupts off.
            unsafe { *CURRENT.get() = None };
            idle_frame(frame);
        }
    }
}

/// Leave boot code for good and run `next` (a user thread or the idle loop).
///
/// # Safety
/// Must be called once, on the init stack (not the kernel trap stack), after
/// [`crate::tables::init`]; a user context must satisfy the [`Hook`] contract.
pub unsafe fn start(next: Next) -> ! {
    let top = kstack_top() - core::mem::size_of::<TrapFrame>() as u64;
    let frame = top as *mut TrapFrame;
    // SAFETY: the top of the kernel stack is unused while boot runs on the init stack.
    let f = unsafe {
        frame.write(TrapFrame::default());
        &mut *frame
    };
    resume(next, f);
    // SAFETY: `frame` holds a complete iretq frame at the top of the kernel stack.
    unsafe { x86_64_enter_frame(frame) }
}
