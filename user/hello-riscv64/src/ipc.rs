//! Invoking capabilities with `seL4_Call`: message words beyond the four fast registers and
//! extra caps go through the task's IPC buffer.

use sel4_abi::message::ipc_buffer;
use sel4_abi::MessageInfo;

use crate::syscalls::call;

/// The task's IPC buffer at its virtual address (`seL4_BootInfo.ipcBuffer`).
pub struct Ipc(pub u64);

impl Ipc {
    fn write(&self, off: u64, v: u64) {
        // SAFETY: the kernel maps the IPC buffer page read-write for the task; callers pass
        // offsets below 1024 that are 8-byte aligned.
        unsafe { core::ptr::write_volatile((self.0 + off) as *mut u64, v) }
    }

    /// `seL4_Call` on `cptr` with `label`, message words `args` (at most 120) and extra caps
    /// `caps` (at most 3); returns the reply label (the seL4 error, 0 = success) and MR0.
    pub fn invoke(&self, cptr: u64, label: u64, args: &[u64], caps: &[u64]) -> (u64, u64) {
        let args = &args[..args.len().min(120)];
        let caps = &caps[..caps.len().min(3)];
        for (i, a) in args.iter().enumerate().skip(4) {
            self.write(ipc_buffer::mr_offset(i), *a);
        }
        for (i, c) in caps.iter().enumerate() {
            self.write(ipc_buffer::CAPS_OR_BADGES + 8 * i as u64, *c);
        }
        let mut mr = [0u64; 4];
        for (m, a) in mr.iter_mut().zip(args) {
            *m = *a;
        }
        let info = MessageInfo::new(label, 0, caps.len() as u64, args.len() as u64).to_word();
        let (reply, out) = call(cptr, info, mr);
        (MessageInfo::from_word(reply).label, out[0])
    }
}
