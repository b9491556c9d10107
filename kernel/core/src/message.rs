//! Message registers, IPC buffer access and kernel replies (`replyFromKernel_*`).
//!
//! MR 0..3 are CPU registers; MR i ≥ 4 lives in the IPC buffer at byte offset 8·(i+1). The
//! IPC buffer is found through the thread's IPC-buffer frame cap and its `ipc_buffer` vaddr.

use kernel_hal::{Machine, PAddr, Reg, FAST_MESSAGE_REGISTERS};
use sel4_abi::message::ipc_buffer;
use sel4_abi::{CapRights, MessageInfo};

use crate::cap::Cap;
use crate::error::SyscallError;
use crate::kernel::Kernel;
use crate::kmem;
use crate::mdb::get_cap;
use crate::object::{Slot, Tcb, TcbSlot};

impl<M: Machine> Kernel<M> {
    /// seL4 `lookupIPCBuffer`: the physical address of `t`'s IPC buffer, if it has a usable
    /// one (a non-device frame cap; a receiver needs ReadWrite, a sender Read).
    pub fn ipc_buffer(&self, t: PAddr, is_receiver: bool) -> Option<PAddr> {
        let vaddr = self.tcb_read(t, |x| x.ipc_buffer);
        let slot = Slot(Tcb::<M::Context>::slot_addr(t, TcbSlot::IpcBuffer));
        match get_cap(&self.machine, slot) {
            Cap::Frame {
                paddr,
                size_bits,
                rights,
                device: false,
                ..
            } => {
                let ok = rights == CapRights::RW || (!is_receiver && rights.read());
                if !ok {
                    return None;
                }
                let off = vaddr & ((1u64 << size_bits) - 1) & !(ipc_buffer::SIZE - 1);
                Some(paddr + off)
            }
            _ => None,
        }
    }

    /// Message register `i` of `t` (registers for i < 4, else the IPC buffer `buf`; 0 when
    /// there is no buffer).
    pub fn get_mr(&self, t: PAddr, buf: Option<PAddr>, i: usize) -> u64 {
        if i < FAST_MESSAGE_REGISTERS {
            self.get_reg(t, Reg::Mr(i))
        } else if let Some(b) = buf {
            if i < sel4_abi::message::MSG_MAX_LENGTH as usize {
                kmem::read_word(&self.machine, b + ipc_buffer::mr_offset(i))
            } else {
                0
            }
        } else {
            0
        }
    }

    /// seL4 `setMR`: write message register `i` of `t`; returns the message length reached
    /// (i+1, or 4 when `i` ≥ 4 and there is no buffer).
    pub fn set_mr(&self, t: PAddr, buf: Option<PAddr>, i: usize, v: u64) -> usize {
        if i < FAST_MESSAGE_REGISTERS {
            self.set_reg(t, Reg::Mr(i), v);
            i + 1
        } else if let Some(b) = buf {
            if i < sel4_abi::message::MSG_MAX_LENGTH as usize {
                kmem::write_word(&self.machine, b + ipc_buffer::mr_offset(i), v);
            }
            i + 1
        } else {
            FAST_MESSAGE_REGISTERS
        }
    }

    /// Word `i` of `t`'s IPC buffer at byte offset `off` (0 without a buffer).
    pub fn ipc_buffer_word(&self, buf: Option<PAddr>, off: u64) -> u64 {
        match buf {
            Some(b) => kmem::read_word(&self.machine, b + off),
            None => 0,
        }
    }

    /// seL4 `replyFromKernel_error`: badge 0, label = error, error MRs.
    pub fn reply_error(&self, t: PAddr, e: &SyscallError) {
        let buf = self.ipc_buffer(t, true);
        let mut mrs = [0u64; 5];
        let n = e.to_mrs(&mut mrs);
        let mut len = 0;
        for (i, v) in mrs[..n].iter().enumerate() {
            len = self.set_mr(t, buf, i, *v);
        }
        self.set_reg(t, Reg::Cap, 0);
        self.set_reg(
            t,
            Reg::MsgInfo,
            MessageInfo::new(e.code() as u64, 0, 0, len as u64).to_word(),
        );
    }

    /// seL4 `replyFromKernel_success_empty`: badge 0, label 0, length 0.
    pub fn reply_success_empty(&self, t: PAddr) {
        self.set_reg(t, Reg::Cap, 0);
        self.set_reg(t, Reg::MsgInfo, MessageInfo::new(0, 0, 0, 0).to_word());
    }

    /// A successful kernel reply with return values `mrs` (label 0).
    pub fn reply_success(&self, t: PAddr, mrs: &[u64]) {
        let buf = self.ipc_buffer(t, true);
        let mut len = 0;
        for (i, v) in mrs.iter().enumerate() {
            len = self.set_mr(t, buf, i, *v);
        }
        self.set_reg(t, Reg::Cap, 0);
        self.set_reg(
            t,
            Reg::MsgInfo,
            MessageInfo::new(0, 0, 0, len as u64).to_word(),
        );
    }
}
