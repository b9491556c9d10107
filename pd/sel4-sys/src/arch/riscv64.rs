//! RISC-V 64 trap: `ecall`; a7 number, a0 cap/badge, a1 msginfo, a2–a5 MR0–3, a6 reply,
//! t0 NBSendRecv destination (`sel4-abi.md` §2). All other registers are preserved.

use super::Regs;

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut a0, mut a1, mut a2, mut a3, mut a4, mut a5) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `ecall` enters the kernel, which only reads/writes the registers declared here
    // and preserves every other register; memory (the IPC buffer) may be read or written.
    unsafe {
        core::arch::asm!(
            "ecall",
            inout("a0") a0, inout("a1") a1, inout("a2") a2, inout("a3") a3,
            inout("a4") a4, inout("a5") a5,
            in("a6") r.reply, in("a7") sys, in("t0") r.dest,
            options(nostack),
        );
    }
    Regs { cap: a0, info: a1, mr: [a2, a3, a4, a5], reply: 0, dest: 0 }
}
