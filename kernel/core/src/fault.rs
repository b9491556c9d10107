//! Faults: the [`Fault`] a thread can raise and the delivery entry point
//! ([`handle_fault`]), plus the arch-facing user-fault entry.
//!
//! Delivery goes to the endpoint cap in the TCB's fault-handler slot (timeout faults: the
//! timeout-handler slot) as a Call (`crate::ipc::send_fault_ipc`); the message layout is
//! built when the handler receives it. A thread without a valid handler becomes Inactive.
//! The PC a fault message reports is the thread's restart PC (seL4's FaultIP: the syscall
//! instruction for CapFault and UnknownSyscall, the faulting instruction otherwise), and a
//! restarting reply resumes the thread there (`crate::ipc::do_reply_transfer`).

use kernel_hal::{Machine, PAddr};

use crate::error::LookupFailure;
use crate::kernel::{Kernel, UserFault};
use crate::object::ThreadState;

/// A fault raised by a thread (`seL4_Fault_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A cap lookup failed on a blocking syscall.
    CapFault {
        /// The cptr.
        addr: u64,
        /// Whether it happened in the receive phase.
        in_recv_phase: bool,
        /// Why.
        failure: LookupFailure,
    },
    /// An unknown syscall number.
    UnknownSyscall {
        /// The number (as a word).
        number: u64,
    },
    /// A user exception.
    UserException {
        /// Exception number.
        number: u64,
        /// Code.
        code: u64,
    },
    /// A VM fault.
    VmFault {
        /// Address.
        addr: u64,
        /// Fault status.
        fsr: u64,
        /// Instruction fetch.
        instruction: bool,
    },
    /// A timeout fault (MCS) with the SC's badge.
    Timeout {
        /// SC badge.
        badge: u64,
    },
    /// An exception of a thread at EL1 under a VCPU (or any other trap the ARM hypervisor
    /// kernel does not handle itself): `seL4_Fault_VCPUFault`, MR0 = the HSR (ESR_EL2).
    VcpuFault {
        /// The syndrome.
        hsr: u64,
    },
    /// A virtual PPI (the guest's virtual timer) fired while the thread's guest ran
    /// (`seL4_Fault_VPPIEvent`, MR0 = the IRQ); the kernel keeps it masked until the VMM
    /// answers `ARMVCPUAckVPPI`.
    VppiEvent {
        /// The interrupt.
        irq: u64,
    },
}

impl Fault {
    /// The fault label.
    pub fn fault_type(&self) -> sel4_abi::FaultType {
        use sel4_abi::FaultType as F;
        match self {
            Fault::CapFault { .. } => F::CapFault,
            Fault::UnknownSyscall { .. } => F::UnknownSyscall,
            Fault::UserException { .. } => F::UserException,
            Fault::VmFault { .. } => F::VmFault,
            Fault::Timeout { .. } => F::Timeout,
            Fault::VcpuFault { .. } => F::VcpuFault,
            Fault::VppiEvent { .. } => F::VppiEvent,
        }
    }
}

/// seL4 `handleFault`: record the fault in the TCB and deliver it to the thread's fault
/// handler (`crate::ipc::send_fault_ipc`); if it cannot be delivered, the thread becomes
/// Inactive.
pub fn handle_fault<M: Machine>(k: &mut Kernel<M>, t: PAddr, f: Fault) {
    let mut words = [0u64; 4];
    words[0] = f.fault_type() as u64;
    let mut lf = [0u64; 4];
    match f {
        Fault::CapFault {
            addr,
            in_recv_phase,
            failure,
        } => {
            words[1] = addr;
            words[2] = in_recv_phase as u64;
            failure.to_words(&mut lf);
        }
        Fault::UnknownSyscall { number } => words[1] = number,
        Fault::UserException { number, code } => {
            words[1] = number;
            words[2] = code;
        }
        Fault::VmFault {
            addr,
            fsr,
            instruction,
        } => {
            words[1] = addr;
            words[2] = fsr;
            words[3] = instruction as u64;
        }
        Fault::Timeout { badge } => words[1] = badge,
        Fault::VcpuFault { hsr } => words[1] = hsr,
        Fault::VppiEvent { irq } => words[1] = irq,
    }
    k.tcb_mut(t, (words, lf), |tcb, (words, lf)| {
        tcb.fault = words;
        tcb.lookup_failure = lf;
    });
    if !crate::ipc::send_fault_ipc(k, t, &f) {
        crate::debug::report_no_fault_handler(k, t, &f);
        // The fault stays recorded (as seL4's tcbFault does) until the thread restarts.
        crate::sched::set_blocked(k, t, ThreadState::Inactive);
    }
}

impl<M: Machine> Kernel<M> {
    /// Handle a non-syscall exception of the current thread (registers already saved).
    pub fn handle_user_fault(&mut self, f: UserFault) {
        crate::sched::on_kernel_entry(self);
        let t = self.cur_thread;
        let fault = match f {
            UserFault::VmFault {
                addr,
                fsr,
                instruction,
            } => Fault::VmFault {
                addr,
                fsr,
                instruction,
            },
            UserFault::UserException { number, code } => Fault::UserException { number, code },
        };
        // seL4 acts on the fault only if the budget check passes (`checkBudgetRestart`);
        // otherwise the thread re-executes the faulting instruction when it next runs, and
        // faults again with budget.
        if crate::sched::check_budget_restart(self) {
            handle_fault(self, t, fault);
        }
        crate::sched::schedule(self);
        self.activate_vspace();
    }

    /// ARM hypervisor kernels: a synchronous exception of the current thread that is neither
    /// a system call nor an abort nor an undefined instruction (seL4's `handleVCPUFault`):
    /// delivered as `seL4_Fault_VCPUFault` with the syndrome `hsr`. The fault's IP is the
    /// preferred return address the entry recorded (for a trapped `smc`, the `smc` itself);
    /// a reply resumes there, so the handler moves the PC on with `TCB_WriteRegisters`.
    pub fn handle_vcpu_fault(&mut self, hsr: u64) {
        crate::sched::on_kernel_entry(self);
        let t = self.cur_thread;
        if crate::sched::check_budget_restart(self) {
            handle_fault(self, t, Fault::VcpuFault { hsr });
        }
        crate::sched::schedule(self);
        self.activate_vspace();
    }

    /// ARM hypervisor kernels: virtual PPI `irq` fired while the current thread's guest ran
    /// (seL4's `VPPIEvent`; the platform has masked it and marked the VCPU): deliver a
    /// `seL4_Fault_VPPIEvent` to the thread's fault handler. The thread's IP is where the
    /// interrupt found it, so a reply resumes it there.
    pub fn handle_vppi_event(&mut self, irq: u64) {
        crate::sched::on_kernel_entry(self);
        let t = self.cur_thread;
        if crate::sched::check_budget_restart(self) {
            handle_fault(self, t, Fault::VppiEvent { irq });
        }
        crate::sched::schedule(self);
        self.activate_vspace();
    }
}
