//! x86 I/O port caps: `seL4_X86_IOPortControl_Issue` and `seL4_X86_IOPort_In*/Out*`
//! (seL4 `decodeX86PortControlInvocation` / `decodeX86PortInvocation`).

use kernel_hal::Machine;
use sel4_abi::ArchLabel;

use crate::cap::Cap;
use crate::cspace::{ensure_empty, lookup_target_slot};
use crate::error::{KResult, SyscallError};
use crate::kernel::Kernel;
use crate::object::ThreadState;
use crate::syscall::InvocationArgs;

/// Mark ports `first..=last` issued (`true`) or free.
pub fn set_range<M: Machine>(k: &mut Kernel<M>, first: u16, last: u16, issued: bool) {
    for p in first as usize..=last as usize {
        let (w, b) = (p / 64, p % 64);
        if issued {
            k.io_ports_issued[w] |= 1 << b;
        } else {
            k.io_ports_issued[w] &= !(1 << b);
        }
    }
}

fn range_free<M: Machine>(k: &Kernel<M>, first: u16, last: u16) -> bool {
    (first as usize..=last as usize).all(|p| k.io_ports_issued[p / 64] & (1 << (p % 64)) == 0)
}

/// Decode and perform an IOPortControl or IOPort invocation.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let label = sel4_abi::arch_label_in(k.arch, &k.config, a.label);
    match a.cap {
        Cap::IoPortControl => {
            if label != Some(ArchLabel::IoPortControlIssue) {
                return Err(SyscallError::IllegalOperation);
            }
            let Some((root, _)) = a.extra.get(&k.machine, 0) else {
                return Err(SyscallError::TruncatedMessage);
            };
            if a.length < 4 {
                return Err(SyscallError::TruncatedMessage);
            }
            let first = (k.arg(a, 0) & 0xffff) as u16;
            let last = (k.arg(a, 1) & 0xffff) as u16;
            let index = k.arg(a, 2);
            let depth = k.arg(a, 3);
            if last < first {
                return Err(SyscallError::InvalidArgument(1));
            }
            if !range_free(k, first, last) {
                return Err(SyscallError::RevokeFirst);
            }
            let dest = lookup_target_slot(&k.machine, root, index, depth)?;
            ensure_empty(&k.machine, dest)?;
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            set_range(k, first, last, true);
            crate::cnode::cte_insert(k, Cap::IoPort { first, last }, a.slot, dest);
            Ok(())
        }
        Cap::IoPort { first, last } => {
            let (size, is_in) = match label {
                Some(ArchLabel::IoPortIn8) => (1u8, true),
                Some(ArchLabel::IoPortIn16) => (2, true),
                Some(ArchLabel::IoPortIn32) => (4, true),
                Some(ArchLabel::IoPortOut8) => (1, false),
                Some(ArchLabel::IoPortOut16) => (2, false),
                Some(ArchLabel::IoPortOut32) => (4, false),
                _ => return Err(SyscallError::IllegalOperation),
            };
            if a.length < if is_in { 1 } else { 2 } {
                return Err(SyscallError::TruncatedMessage);
            }
            let port = (k.arg(a, 0) & 0xffff) as u16;
            if port < first || port as u32 + size as u32 - 1 > last as u32 {
                return Err(SyscallError::IllegalOperation);
            }
            if is_in {
                let v = k.machine.io_port_in(port, size);
                if a.is_call {
                    k.reply_success(a.thread, &[v as u64]);
                }
            } else {
                let v = k.arg(a, 1) as u32;
                k.set_thread_state_raw(a.thread, ThreadState::Restart);
                k.machine.io_port_out(port, size, v);
            }
            Ok(())
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}
