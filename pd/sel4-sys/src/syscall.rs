//! Every MCS system call, libsel4-style: MR0–3 travel in registers and are copied from/to the
//! IPC buffer around the trap, so callers always use the IPC buffer's `msg[]` (`set_mr`/`get_mr`).

use crate::abi::Syscall;
use crate::arch::{raw, Regs};
use crate::ipc_buffer::{get_mr, set_mr};
use crate::message::MessageInfo;

fn out_regs(cap: u64, info: MessageInfo) -> Regs {
    Regs { cap, info: info.0, mr: [get_mr(0), get_mr(1), get_mr(2), get_mr(3)], reply: 0, dest: 0 }
}

fn store_mrs(r: &Regs) {
    for (i, v) in r.mr.iter().enumerate() {
        set_mr(i, *v);
    }
}

/// `seL4_Send(dest, info)`: blocking send.
pub fn send(dest: u64, info: MessageInfo) {
    raw(Syscall::Send as i64, out_regs(dest, info));
}

/// `seL4_NBSend(dest, info)`: non-blocking send (dropped if nobody waits).
pub fn nb_send(dest: u64, info: MessageInfo) {
    raw(Syscall::NBSend as i64, out_regs(dest, info));
}

/// `seL4_Signal(dest)`: signal a notification (a Send with an empty message).
pub fn signal(dest: u64) {
    raw(Syscall::Send as i64, Regs { cap: dest, ..Regs::default() });
}

/// `seL4_Call(dest, info)`: send and wait for the reply; returns the reply's MessageInfo.
pub fn call(dest: u64, info: MessageInfo) -> MessageInfo {
    let r = raw(Syscall::Call as i64, out_regs(dest, info));
    store_mrs(&r);
    MessageInfo(r.info)
}

/// A receiving syscall `sys` with inputs `regs`: MR0–3 go to the IPC buffer; returns
/// (MessageInfo, badge).
fn receive(sys: Syscall, regs: Regs) -> (MessageInfo, u64) {
    let r = raw(sys as i64, regs);
    store_mrs(&r);
    (MessageInfo(r.info), r.cap)
}

/// `seL4_Recv(src, &badge, reply)`: returns (MessageInfo, badge).
pub fn recv(src: u64, reply: u64) -> (MessageInfo, u64) {
    receive(Syscall::Recv, Regs { cap: src, reply, ..Regs::default() })
}

/// `seL4_NBRecv(src, &badge, reply)`: returns (MessageInfo, badge); badge 0 if nothing came.
pub fn nb_recv(src: u64, reply: u64) -> (MessageInfo, u64) {
    receive(Syscall::NBRecv, Regs { cap: src, reply, ..Regs::default() })
}

/// `seL4_Wait(src, &badge)`: receive without a reply object.
pub fn wait(src: u64) -> (MessageInfo, u64) {
    receive(Syscall::Wait, Regs { cap: src, ..Regs::default() })
}

/// `seL4_NBWait(src, &badge)` (also `seL4_Poll`).
pub fn nb_wait(src: u64) -> (MessageInfo, u64) {
    receive(Syscall::NBWait, Regs { cap: src, ..Regs::default() })
}

/// `seL4_ReplyRecv(src, info, &badge, reply)`: reply through `reply`, then Recv on `src`.
pub fn reply_recv(src: u64, info: MessageInfo, reply: u64) -> (MessageInfo, u64) {
    receive(Syscall::ReplyRecv, Regs { reply, ..out_regs(src, info) })
}

/// `seL4_NBSendRecv(dest, info, src, &badge, reply)`.
pub fn nb_send_recv(dest: u64, info: MessageInfo, src: u64, reply: u64) -> (MessageInfo, u64) {
    receive(Syscall::NBSendRecv, Regs { reply, dest, ..out_regs(src, info) })
}

/// `seL4_NBSendWait(dest, info, src, &badge)`: `dest` travels in the reply register.
pub fn nb_send_wait(dest: u64, info: MessageInfo, src: u64) -> (MessageInfo, u64) {
    receive(Syscall::NBSendWait, Regs { reply: dest, ..out_regs(src, info) })
}

/// `seL4_Yield`.
pub fn yield_now() {
    raw(Syscall::Yield as i64, Regs::default());
}

/// `seL4_DebugPutChar(c)` (debug kernels).
pub fn debug_put_char(c: u8) {
    raw(Syscall::DebugPutChar as i64, Regs { cap: c as u64, ..Regs::default() });
}

/// `seL4_DebugHalt` (debug kernels).
pub fn debug_halt() {
    raw(Syscall::DebugHalt as i64, Regs::default());
}

/// `seL4_DebugDumpScheduler` (debug kernels).
pub fn debug_dump_scheduler() {
    raw(Syscall::DebugDumpScheduler as i64, Regs::default());
}

/// `seL4_DebugSnapshot` (debug kernels).
pub fn debug_snapshot() {
    raw(Syscall::DebugSnapshot as i64, Regs::default());
}

/// `seL4_DebugCapIdentify(cap)`: the kernel's cap tag of `cap` (debug kernels).
pub fn debug_cap_identify(cap: u64) -> u64 {
    raw(Syscall::DebugCapIdentify as i64, Regs { cap, ..Regs::default() }).cap
}

/// `seL4_DebugNameThread(tcb, name)`: the NUL-terminated name goes into the IPC buffer from
/// `msg[0]`; names longer than the buffer are truncated.
pub fn debug_name_thread(tcb: u64, name: &[u8]) {
    let max = crate::message::MSG_MAX_LENGTH * 8 - 1;
    let n = name.len().min(max);
    let mut word = 0u64;
    for i in 0..=n {
        let b = if i < n { name[i] } else { 0 };
        word |= (b as u64) << ((i % 8) * 8);
        if i % 8 == 7 || i == n {
            set_mr(i / 8, word);
            word = 0;
        }
    }
    raw(Syscall::DebugNameThread as i64, Regs { cap: tcb, ..Regs::default() });
}

/// `seL4_SetTLSBase(value)` (kernels with `SET_TLS_BASE_SELF`).
pub fn set_tls_base(value: u64) {
    raw(Syscall::SetTLSBase as i64, Regs { cap: value, ..Regs::default() });
}

/// Whether the kernel has `seL4_DebugPutChar` (`CONFIG_PRINTING`; set by
/// [`crate::set_kernel_config`], seL4's default until then).
pub(crate) static PRINTING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Whether the kernel has the debug system calls (`CONFIG_DEBUG_BUILD`; set by
/// [`crate::set_kernel_config`], seL4's default until then).
pub(crate) static DEBUG_BUILD: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Whether the configured kernel is a debug build (`DebugNameThread`, `DebugCapIdentify`, …
/// exist); code that names threads only for debugging checks this first, as libsel4 callers
/// test `CONFIG_DEBUG_BUILD`.
pub fn kernel_is_debug_build() -> bool {
    DEBUG_BUILD.load(core::sync::atomic::Ordering::Relaxed)
}

/// Writes `s` with `seL4_DebugPutChar`; nothing when the configured kernel does not print.
pub fn debug_puts(s: &str) {
    if !PRINTING.load(core::sync::atomic::Ordering::Relaxed) {
        return;
    }
    for b in s.bytes() {
        debug_put_char(b);
    }
}

/// A `core::fmt::Write` sink over `seL4_DebugPutChar`.
pub struct DebugWriter;

impl core::fmt::Write for DebugWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        debug_puts(s);
        Ok(())
    }
}
