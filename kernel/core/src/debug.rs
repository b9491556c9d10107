//! Kernel diagnostics on the debug console (seL4's `CONFIG_PRINTING` messages), written
//! through [`kernel_hal::Machine::putchar`].
//!
//! Currently one message: a fault that could not be delivered because the thread has no
//! fault handler (seL4 `handleNoFaultHandler`), naming the fault, its address, the PC and
//! the thread, so a crashing root task is never silent.

use core::fmt::Write;

use kernel_hal::{Machine, PAddr, Reg};

use crate::fault::Fault;
use crate::kernel::Kernel;

/// `core::fmt` sink over the machine's debug console.
struct Console<'a, M: Machine>(&'a mut M);

impl<M: Machine> Write for Console<'_, M> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        s.bytes().for_each(|b| self.0.putchar(b));
        Ok(())
    }
}

/// Print `kernel: fault: thread "<name>" (tcb …) has no fault handler, suspended: <what>
/// (pc …)` for thread `t` and fault `f` (its registers already point at the faulting
/// instruction).
pub fn report_no_fault_handler<M: Machine>(k: &mut Kernel<M>, t: PAddr, f: &Fault) {
    let pc = k.get_reg(t, Reg::FaultIp);
    let name_bytes = k.tcb_read(t, |x| x.name);
    let len = name_bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_bytes.len());
    let name = core::str::from_utf8(&name_bytes[..len]).unwrap_or("?");
    let mut out = Console(&mut k.machine);
    let _ = write!(
        out,
        "kernel: fault: thread \"{}\" (tcb {:#x}) has no fault handler, suspended: ",
        name, t
    );
    let _ = match *f {
        Fault::VmFault {
            addr,
            fsr,
            instruction,
        } => write!(
            out,
            "vm fault on {} at {:#x} (pc {:#x}, fsr {:#x})",
            if instruction { "instruction" } else { "data" },
            addr,
            pc,
            fsr
        ),
        Fault::UserException { number, code } => {
            write!(
                out,
                "user exception {:#x} code {} (pc {:#x})",
                number, code, pc
            )
        }
        Fault::UnknownSyscall { number } => {
            write!(out, "unknown syscall {} (pc {:#x})", number as i64, pc)
        }
        Fault::CapFault {
            addr,
            in_recv_phase,
            ..
        } => write!(
            out,
            "cap fault on cptr {:#x} in {} phase (pc {:#x})",
            addr,
            if in_recv_phase { "receive" } else { "send" },
            pc
        ),
        Fault::Timeout { badge } => {
            write!(out, "timeout fault, sc badge {:#x} (pc {:#x})", badge, pc)
        }
        Fault::VcpuFault { hsr } => write!(out, "vcpu fault, hsr {:#x} (pc {:#x})", hsr, pc),
        Fault::VppiEvent { irq } => write!(out, "vppi event, irq {} (pc {:#x})", irq, pc),
    };
    let _ = writeln!(out);
}
