//! Minimal runtime for bring-up x86_64 initial tasks: entry (sets its own stack, since seL4
//! starts the root task with RSP = 0), raw seL4 syscall stubs and a panic handler.
//!
//! The stubs follow seL4's x86_64 `syscall` convention: number in rdx, cap in rdi,
//! msginfo in rsi, MR0..3 in r10/r8/r9/r15, reply in r12; rcx and r11 are clobbered and
//! RSP is saved in rbx around the instruction (the kernel need not restore it).
#![no_std]

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
mod rt {
    use core::arch::{asm, global_asm};

    global_asm!(
        r#"
        .section .text.start, "ax"
        .global _start
    _start:
        lea rsp, [rip + __user_stack_top]
        xor ebp, ebp
        call user_main
        ud2

        .section .bss.user_stack, "aw", @nobits
        .balign 16
        .skip 16384
    __user_stack_top:
    "#
    );

    /// seL4_Yield (MCS number -11).
    pub const SYS_YIELD: i64 = -11;
    /// seL4_DebugPutChar (MCS number -12).
    pub const SYS_DEBUG_PUT_CHAR: i64 = -12;
    /// seL4_DebugHalt (MCS number -14).
    pub const SYS_DEBUG_HALT: i64 = -14;

    /// Make syscall `n` with `arg` in the cap register; returns the cap register.
    pub fn syscall1(n: i64, arg: u64) -> u64 {
        let ret: u64;
        // SAFETY: the syscall instruction only enters the kernel; every register the
        // kernel may write (badge, msginfo, MRs, rcx, r11) is declared clobbered, rsp is
        // kept in rbx (itself saved in a scratch register) around it.
        unsafe {
            asm!(
                "mov {save}, rbx",
                "mov rbx, rsp",
                "syscall",
                "mov rsp, rbx",
                "mov rbx, {save}",
                save = out(reg) _,
                inout("rdi") arg => ret,
                inout("rdx") n => _,
                out("rsi") _, out("r10") _, out("r8") _, out("r9") _, out("r15") _,
                out("rcx") _, out("r11") _,
            );
        }
        ret
    }

    /// `seL4_Call` (MCS number -1).
    pub const SYS_CALL: i64 = -1;
    /// `seL4_DebugCapIdentify` (MCS number -15).
    pub const SYS_DEBUG_CAP_IDENTIFY: i64 = -15;

    /// `seL4_Call(cap, info)` with MR0..MR3 in r10/r8/r9/r15 (further MRs and extra caps
    /// must already be in the IPC buffer). Returns (MessageInfo word, MR0..MR3).
    pub fn call(cap: u64, info: u64, mr: [u64; 4]) -> (u64, [u64; 4]) {
        let (i, m0, m1, m2, m3): (u64, u64, u64, u64, u64);
        // SAFETY: as in `syscall1`; the reply lands in rsi and r10/r8/r9/r15, declared as
        // outputs, rdi (badge) and r12 (reply cptr, 0) are clobbered.
        unsafe {
            asm!(
                "mov {save}, rbx",
                "mov rbx, rsp",
                "syscall",
                "mov rsp, rbx",
                "mov rbx, {save}",
                save = out(reg) _,
                inout("rdi") cap => _,
                inout("rsi") info => i,
                inout("r10") mr[0] => m0,
                inout("r8") mr[1] => m1,
                inout("r9") mr[2] => m2,
                inout("r15") mr[3] => m3,
                inout("r12") 0u64 => _,
                inout("rdx") SYS_CALL => _,
                out("rcx") _, out("r11") _,
            );
        }
        (i, [m0, m1, m2, m3])
    }

    /// `seL4_Recv` (MCS number -7).
    pub const SYS_RECV: i64 = -7;

    /// `seL4_Recv(cap, &badge, reply)`: block on the endpoint `cap` with the reply object
    /// `reply`. Returns (MessageInfo word, badge, MR0..MR3).
    pub fn recv(cap: u64, reply: u64) -> (u64, u64, [u64; 4]) {
        let (i, b, m0, m1, m2, m3): (u64, u64, u64, u64, u64, u64);
        // SAFETY: as in `call`; the message lands in rsi, rdi (badge) and r10/r8/r9/r15.
        unsafe {
            asm!(
                "mov {save}, rbx",
                "mov rbx, rsp",
                "syscall",
                "mov rsp, rbx",
                "mov rbx, {save}",
                save = out(reg) _,
                inout("rdi") cap => b,
                inout("rsi") 0u64 => i,
                out("r10") m0,
                out("r8") m1,
                out("r9") m2,
                out("r15") m3,
                inout("r12") reply => _,
                inout("rdx") SYS_RECV => _,
                out("rcx") _, out("r11") _,
            );
        }
        (i, b, [m0, m1, m2, m3])
    }

    /// `seL4_DebugCapIdentify(cap)`: the kernel's cap tag (0 for an empty slot).
    pub fn cap_identify(cap: u64) -> u64 {
        syscall1(SYS_DEBUG_CAP_IDENTIFY, cap)
    }

    /// A `core::fmt::Write` sink over `seL4_DebugPutChar`.
    pub struct Out;

    impl core::fmt::Write for Out {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            print(s);
            Ok(())
        }
    }

    /// Print formatted text through `seL4_DebugPutChar`, with a newline.
    #[macro_export]
    macro_rules! println {
        ($($arg:tt)*) => {{
            let _ = core::fmt::Write::write_fmt(&mut $crate::Out, format_args!($($arg)*));
            $crate::print("\n");
        }};
    }

    /// Print one byte on the kernel console.
    pub fn put_char(c: u8) {
        syscall1(SYS_DEBUG_PUT_CHAR, c as u64);
    }

    /// Give up the processor.
    pub fn yield_now() {
        syscall1(SYS_YIELD, 0);
    }

    /// Stop the system (debug kernels).
    pub fn debug_halt() {
        syscall1(SYS_DEBUG_HALT, 0);
    }

    /// Print a string.
    pub fn print(s: &str) {
        s.bytes().for_each(put_char);
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        print("user panic\n");
        loop {
            yield_now();
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use rt::*;
