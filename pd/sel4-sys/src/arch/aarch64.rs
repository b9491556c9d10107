//! AArch64 trap: `svc #0`; x7 number, x0 cap/badge, x1 msginfo, x2–x5 MR0–3, x6 reply,
//! x8 NBSendRecv destination (`sel4-abi.md` §2). All other registers are preserved.

use super::Regs;

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut x0, mut x1, mut x2, mut x3, mut x4, mut x5) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `svc #0` enters the kernel, which only reads/writes the registers declared here
    // and preserves every other register; memory (the IPC buffer) may be read or written.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") x0, inout("x1") x1, inout("x2") x2, inout("x3") x3,
            inout("x4") x4, inout("x5") x5,
            in("x6") r.reply, in("x7") sys, in("x8") r.dest,
            options(nostack),
        );
    }
    Regs { cap: x0, info: x1, mr: [x2, x3, x4, x5], reply: 0, dest: 0 }
}
