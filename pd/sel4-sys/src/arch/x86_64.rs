//! x86_64 trap: `syscall`; rdx number, rdi cap/badge, rsi msginfo, r10/r8/r9/r15 MR0–3,
//! r12 reply, r13 NBSendRecv destination (`sel4-abi.md` §2). `syscall`/`sysret` clobber rcx
//! and r11 and the kernel returns with rsp = 0, so rsp is kept in rbx across the trap (rbx
//! cannot be an asm operand, so it is pushed and popped around the sequence).

use super::Regs;

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut rdi, mut rsi, mut r10, mut r8, mut r9, mut r15) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `syscall` enters the kernel, which reads/writes only the registers declared here
    // (rcx/r11 are clobbered by the instruction itself); rsp is restored from rbx, and rbx
    // from the stack, before the asm block ends. Memory (the IPC buffer) may be accessed.
    unsafe {
        core::arch::asm!(
            "push rbx",
            "mov rbx, rsp",
            "syscall",
            "mov rsp, rbx",
            "pop rbx",
            inout("rdi") rdi, inout("rsi") rsi, inout("r10") r10, inout("r8") r8,
            inout("r9") r9, inout("r15") r15,
            in("r12") r.reply, in("r13") r.dest, inout("rdx") sys => _,
            out("rcx") _, out("r11") _,
        );
    }
    Regs { cap: rdi, info: rsi, mr: [r10, r8, r9, r15], reply: 0, dest: 0 }
}
